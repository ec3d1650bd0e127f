"""The figures as the management and a funder see them: the headline table of any period ("1. Januar bis 30.
November"), the statistics with small cells withheld, the A4 print of the whole organisation with each team's
headline, and the worker's closing that asks why help was declined."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_screens import FITS, log_in_management, seed_demo, shoot
from tests.support import clock as pinned
from tests.support.accounts import Org, login
from tests.support.live import LiveServer
from tests.support.syncing import Device
from tests.support.tablet import TABLET_SIZES, new_tablet, seed_case, sync_now, worker_tablet

pytestmark = [pytest.mark.browser]

HEADLINE = [
    "Wohnungen erhalten",
    "Erfolgsquote",
    "Telefonische Beratungen",
    "Persönliche Beratungen",
    "Hilfe per E-Mail, SMS und Brief",
    "Unterstützte Haushalte",
    "Nachbarschafts\u00advermittlungen",
]


async def test_the_management_reads_prints_and_exports_the_headline_of_any_period(
    browser: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    seed_demo(live_server)
    year = pinned.today().year - 1  # the demo's last year
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await new_tablet(context)
    await log_in_management(page, live_server.url)
    await page.get_by_label("Jahr").select_option(str(year))
    await page.get_by_label("Zeitraum").select_option(label="Eigener Zeitraum")
    await page.get_by_label("Von").fill(f"{year}-01-01")
    await page.get_by_label("Bis").fill(f"{year}-11-30")
    await page.get_by_role("button", name="Bericht anzeigen").click()
    figures = page.locator(".keyfigures .figure span")
    await expect(figures).to_have_count(len(HEADLINE))
    labels = [text.rstrip("0123456789").replace("\u00ad", "") for text in await figures.all_inner_texts()]
    assert labels == [label.replace("\u00ad", "") for label in HEADLINE]
    rate = page.locator(".keyfigures [data-key=kept_rate]")
    await expect(rate.locator("small").first).to_contain_text(" von ")
    # Every headline figure says how it is counted.
    await page.get_by_text("Begriffe: wie jede Zahl gezählt wird").click()
    await expect(page.locator(".footnotes li")).to_have_count(len(HEADLINE))
    await expect(page.locator(".footnotes")).to_contain_text("nie beim Drucken")
    statistics = page.locator("section.statistics")
    await expect(statistics.locator("table")).to_have_count(10)
    await expect(statistics).to_contain_text("< 5")
    for orientation in ("landscape", "portrait"):
        await page.set_viewport_size(TABLET_SIZES[orientation])
        await shoot(page, screenshots, "berichte-zeitraum", orientation)
        await page.locator(".keyfigures-title").evaluate("(e) => e.scrollIntoView({ block: 'start' })")
        await page.screenshot(path=screenshots / f"kennzahlen-jan-nov-{orientation}.png")
        await statistics.evaluate("(e) => e.scrollIntoView({ block: 'start' })")
        await page.screenshot(path=screenshots / f"statistik-{orientation}.png")
        assert await page.evaluate(FITS)

    link = page.get_by_role("link", name=f"Bericht 01.01.{year} bis 30.11.{year} drucken")
    href = await link.get_attribute("href")
    assert href == f"/berichte/jahresbericht?start={year}-01-01&end={year}-11-30"
    await expect(page.get_by_role("button", name="Statistik (CSV)")).to_be_visible()
    printed = await context.new_page()
    await printed.goto(f"{live_server.url}{href}")
    await expect(printed.get_by_role("heading", name=f"Bericht 1. Januar bis 30. November {year}")).to_be_visible()
    await expect(printed.locator("table.teams tbody tr")).to_have_count(1)  # the demo organisation's one team
    await expect(printed.locator("[data-section='stat.age_group'] caption")).to_have_text("Altersgruppe")
    await printed.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    await printed.emulate_media(media="print")
    assert await printed.evaluate(FITS)
    await printed.screenshot(path=screenshots / "bericht-jan-nov-a4.png", full_page=True)
    pdf = await printed.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    await context.close()


async def test_a_worker_records_the_statistics_once_and_says_why_help_was_declined(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    seeded = await seed_case(live_server.url, title="Mietrückstand Birke", worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "portrait")
    await page.goto(f"{live_server.url}/#/fall/{seeded.case_id}/bearbeiten")
    await page.get_by_text("Angaben für die Statistik").click()
    await page.get_by_label("Altersgruppe der beratenen Person").select_option(label="30 bis 39")
    await page.get_by_label("Haushaltsform").select_option(label="alleinerziehend mit Kind(ern)")
    await page.get_by_label("Minderjährige Kinder im Haushalt").select_option(label="2")
    await page.get_by_label("Staatsangehörigkeit").select_option(label="unbekannt")
    await page.get_by_label("Anlass", exact=True).select_option(label="Räumungsklage erhalten")
    await page.get_by_label("Anlass am (Kündigung, Klage, Mitteilung erhalten)").fill(pinned.day(-10))
    await page.locator("#statistics-fields").evaluate("(e) => e.scrollIntoView({ block: 'start' })")
    await page.screenshot(path=screenshots / "statistik-erfassen-portrait.png")
    await page.get_by_role("button", name="Änderungen speichern").click()
    await expect(page.get_by_role("heading", name="Mietrückstand Birke", level=2)).to_be_visible()

    # Closing: "Hilfe abgelehnt" asks why; where the household lives is asked too.
    await page.get_by_label("Ergebnis").select_option(label="Hilfe abgelehnt")
    await page.get_by_label("Wohnsituation bei Abschluss").select_option(label="eigene Mietwohnung")
    await page.get_by_label("Abschlussvermerk").fill("Möchte keine Beratung, regelt es mit der Vermieterin.")
    await page.locator("#close-case").click()
    await expect(page.get_by_role("alert")).to_have_text("Bitte den Grund der Ablehnung wählen.")
    await page.get_by_label("Grund der Ablehnung").select_option(label="Keine Hilfe nötig (selbst geregelt)")
    await page.locator("#close-case").click()
    await expect(page.locator("#closing-requested")).to_contain_text("Hilfe abgelehnt")
    await sync_now(page)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        device = Device(client, await login(client, "supervisor"))
        await device.pull()
        fields = device.records[seeded.case_id]["fields"]
    assert (fields["age_group"], fields["household_type"], fields["children"]) == ("30_to_39", "single_parent", 2)
    assert (fields["nationality_group"], fields["gender"]) == ("unknown", None)  # not asked: not given
    assert (fields["trigger"], fields["trigger_on"]) == ("lawsuit", pinned.day(-10))
    assert (fields["outcome"], fields["declined_reason"], fields["housing_at_end"]) == (
        "help_declined",
        "no_need",
        "own_tenancy",
    )
    await context.close()
