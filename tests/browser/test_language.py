"""The tablet's words: German dates whatever the browser's language, plurals in both languages, and a badge that
counts only the worker's own changes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support import clock as pinned
from tests.support.accounts import Org
from tests.support.live import LiveServer
from tests.support.tablet import TABLET_SIZES, new_tablet, seed_case, server_records, setup_device, until

pytestmark = [pytest.mark.browser]

BERLIN = ZoneInfo("Europe/Berlin")
GERMAN_DAY = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")


def german(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def berlin_today() -> dt.date:
    """Today for the tablets of these tests, whose browsers run in Berlin's time zone (an hour or two ahead of a
    machine on UTC, so around midnight a day ahead)."""
    return pinned.today()


async def english_browser_tablet(browser: Browser, base_url: str) -> Page:
    """A tablet whose browser speaks US English (its own date inputs would show 11/29/2026, 10:15 AM)."""
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="en-US", timezone_id=BERLIN.key)
    page = await new_tablet(context)
    await setup_device(page, base_url)
    assert await page.evaluate("navigator.language") == "en-US"
    return page


async def test_dates_are_written_and_typed_as_tt_mm_jjjj_in_an_english_browser_with_a_keyboard_calendar(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id), zone=BERLIN)
    page = await english_browser_tablet(browser, live_server.url)
    await page.get_by_role("link", name=seeded.title).first.click()
    plan = page.locator("form[aria-labelledby=p-plan]")
    when = plan.get_by_label("Termin")
    time = plan.get_by_label("Uhrzeit (HH:MM)")
    # The suggestion is tomorrow at ten, written the German way.
    tomorrow = berlin_today() + dt.timedelta(days=1)
    await expect(when).to_have_value(german(tomorrow))
    await expect(time).to_have_value("10:00")
    await expect(when).to_have_attribute("placeholder", "TT.MM.JJJJ")

    # Short forms are understood and written out; an impossible day is refused with a German message.
    soon = berlin_today() + dt.timedelta(days=3)
    await when.fill(f"{soon.day}.{soon.month}.{soon.year % 100}")
    await time.fill("930")
    await time.press("Tab")
    await expect(when).to_have_value(german(soon))
    await expect(time).to_have_value("09:30")
    await when.fill("31.02.2027")
    await when.press("Tab")
    await expect(when).to_have_attribute("aria-invalid", "true")
    assert "TT.MM.JJJJ" in await when.evaluate("el => el.validationMessage")
    await plan.get_by_role("button", name="Besuch planen").click()
    await expect(plan.get_by_role("alert")).to_have_text("Bitte Datum und Uhrzeit angeben.")

    # The calendar: opens on the field's day, arrows move, Escape closes and gives the focus back.
    await when.fill(german(soon))
    await when.press("Tab")
    opener = plan.get_by_role("button", name="Kalender öffnen")
    await opener.click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await page.screenshot(path=screenshots / "calendar-landscape.png")
    focused = page.locator(":focus")
    await expect(focused).to_have_attribute("data-day", soon.isoformat())
    # A sync that finishes while the calendar is open leaves the screen under it as it is.
    await page.evaluate("import('/static/js/sync.js').then((sync) => sync.syncNow())")
    await expect(focused).to_have_attribute("data-day", soon.isoformat())
    await page.keyboard.press("ArrowRight")
    await expect(focused).to_have_attribute("data-day", (soon + dt.timedelta(days=1)).isoformat())
    for _ in range(6):  # Tab stays inside the dialog
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(opener).to_be_focused()
    await expect(when).to_have_value(german(soon))  # closing picks nothing

    # A week later by keyboard, picked with Enter; the time stays.
    await opener.click()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    week_later = soon + dt.timedelta(days=7)
    await expect(when).to_have_value(german(week_later))
    await expect(time).to_have_value("09:30")
    # A month's page by touch: the next month's 1st.
    await opener.click()
    await dialog.get_by_role("button", name="Nächster Monat").click()
    first = (week_later.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    await dialog.locator(f"[data-day='{first.isoformat()}']").click()
    await expect(when).to_have_value(german(first))

    await plan.get_by_role("button", name="Besuch planen").click()
    await expect(page.get_by_text("Besuch geplant")).to_be_visible()
    planned = [
        r["fields"]["planned_at"]
        for r in await until_visits(page, live_server.url, seeded.case_id)
        if r["fields"]["planned_at"].startswith(first.isoformat())
    ]
    assert planned, "the planned visit did not reach the server"
    assert dt.datetime.fromisoformat(planned[0]).astimezone(BERLIN).strftime("%H:%M") == "09:30"

    # In English the app still writes days as DD.MM.YYYY, and says so.
    await page.get_by_role("button", name="EN – English").click()
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    await expect(page.locator("form[aria-labelledby=p-plan]").get_by_label("When")).to_have_attribute(
        "placeholder", "DD.MM.YYYY"
    )
    await expect(page.locator("form[aria-labelledby=p-plan]").get_by_label("When")).to_have_value(GERMAN_DAY)


async def until_visits(page: Page, base_url: str, case_id: str) -> list[dict[str, object]]:
    """The case's visits on the server once the tablet sent the new one."""
    await until(page, """async () => (await (await import("/static/js/outbox.js")).outboxCounts()).total === 0""")
    return [r for r in await server_records(base_url, case_id) if r["kind"] == "visit"]


