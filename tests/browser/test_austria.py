"""A Viennese worker's tablet speaks Austrian procedure: the steps offered are the Austrian ones in Austrian words,
an Aufkündigung brings its four weeks for Einwendungen, a Räumungsklage the reminder to pay before the hearing ends
(§ 33 Abs. 2 MRG), the letters are the Austrian ones (the Wohnschirm application among them), and no screen names
German law. A German organisation, on the same tablet code, is offered nothing Austrian."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import anyio.to_thread
import pytest
from playwright.async_api import Browser, Page, expect

from server.cli import main as cli_main
from server.records.calendar import Calendar, Region
from server.settings import Settings
from tests.browser.test_screens import log_in, seed_demo, shoot
from tests.support import clock as pinned
from tests.support.accounts import Org
from tests.support.clock import TestClock
from tests.support.live import LiveServer
from tests.support.tablet import TABLET_SIZES, new_tablet, seed_case, worker_tablet
from tests.unit.test_country import AUSTRIAN, GERMAN

pytestmark = [pytest.mark.browser]

SERVED = "Zugestellt am (Datum auf dem Umschlag)"


async def set_region(monkeypatch: pytest.MonkeyPatch, settings: Settings, *region: str) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    assert await anyio.to_thread.run_sync(lambda: cli_main(["set-region", *region])) == 0


async def step_choices(page: Page) -> list[str]:
    await page.get_by_role("link", name="Neu: Fristen, Schreiben und Termine").click()
    options = page.get_by_label("Art", exact=True).locator("option")
    await expect(options.first).to_be_attached()  # the form renders after the click; read it once it is there
    choices = await options.all_inner_texts()
    await page.go_back()
    return choices


async def record_step(page: Page, title: str, label: str, served_on: str) -> None:
    await page.get_by_role("link", name="Neu: Fristen, Schreiben und Termine").click()
    await page.get_by_label("Art", exact=True).select_option(label=label)
    await page.get_by_label(SERVED).fill(served_on)
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()


def foreign(text: str, markers: tuple[str, ...]) -> list[str]:
    return [marker.strip() for marker in markers if marker in text]


async def shot(page: Page, screenshots: Path, name: str, focus: str) -> None:
    """The screen at both tablet sizes, scrolled to ``focus``."""
    for width, height in ((1024, 768), (768, 1024)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.locator(focus).first.scroll_into_view_if_needed()
        await page.evaluate("document.getElementById('toast').hidden = true")
        await page.screenshot(path=str(screenshots / f"{name}-{width}x{height}.png"))
    await page.set_viewport_size({"width": 1024, "height": 768})


async def test_a_viennese_worker_is_offered_austrian_procedure_deadlines_and_letters(
    browser: Browser,
    live_server: LiveServer,
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    screenshots: Path,
    clock: TestClock,
) -> None:
    await set_region(monkeypatch, settings, "AT", "9")
    seeded = await seed_case(live_server.url, title="Mietzinsrückstand Quellenstraße", worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    title = seeded.title
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()

    choices = await step_choices(page)
    assert "Gerichtliche Aufkündigung" in choices
    assert "Delogierungstermin" in choices
    assert "Versäumungsurteil" in choices
    assert "Kündigung" not in choices  # the German landlord's notice has no place in Austrian procedure
    assert not [c for c in choices if foreign(c, GERMAN)]

    # An Aufkündigung served today: Einwendungen within four weeks (§ 562 ZPO), on a court day (§ 126 ZPO).
    vienna = Calendar(Region("AT", "9"))
    await record_step(page, title, "Gerichtliche Aufkündigung", pinned.day(0))
    einwendungen = vienna.next_working_day(clock.today() + dt.timedelta(weeks=4))
    shown = page.locator("#case-deadlines [data-rule='at.einwendungen']")
    await expect(shown).to_contain_text("Einwendungen gegen die gerichtliche Aufkündigung")
    await expect(shown).to_contain_text("§ 562 Abs. 1 öZPO")
    await expect(shown).to_contain_text(einwendungen.strftime("%d.%m.%Y"))

    # A Räumungsklage wegen Mietzinsrückstand: pay before the first-instance hearing ends (§ 33 Abs. 2 MRG).
    await record_step(page, title, "Räumungsklage wegen Mietzinsrückstand", pinned.day(-2))
    reminder = page.locator("#case-deadlines [data-rule='at.zahlung_33_mrg']")
    await expect(reminder.first).to_contain_text("Rückstand vor Schluss der Verhandlung erster Instanz zahlen")
    await expect(reminder.first).to_contain_text("§ 33 Abs. 2 MRG")
    case_text = await page.locator("main").inner_text()
    assert foreign(case_text, GERMAN) == []
    await shot(page, screenshots, "wien-fall-fristen", "#case-deadlines")

    # The letters are Austria's: the Wohnschirm application, filled from the case.
    letters = page.locator("#letter-list")
    await expect(letters).to_contain_text("Wohnschirm: Antrag auf Übernahme des Mietzinsrückstands")
    await expect(letters).to_contain_text("Antrag auf Räumungsaufschub (§ 35 MRG)")
    assert foreign(await letters.inner_text(), GERMAN) == []
    await letters.locator("[data-letter='wohnschirm']").click()
    letter = page.locator(".letter").first
    await expect(letter).to_contain_text("Antrag auf Unterstützung aus dem Wohnschirm")
    assert foreign(await letter.inner_text(), GERMAN) == []
    await shot(page, screenshots, "wien-brief-wohnschirm", ".letter")
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def test_a_german_team_is_offered_nothing_austrian(
    browser: Browser, live_server: LiveServer, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_region(monkeypatch, settings, "DE", "BE")
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    await expect(page.get_by_role("heading", name=seeded.title, level=2)).to_be_visible()
    choices = await step_choices(page)
    assert "Kündigung" in choices
    assert "Räumungsklage" in choices
    assert not [c for c in choices if foreign(c, AUSTRIAN)]
    letters = page.locator("#letter-list")
    await expect(letters).to_contain_text("Schweigepflichtentbindung")
    assert foreign(await letters.inner_text(), AUSTRIAN) == []
    await context.close()


async def test_the_viennese_demo_team_reads_its_cases_and_its_year_in_its_own_words(
    browser: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    """The demo's second organisation: Team Favoriten in Vienna. Its worker's day and cases show Austrian steps
    and deadlines; its supervisor's report and last year's annual report (48 closures, three in four tenancies kept)
    speak of Mietzinsrückstände and Austrian benefits, and of no German law."""
    seed_demo(live_server)
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await new_tablet(context)
    await log_in(page, live_server.url, "wien-worker")
    await expect(page.get_by_role("heading", name="Heute – Meine Besuche")).to_be_visible()
    await expect(page.locator("ul.deadlines")).to_contain_text("Rekurs gegen die Exekutionsbewilligung")
    assert foreign(await page.locator("main").inner_text(), GERMAN) == []
    await shoot(page, screenshots, "wien-heute", "landscape")
    await page.get_by_role("link", name="Fälle").click()
    await page.locator("a", has_text="Mietzinsrückstand").first.click()
    await expect(page.locator("#case-deadlines")).to_be_visible()
    assert foreign(await page.locator("main").inner_text(), GERMAN) == []
    await shoot(page, screenshots, "wien-fall", "landscape")
    await context.close()

    office = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await new_tablet(office)
    await log_in(page, live_server.url, "wien-supervisor")
    await page.get_by_role("link", name="Berichte").click()
    await expect(page.locator(".keyfigures .figure").first).to_be_visible()
    assert foreign(await page.locator("main").inner_text(), GERMAN) == []
    await shoot(page, screenshots, "wien-berichte", "landscape")
    year = pinned.today().year
    annual = await office.new_page()
    await annual.goto(f"{live_server.url}/berichte/jahresbericht?year={year - 1}")
    last_year = annual.locator("[data-section=cases]")
    await expect(last_year.locator("[data-key=closed_cases] td")).to_have_text("48")
    await expect(last_year.locator("[data-key=kept_rate] td")).to_contain_text("75\u00a0%")
    await expect(annual.locator("[data-section=arrears]")).to_contain_text("Mietzinsrückstände")
    assert foreign(await annual.locator("body").inner_text(), GERMAN) == []
    await annual.screenshot(path=screenshots / "wien-jahresbericht-vorjahr.png", full_page=True)
    await office.close()
