"""Legal deadlines on the tablet (docs/legal.md): a Räumungsklage entered offline shows the Schonfrist and the
Verteidigungsanzeige at once, on the case and on "Heute"; a Versäumnisurteil adds its Einspruch deadline; the phase
follows; the server's deadlines match the tablet's; the rules run in Chromium as in Python."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from server.cli import main as cli_main
from server.records.calendar import Calendar, Region
from server.records.deadlines import rules
from server.settings import Settings
from tests.support import clock as pinned
from tests.support.accounts import PASSWORD, Org
from tests.support.clock import CALENDAR, TestClock, calendar_matrix
from tests.support.live import LiveServer
from tests.support.syncing import Device
from tests.support.tablet import _login, last_sync, seed_case, wait_synced, worker_tablet
from tests.unit.test_deadlines import CASES, full

pytestmark = [pytest.mark.browser]


day = pinned.day


async def add_event(page: Page, title: str, kind: str, **dates: str) -> None:
    await page.get_by_role("link", name="Neu: Fristen, Schreiben und Termine").click()
    await page.get_by_label("Art", exact=True).select_option(kind)
    labels = {"served_on": "Zugestellt am (Datum auf dem Umschlag)", "dated_on": "Datum des Schreibens"}
    for name, value in dates.items():
        if name == "notice_kind":
            await page.get_by_label("Art der Kündigung").select_option(value)
        else:
            await page.get_by_label(labels[name]).fill(value)
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()


async def shot(page: Page, screenshots: Path, name: str, focus: str) -> None:
    """The screen at both tablet sizes, scrolled to ``focus``."""
    for width, height in ((1024, 768), (768, 1024)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.locator(focus).scroll_into_view_if_needed()
        await page.evaluate("document.getElementById('toast').hidden = true")  # a passing toast is not the screen
        await page.screenshot(path=str(screenshots / f"{name}-{width}x{height}.png"))
    await page.set_viewport_size({"width": 1024, "height": 768})


@calendar_matrix
async def test_a_lawsuit_entered_offline_shows_its_deadlines_at_once(
    browser: Browser,
    live_server: LiveServer,
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    screenshots: Path,
    clock: TestClock,
) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    assert await anyio.to_thread.run_sync(lambda: cli_main(["set-region", "DE", "BE"])) == 0
    seeded = await seed_case(
        live_server.url, title="Mietrückstand Lindenweg", worker_id=str(org.worker1_id), deadline_days=40
    )
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await context.set_offline(True)
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    title = seeded.title
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()

    # Served 50 days ago: the Verteidigungsanzeige has passed, the Schonfrist runs for about ten more days.
    await add_event(page, title, "notice_to_quit", notice_kind="both", served_on=day(-80))
    await add_event(page, title, "eviction_lawsuit", served_on=day(-50))
    deadlines = page.locator("#case-deadlines")
    await expect(deadlines.locator("[data-rule='de.schonfrist']")).to_contain_text("§ 569 Abs. 3 Nr. 2 BGB")
    await expect(deadlines.locator("[data-rule='de.verteidigungsanzeige']")).to_contain_text("überfällig")
    await expect(page.locator(".case-head")).to_contain_text("gerichtlich")
    await page.get_by_role("link", name="Heute").click()
    listed = page.locator("ul.deadlines")
    await expect(listed).to_contain_text("Schonfrist")
    await expect(listed).to_contain_text("Verteidigungsanzeige")

    # A Versäumnisurteil served today adds its Einspruch deadline: two weeks, moved to the next working day in Berlin
    # when they end on a weekend or a holiday (§ 222 Abs. 2 ZPO). "Heute" lists it when it falls within 14 days.
    einspruch = Calendar(Region("DE", "BE")).next_working_day(clock.today() + dt.timedelta(days=14))
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    await add_event(page, title, "default_judgment", served_on=day(0))
    shown = deadlines.locator("[data-rule='de.einspruch_vu']")
    await expect(shown).to_contain_text("§ 339 Abs. 1 ZPO")
    await expect(shown).to_contain_text(einspruch.strftime("%d.%m.%Y"))
    photograph = clock.instant == CALENDAR[0]  # the screenshots are of one day, not of each
    if photograph:
        await shot(page, screenshots, "fristen", "#case-deadlines")
    await page.get_by_role("link", name="Heute").click()
    if einspruch <= clock.today() + dt.timedelta(days=14):
        await expect(listed).to_contain_text("Einspruch gegen das Versäumnisurteil")
    else:
        await expect(listed).to_contain_text("Schonfrist")  # the list is drawn, without the later deadline
        await expect(listed).not_to_contain_text("Einspruch gegen das Versäumnisurteil")
    if photograph:
        await shot(page, screenshots, "heute-fristen", "ul.deadlines")
    assert page.errors == []  # type: ignore[attr-defined]

    tablet = await page.evaluate(TABLET_DEADLINES, seeded.case_id)
    moment = await last_sync(page)
    await context.set_offline(False)
    await wait_synced(page, moment)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            "/api/auth/login",
            json={"username": "supervisor", "password": PASSWORD, "device_name": "Büro", "device_id": None},
        )
        assert response.status_code == 200
        detail = (await client.get(f"/api/cases/{seeded.case_id}")).json()
    server = [[d["rule"], d["due_on"], d["record_id"]] for d in detail["deadlines"]]
    assert server == tablet
    assert {"de.schonfrist", "de.verteidigungsanzeige", "de.einspruch_vu"} <= {rule for rule, *_ in server}
    await context.close()


TABLET_DEADLINES = """async (caseId) => {
  const data = await import("/static/js/data.js");
  const legal = await import("/static/js/legal.js");
  const records = (await data.caseRecords(caseId)).filter((r) => !r.deleted);
  const kase = records.find((r) => r.kind === "case");
  return (await legal.forCase(kase, records)).map((d) => [d.rule, d.due_on, d.record_id]);
}"""


async def test_the_rules_run_in_chromium_as_in_python(browser: Browser, live_server: LiveServer) -> None:
    page = await browser.new_page()
    await page.goto(live_server.url)
    inputs: list[dict[str, Any]] = []
    for _, region, case, events, apps, today, _ in CASES:
        listing = Calendar(Region(*region)).listing(dt.date.fromisoformat(today))
        inputs.append(
            {
                "country": region[0],
                "holidays": [d.isoformat() for d in listing.holidays],
                "case": case,
                "events": [[str(uuid.UUID(int=i + 1)), f] for i, f in enumerate(events)],
                "apps": [[str(uuid.UUID(int=100 + i)), f] for i, f in enumerate(apps)],
                "today": today,
            }
        )
    found = await page.evaluate(
        """async ([table, inputs]) => {
          const m = await import("/static/js/deadlines.js");
          return inputs.map((c) => m.compute(table, c.country, m.daysOff(c.holidays), c.case, c.events, c.apps, c.today)
            .map((d) => [d.rule, d.due_on, d.unavailable, d.provisional || [], d.warning || null]));
        }""",
        [json.loads(json.dumps({"rules": rules()})), inputs],
    )
    assert found == [full(expected) for *_, expected in CASES]
    await page.close()


async def test_an_earlier_version_1_assessment_stays_readable(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, title="Mietrückstand Lindenweg", worker_id=str(org.worker1_id))
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        device = Device(client, await _login(client, "supervisor"))
        old = {
            "form_version": 1,
            "housing": {"net_rent_cents": 51240, "tenancy_since": "2019-04-01"},
            "completed_at": (pinned.now() - dt.timedelta(days=40)).isoformat(),
        }
        (result,) = await device.push(device.put("assessment", str(uuid.uuid4()), seeded.case_id, old))
        assert result["status"] == "applied"
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await page.evaluate(f"location.hash = '#/einschaetzung/{seeded.case_id}/housing'")
    earlier = page.locator("[data-earlier=housing]")
    await expect(earlier).to_contain_text("512,40")
    await expect(earlier).to_contain_text("01.04.2019")
    await expect(page.get_by_label("Nettokaltmiete (€)")).to_have_count(0)  # not asked again
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


RETURN_VISIT = """async (visitedAt) => (await import("/static/js/panels/day.js")).returnVisitAt(visitedAt)"""


async def test_a_return_visit_is_suggested_two_working_days_later_across_holidays(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    """After "nicht angetroffen" on Wednesday 23 December 2026, two working days later is Monday 28 December, not
    Christmas Day: the holidays the deadlines use count for return visits too."""
    await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    suggested = {
        "2026-12-23T10:00:00+01:00": "2026-12-28T10:00",  # Christmas Day and Boxing Day off
        "2026-12-31T09:30:00+01:00": "2027-01-05T09:30",  # New Year's Day, then the weekend
        "2027-03-25T14:00:00+01:00": "2027-03-31T14:00",  # Good Friday to Easter Monday: Tuesday, Wednesday
        "2026-12-09T10:00:00+01:00": "2026-12-11T10:00",  # an ordinary Wednesday
    }
    for visited, expected in suggested.items():
        assert await page.evaluate(RETURN_VISIT, visited) == expected, visited
    await context.close()


async def test_the_closing_warning_counts_the_deadlines_the_case_shows_in_plain_plurals(
    browser: Browser, live_server: LiveServer, org: Org, clock: TestClock
) -> None:
    """A lawsuit served three days ago shows its computed deadlines on the case; the closing panel warns of exactly
    as many, worded as a person would ("2 offene Fristen", never "Frist(en)")."""
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id), deadline_days=40)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        boss = Device(client, await _login(client, "supervisor"))
        lawsuit = {"type": "eviction_lawsuit", "served_on": clock.day(-3)}
        notice = {"type": "notice_to_quit", "notice_kind": "both", "served_on": clock.day(-40)}
        results = await boss.push(
            boss.put("legal_event", str(uuid.uuid4()), seeded.case_id, notice),
            boss.put("legal_event", str(uuid.uuid4()), seeded.case_id, lawsuit),
        )
        assert {r["status"] for r in results} == {"applied"}
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    shown = page.locator("#case-deadlines [data-rule]")
    await expect(shown.first).to_be_visible()
    count = await shown.count()
    assert count >= 2
    warning = page.locator("#closing-open-work")
    await expect(warning).to_contain_text(f"{count} offene Fristen")
    assert "(en)" not in await warning.inner_text()
    assert "(n)" not in await warning.inner_text()
    await context.close()


async def test_the_schonfrist_shows_from_the_courts_letter_provisional_then_sure_with_the_hilfsweise_warning(
    browser: Browser,
    live_server: LiveServer,
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    screenshots: Path,
) -> None:
    """The first contact, Wednesday 9 December 2026, offline at the door: only the court's notice to the Jobcenter
    is at hand. The Schonfrist shows at once, provisional, and becomes sure as the letters are recorded."""
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    assert await anyio.to_thread.run_sync(lambda: cli_main(["set-region", "DE", "BE"])) == 0
    seeded = await seed_case(live_server.url, title="Mietrückstand Ahornweg", worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await context.set_offline(True)
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    title = seeded.title
    schonfrist = page.locator("#case-deadlines [data-rule='de.schonfrist']")

    # The court's notice, received 4 December: two months, to Thursday 4 February 2027, provisional on both counts.
    await add_event(page, title, "court_notice_to_agency", served_on="04.12.2026")
    await expect(schonfrist).to_contain_text("04.02.2027")
    await expect(schonfrist).to_contain_text("vorläufig")
    await expect(schonfrist).to_contain_text("Art der Kündigung prüfen")
    await expect(schonfrist).to_contain_text("Räumungsklage mit dem Zustellungsdatum erfassen")
    await shot(page, screenshots, "schonfrist-vorlaeufig", "#case-deadlines")

    # The Kündigung's kind is asked, not defaulted.
    await page.get_by_role("link", name="Neu: Fristen, Schreiben und Termine").click()
    await page.get_by_label("Art", exact=True).select_option("notice_to_quit")
    await page.get_by_label("Zugestellt am (Datum auf dem Umschlag)").fill("20.11.2026")
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("Bitte die Art der Kündigung wählen")
    await page.get_by_label("Art der Kündigung").select_option("both")
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
    await expect(schonfrist).to_contain_text("Räumungsklage mit dem Zustellungsdatum erfassen")
    await expect(schonfrist).not_to_contain_text("Art der Kündigung prüfen")

    # The lawsuit, served Friday 27 November: it counts now (Wednesday 27 January 2027), and it is sure.
    await add_event(page, title, "eviction_lawsuit", served_on="27.11.2026")
    await expect(schonfrist).to_have_count(1)
    await expect(schonfrist).to_contain_text("27.01.2027")
    await expect(schonfrist).not_to_contain_text("vorläufig")
    await expect(schonfrist.locator(".deadline-warning")).to_contain_text("VIII ZR 231/17")
    await shot(page, screenshots, "schonfrist-hilfsweise", "[data-rule='de.schonfrist']")

    # An earlier notice cured by the Schonfrist, received 21 November 2024: within two years of this one's Zugang.
    await page.get_by_label("Frühere, durch Schonfrist geheilte Kündigung zugegangen am").fill("21.11.2024")
    await page.locator("#save-cured-notice").click()
    await expect(schonfrist).to_contain_text("21.11.2024")
    await expect(schonfrist).to_contain_text("hilft diesmal nicht")
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def test_an_energy_disconnection_threat_and_a_late_announcement_show_their_days_and_the_state(
    browser: Browser, live_server: LiveServer, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Energy first: the Sperrandrohung gives the day before which the household must act (four weeks, not moved);
    the announced day, announced with seven Werktage only, is flagged as announced too late."""
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    assert await anyio.to_thread.run_sync(lambda: cli_main(["set-region", "DE", "BE"])) == 0
    seeded = await seed_case(live_server.url, title="Stromschulden Birkenweg", worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await context.set_offline(True)
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    title = seeded.title
    await expect(page.locator("#energy-state")).to_have_count(0)

    await add_event(page, title, "disconnection_threat", served_on="05.12.2026")
    threat = page.locator("#case-deadlines [data-rule='de.sperre_fruehestens']")
    await expect(threat).to_contain_text("02.01.2027")
    await expect(threat).to_contain_text("§ 19 Abs. 2 StromGVV/GasGVV")
    await expect(page.locator("#energy-state")).to_have_text("Sperre angedroht")

    await page.get_by_role("link", name="Neu: Fristen, Schreiben und Termine").click()
    await page.get_by_label("Art", exact=True).select_option("disconnection_notice")
    await page.get_by_label("Zugestellt am (Datum auf dem Umschlag)").fill("09.12.2026")
    await page.get_by_label("Termin (Datum und Uhrzeit)").fill("18.12.2026")
    await page.locator("[id$='-scheduled_at-time']").fill("08:00")
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
    announced = page.locator("#case-deadlines [data-rule='de.sperre_termin']")
    await expect(announced).to_contain_text("17.12.2026")
    await expect(announced.locator(".deadline-warning")).to_contain_text("Zu spät angekündigt")

    await add_event(page, title, "disconnection_done", dated_on="09.12.2026")
    await expect(page.locator("#energy-state")).to_have_text("Sperre erfolgt")
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()