async def test_plurals_and_tomorrow_read_right_in_german_and_english(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    await seed_case(
        live_server.url, title="Räumungsklage Birkenweg", worker_id=str(org.worker1_id), deadline_days=1, zone=BERLIN
    )
    page = await english_browser_tablet(browser, live_server.url)
    today = page.locator("main")
    await expect(today.get_by_text("Gerichtstermin morgen").first).to_be_visible()
    await expect(today.get_by_text(re.compile(r"in 1 Tag"))).to_have_count(0)

    # One change offline: the badge says "1 Änderung", not "1 Änderungen".
    await page.context.set_offline(True)
    await page.get_by_role("link", name="Räumungsklage Birkenweg").first.click()
    await page.locator("form[aria-labelledby=p-contact]").get_by_role("button", name="Kontakt speichern").click()
    badge = page.locator("#badge-sync")
    await expect(badge).to_have_text("1")
    await expect(badge).to_have_attribute("aria-label", "1 Änderung noch nicht übertragen")

    await page.get_by_role("button", name="EN – English").click()
    await expect(badge).to_have_attribute("aria-label", "1 change not sent yet")
    await page.get_by_role("link", name="Today").click()
    await expect(page.locator("main").get_by_text("Court date tomorrow").first).to_be_visible()
    await page.get_by_role("link", name="Räumungsklage Birkenweg").first.click()
    await page.locator("form[aria-labelledby=p-contact]").get_by_role("button", name="Save contact").click()
    await expect(badge).to_have_attribute("aria-label", "2 changes not sent yet")
    await page.get_by_role("button", name="DE – Deutsch").click()
    await expect(badge).to_have_attribute("aria-label", "2 Änderungen noch nicht übertragen")


async def test_follow_ups_the_tablet_derives_are_not_counted_as_the_workers_changes(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    await seed_case(live_server.url, title="Mietrückstand Ahornweg", worker_id=str(org.worker1_id), deadline_days=3)
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await new_tablet(context)
    await setup_device(page, live_server.url)
    await context.set_offline(True)
    # New follow-ups, derived offline from a legal event the worker records: one is the worker's, the rest are not.
    await page.evaluate(
        """async () => {
          const data = await import("/static/js/data.js");
          const [kase] = (await data.kinds("case")).case;
          const at = new Date(Date.now() + 20 * 86400000);
          at.setHours(9, 0, 0, 0);
          await data.create("legal_event", kase.id, { type: "court_date", scheduled_at: at.toISOString() });
          await data.followUps();
        }"""
    )
    counts = await page.evaluate("""async () => (await import("/static/js/outbox.js")).outboxCounts()""")
    assert counts["own"] == 1, counts
    assert counts["generated"] >= 1, counts
    badge = page.locator("#badge-sync")
    await expect(badge).to_have_text("1")
    await page.get_by_role("link", name="Sync-Status").click()
    await expect(page.locator("#waiting-count")).to_contain_text(
        f"davon {counts['generated']} automatisch aus Fristen und Nachfragen erzeugte Aufgabe"
    )
    await context.close()
