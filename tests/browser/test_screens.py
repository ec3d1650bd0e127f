"""Every screen of the tablet app on the demo data, at both tablet sizes: it renders what the worker needs, fits the
screen without sideways scrolling, and is saved to ``docs/screenshots`` by ``make screenshots``."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect
from playwright.async_api import Error as PlaywrightError

from server.demo import DEFAULT_DEMO_PASSWORD
from tests.support import clock as pinned
from tests.support.live import LiveServer
from tests.support.syncing import Device
from tests.support.tablet import PASSPHRASE, PIN, TABLET_SIZES, new_tablet, setup_device

pytestmark = [pytest.mark.browser]

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# Controls a screen reader could not name: no <label>, no aria-label, no text.
UNNAMED = """() => [...document.querySelectorAll("input, select, textarea, button, a[href]")]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.textContent.trim())
  .map((el) => el.outerHTML.slice(0, 120))"""


def seed_demo(server: LiveServer) -> None:
    env = {
        **os.environ,
        "DOORSTEP_DATA_DIR": str(server.data_dir),
        "DOORSTEP_DATABASE_URL": server.database_url,
        "DOORSTEP_ENVIRONMENT": "test",
        # The demo's days ("today's visits", "overdue") are the pinned day's, as the server's and the tablet's are:
        # seeded on the machine's day, the test passed or failed with the date it ran on.
        "DOORSTEP_CLOCK_SHIFT_SECONDS": str(pinned.current_shift()),
    }
    subprocess.run([sys.executable, "-m", "server.cli", "seed-demo"], env=env, check=True, capture_output=True)


async def demo_device(client: httpx.AsyncClient, username: str) -> Device:
    response = await client.post(
        "/api/auth/login",
        json={"username": username, "password": DEFAULT_DEMO_PASSWORD, "device_name": "Zweites Tablet"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return Device(client, body)


async def make_conflict(base_url: str) -> str:
    """Two other tablets of Jonas Albrecht change the purpose of the same visit: the second one conflicts."""
    async with httpx.AsyncClient(base_url=base_url) as one, httpx.AsyncClient(base_url=base_url) as two:
        first, second = await demo_device(one, "worker1"), await demo_device(two, "worker1")
        await first.pull()
        await second.pull()
        visit = next(r for r in first.records.values() if r["kind"] == "visit" and r["fields"]["status"] == "planned")
        results = await first.push(
            first.put("visit", visit["id"], visit["case_id"], {"purpose": "Unterlagen Jobcenter"}, visit["version"])
        )
        assert results[0]["status"] == "applied"
        results = await second.push(
            second.put("visit", visit["id"], visit["case_id"], {"purpose": "Ratenplan besprechen"}, visit["version"])
        )
        assert results[0]["status"] == "conflict"
        return str(visit["case_id"])


async def until_server(device: Device, visit_id: str, worker_id: str) -> None:
    """The visit as the server holds it: assigned to ``worker_id`` on 15 January 2027 at 10:30 local time."""
    for _ in range(50):
        await device.pull()
        fields = device.records[visit_id]["fields"]
        if fields["assigned_worker_id"] == worker_id:
            assert fields["planned_at"].startswith("2027-01-15")
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the reassignment did not reach the server")


async def shoot(page: Page, folder: Path, name: str, orientation: str) -> None:
    assert await page.evaluate(FITS), f"{name} scrolls sideways at {orientation}"
    assert await page.evaluate(UNNAMED) == [], f"{name} has controls without an accessible name"
    await expect(page.locator("#sync-bar")).to_be_hidden()
    # The top of the screen, as the worker first sees it; a passing toast is not part of the screen.
    await page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0); toast.hidden = true")
    await page.screenshot(path=folder / f"{name}-{orientation}.png")


async def shoot_part(part: Locator, path: Path) -> None:
    """A screenshot of one part of the screen. A screen may draw itself again while it is taken (the office screen
    once did, between finding the retention notice and taking it), which replaces the element: then the part is
    found again and taken again."""
    for attempt in range(3):
        try:
            await part.screenshot(path=path)
            return
        except PlaywrightError as exc:
            if "not attached to the DOM" not in str(exc) or attempt == 2:
                raise


async def log_in(page: Page, base_url: str, username: str) -> None:
    await setup_device(page, base_url, username, DEFAULT_DEMO_PASSWORD)
    await expect(page.locator("#sync-bar")).to_be_hidden()


async def log_in_management(page: Page, base_url: str) -> None:
    """The demo's management (Leitung) sets up a tablet, as any user does; nothing is synced to it: no case."""
    await page.goto(base_url)
    await page.get_by_label("Benutzername").fill("leitung")
    await page.get_by_label("Passwort").fill(DEFAULT_DEMO_PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_label("Geräte-Passwort", exact=True).fill(PASSPHRASE)
    await page.get_by_label("Geräte-Passwort wiederholen").fill(PASSPHRASE)
    await page.get_by_label("PIN (4 bis 8 Ziffern)").fill(PIN)
    await page.get_by_role("button", name="Einrichten und Daten laden").click()
    await expect(page.get_by_role("heading", name="Berichte")).to_be_visible()


@pytest.mark.parametrize("orientation", sorted(TABLET_SIZES))
async def test_every_screen_on_the_demo_data(
    browser: Browser, live_server: LiveServer, screenshots: Path, orientation: str
) -> None:
    seed_demo(live_server)
    conflict_case = await make_conflict(live_server.url)
    context = await browser.new_context(viewport=TABLET_SIZES[orientation], locale="de-DE")
    page = await new_tablet(context)
    await log_in(page, live_server.url, "worker1")

    await expect(page.get_by_role("heading", name="Heute – Meine Besuche")).to_be_visible()
    await expect(page.locator("[data-list=today] li").first).to_be_visible()
    await expect(page.get_by_text("überfällig").first).to_be_visible()
    await shoot(page, screenshots, "heute", orientation)

    await page.goto(f"{live_server.url}/#/fall/{conflict_case}")
    await expect(page.get_by_role("heading", name="Besuche und Kontakte")).to_be_visible()
    await expect(page.get_by_role("heading", name="Budget (monatlich)")).to_be_visible()
    await shoot(page, screenshots, "fall", orientation)

    # The case-work forms, new, and an installment agreement of the demo data with its payments.
    for kind in ("legal_event", "action", "benefit_application", "consent", "referral", "mediation"):
        await page.goto(f"{live_server.url}/#/fall/{conflict_case}/{kind}/neu")
        await expect(page.get_by_role("button", name="Speichern", exact=True)).to_be_visible()
        await shoot(page, screenshots, f"arbeit-{kind.replace('_', '-')}", orientation)
    await page.goto(f"{live_server.url}/#/fall/{conflict_case}/installment_agreement/neu")
    await page.get_by_label("Name der Gläubiger*in").fill("Wohnbau Beispiel eG")
    await page.get_by_label("Gesamtbetrag (€)").fill("1.200,00")
    await page.get_by_label("Monatsrate (€)").fill("100,00")
    start = (pinned.today() - dt.timedelta(days=40)).isoformat()
    await page.get_by_label("Erste Rate am").fill(start)
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await page.locator("[data-agreement] a").last.click()
    await page.get_by_role("button", name="Bezahlt").first.click()
    await expect(page.locator(".payments .chip-ok")).to_contain_text("bezahlt am")
    await expect(page.locator("#payments-title")).to_contain_text("Zahlung nicht erfasst")  # the second is due
    await page.get_by_role("button", name="nicht gezahlt").first.click()
    await expect(page.locator("#payments-title")).to_contain_text("im Rückstand")
    await shoot(page, screenshots, "arbeit-ratenzahlung", orientation)
    payments = page.locator(".payments")
    inside = """t => [...t.querySelectorAll("input, button")].every(
        (el) => el.getBoundingClientRect().right <= t.getBoundingClientRect().right + 1)"""
    await shoot_part(payments, screenshots / f"ratenzahlung-raten-{orientation}.png")
    assert await payments.evaluate(inside), "a control of the payments sticks out"
    await page.goto(f"{live_server.url}/#/fall/{conflict_case}")
    await expect(page.get_by_role("heading", name="Abschluss beantragen")).to_be_visible()
    await page.get_by_role("heading", name="Abschluss beantragen").scroll_into_view_if_needed()
    assert await page.evaluate(FITS)
    await page.screenshot(path=screenshots / f"fall-unten-{orientation}.png")

    await page.get_by_role("link", name="Einschätzung").click()
    await page.get_by_role("link", name="6. Haushaltsbudget").click()
    await expect(page.locator("#balance")).to_contain_text("Saldo")
    await shoot(page, screenshots, "einschaetzung", orientation)

    await context.set_offline(True)
    await page.get_by_role("link", name="Heute").click()
    await page.locator("[data-list=today] a.button").first.click()
    await page.get_by_label("nicht angetroffen").check()
    await page.get_by_label("Notiz zum Besuch").fill(
        "Niemand geöffnet. Karte mit Rückrufnummer eingeworfen; Nachbarin sagt, Herr K. sei im Krankenhaus."
    )
    await expect(page.get_by_text("Entwurf auf dem Gerät gesichert.")).to_be_visible()
    await shoot(page, screenshots, "besuch-erfassen", orientation)
    await page.get_by_role("button", name="Besuch speichern").click()
    await expect(page.locator("#toast")).to_contain_text("Besuch gespeichert")  # the save is over

    await page.get_by_role("link", name="Sync-Status").click()
    await expect(page.locator("#waiting-count")).not_to_have_text("0")
    await expect(page.locator("ul.outbox")).to_contain_text("Notiz")  # the visit's note waits for the network
    await shoot(page, screenshots, "sync-status", orientation)
    await context.set_offline(False)

    await page.locator('#nav a[href="#/konflikte"]').click()
    await expect(page.locator("section.conflict")).to_have_count(1)
    await expect(page.locator("section.conflict")).to_contain_text("Ratenplan besprechen")
    await shoot(page, screenshots, "konflikte", orientation)

    await page.get_by_role("button", name="Sperren").click()
    await expect(page.get_by_label("PIN")).to_be_visible()
    await shoot(page, screenshots, "sperre", orientation)
    await context.close()

    office = await browser.new_context(viewport=TABLET_SIZES[orientation], locale="de-DE")
    page = await new_tablet(office)
    await log_in(page, live_server.url, "supervisor")
    await expect(page.get_by_role("heading", name="Team – Einsatzplanung")).to_be_visible()
    await expect(page.locator("#caseload tbody tr").first).to_be_visible()
    await expect(page.get_by_role("heading", name="Offene Fälle nach Risiko und Phase")).to_be_visible()
    await expect(page.locator("table.matrix tbody tr")).to_have_count(4)
    # A case closed almost three years ago: its erasure is announced a month ahead.
    notice = page.locator("#retention")
    await expect(notice.get_by_role("heading")).to_have_text("Löschung nach Ablauf der Aufbewahrungsfrist: 1 Fall")
    await expect(notice.locator("li")).to_contain_text("Mietrückstand Vogt")
    await shoot_part(notice, screenshots / f"loeschfrist-{orientation}.png")
    await shoot(page, screenshots, "team", orientation)
    # The right of access for that household: everything the team holds, printable.
    await notice.get_by_role("link", name="Mietrückstand Vogt").click()
    await page.get_by_role("link", name="Auskunft (Art. 15 DSGVO)").click()
    await expect(page.get_by_role("heading", name="Auskunft nach Art. 15 DSGVO")).to_be_visible()
    await expect(page.locator("section.disclosure h3")).to_have_text(["Mietrückstand Vogt"])
    await expect(page.locator("section.disclosure")).to_contain_text("Wohnung erhalten mit Ratenzahlung")
    await shoot(page, screenshots, "auskunft", orientation)

    await page.get_by_role("link", name="Berichte").click()
    await expect(page.locator(".keyfigures .figure").first).to_be_visible()
    await expect(page.locator("figure.chart svg[role=img]")).to_have_count(3)
    households = int(await page.locator(".keyfigures .figure strong").first.inner_text())
    assert households > 0
    await shoot(page, screenshots, "berichte", orientation)
    await page.locator("[data-section=outcomes]").scroll_into_view_if_needed()
    await page.screenshot(path=screenshots / f"berichte-ergebnisse-{orientation}.png")
    year = pinned.today().year
    annual = await office.new_page()
    await annual.goto(f"{live_server.url}/berichte/jahresbericht?year={year}")
    await expect(annual.get_by_role("heading", name=f"Jahresbericht {year}")).to_be_visible()
    assert f"<strong>{households}</strong>" in await annual.content()
    await annual.screenshot(path=screenshots / f"jahresbericht-{orientation}.png", full_page=True)
    if orientation == "portrait":
        # A4 at 96 dpi, as the print dialog lays it out.
        await annual.set_viewport_size({"width": 794, "height": 1123})
        await annual.emulate_media(media="print")
        assert await annual.evaluate(FITS)
        await annual.screenshot(path=screenshots / "jahresbericht-a4.png", full_page=True)
        pdf = await annual.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
        assert len(pdf) > 10_000
        # Last year, as the demo tells it: 48 closures, three in four tenancies kept, nothing entered late.
        await annual.goto(f"{live_server.url}/berichte/jahresbericht?year={year - 1}")
        last_year = annual.locator("[data-section=cases]")
        await expect(last_year.locator("[data-key=closed_cases] td")).to_have_text("48")
        await expect(last_year.locator("[data-key=kept_rate] td")).to_contain_text("75\u00a0%")
        await expect(last_year.locator("[data-key=corrections] td")).to_have_text("0")
        # The rent arrears of last year's closures, at intake and at closing, and how far they came down.
        reduced = annual.locator("[data-section=arrears] [data-key='arrears.reduced']")
        await expect(reduced).to_contain_text("der Summe bei Aufnahme")
        await annual.screenshot(path=screenshots / "jahresbericht-vorjahr-a4.png", full_page=True)

    await page.get_by_role("link", name="Team", exact=True).click()
    # Reassign the first planned visit to the other worker and move it by a day: the server has both.
    row = page.locator("#upcoming tbody tr").first
    visit_id = (await row.locator("select").get_attribute("id") or "").removeprefix("assign-")
    current = await row.locator("select").input_value()
    other = next(
        v
        for v in await row.locator("select option").evaluate_all("o => o.map((x) => x.value)")
        if v not in ("", current)
    )
    await row.locator("select").select_option(other)
    await row.locator(".date-text").fill("15.01.2027")  # the app's own date and time fields, in German
    await row.locator(".time-text").fill("10:30")
    await page.get_by_role("button", name="1 Änderung speichern").click()  # one button for the whole table
    await expect(page.get_by_text("1 Besuch gespeichert.")).to_be_visible()
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        device = await demo_device(client, "supervisor")
        await until_server(device, visit_id, other)
    await office.close()

    # The management (Leitung): the figures of the organisation and of each team beside the year before; no case.
    management = await browser.new_context(viewport=TABLET_SIZES[orientation], locale="de-DE")
    page = await new_tablet(management)
    await log_in_management(page, live_server.url)
    await expect(page.locator("#nav a")).to_have_count(1)  # Berichte only
    await expect(page.locator("[data-section=cases] thead th").last).to_contain_text("Vorjahr")
    await page.get_by_label("Team oder Gesamt").select_option(label="Team Nord")
    await expect(page.locator("[data-section=cases] thead th").first).to_have_text("Team Nord")
    await shoot(page, screenshots, "leitung-berichte", orientation)
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    await management.close()
