"""One whole working day on the tablet at 1024×768, mostly offline: intake, a visit nobody answered and its return
visit, a missed call and a back-dated one, a note, the closure request; then sync, the supervisor's approval on
their tablet, the case closed on both and counted once in the report. Also: the duplicate warning, the case list's
search, and a handover between two workers' tablets. Every step's data is checked on the server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.support import clock as pinned
from tests.support.accounts import PASSWORD, Org
from tests.support.live import LiveServer
from tests.support.syncing import Device
from tests.support.tablet import last_sync, seed_case, sync_now, wait_synced, worker_tablet

pytestmark = [pytest.mark.browser]


@contextlib.asynccontextmanager
async def office(base_url: str, username: str = "supervisor") -> AsyncIterator[Device]:
    """The supervisor's office session over the API."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/api/auth/login",
            json={"username": username, "password": PASSWORD, "device_name": "Büro", "device_id": None},
        )
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        yield Device(client, response.json())


async def on_server(base_url: str) -> dict[str, dict[str, Any]]:
    """Every live record the supervisor's team holds, by id."""
    async with office(base_url) as device:
        await device.pull()
    return device.records


def of_kind(records: dict[str, dict[str, Any]], kind: str, case_id: str) -> list[dict[str, Any]]:
    return [r["fields"] for r in records.values() if r["kind"] == kind and r["case_id"] == case_id]


async def shot(page: Page, screenshots: Path, name: str, focus: str | None = None) -> None:
    """The screen at both tablet sizes (landscape, then portrait, then back), scrolled to ``focus``."""
    for width, height in ((1024, 768), (768, 1024)):
        await page.set_viewport_size({"width": width, "height": height})
        if focus:
            await page.locator(focus).scroll_into_view_if_needed()
        await page.evaluate("document.getElementById('toast').hidden = true")  # a passing toast is not the screen
        await page.screenshot(path=str(screenshots / f"{name}-{width}x{height}.png"))
    await page.set_viewport_size({"width": 1024, "height": 768})


async def test_one_working_day_from_intake_to_the_approved_closure(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await context.set_offline(True)

    # Intake of a new household and case, offline.
    await page.get_by_role("link", name="Fälle").click()
    await page.get_by_role("link", name="+ Neuer Fall").click()
    await expect(page.get_by_role("heading", name="Neuer Fall")).to_be_visible()
    await page.get_by_label("Name des Haushalts").fill("Familie Yılmaz")
    await page.get_by_label("Name (Person 1)").fill("Ayşe Yılmaz")
    await page.get_by_label("Geburtsjahr").fill("1979")
    await page.get_by_role("button", name="+ Person hinzufügen").click()
    await page.get_by_label("Name (Person 2)").fill("Emre Yılmaz")
    await page.locator("#m-rel-1").select_option("child")
    await page.locator("#m-year-1").fill("2014")
    await page.get_by_label("Straße").fill("Hauptstraße")
    await page.get_by_label("Hausnummer").fill("5")
    await page.get_by_label("PLZ").fill("10115")
    await page.get_by_label("Ort").fill("Berlin")
    await page.get_by_label("Telefon").fill("+49 30 1234567")
    await page.get_by_label("Vermieter*in").fill("Wohnbau Nord eG")
    await page.get_by_label("Kaltmiete (€)").fill("450,00")
    await page.get_by_label("Nebenkosten (€)").fill("120,00")
    await page.get_by_label("Heizkosten (€)").fill("80,00")
    await page.get_by_label("Anlass", exact=True).select_option("receivables")
    await page.get_by_label("Risiko", exact=True).select_option("high")
    await page.get_by_label("Begründung der Risikostufe").fill("Fristlose Kündigung angedroht")
    await page.get_by_label("Kurzbeschreibung").fill("Zwei Monatsmieten offen nach Jobverlust.")
    await shot(page, screenshots, "neuer-fall", "#in-risk")
    await page.get_by_role("button", name="Fall anlegen").click()
    title = "Mietrückstand Familie Yılmaz"
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
    case_id = page.url.rsplit("/", 1)[-1]
    await expect(page.locator("#call-tenant")).to_have_attribute("href", "tel:+49301234567")
    await expect(page.locator("#open-map")).to_have_attribute(
        "href", "geo:0,0?q=Hauptstra%C3%9Fe%205%2C%2010115%20Berlin"
    )

    # Details edited: the risk rises, with its reason.
    await page.get_by_role("link", name="Bearbeiten").click()
    await page.get_by_label("Risiko", exact=True).select_option("acute")
    await page.get_by_label("Begründung der Risikostufe").fill("")
    await page.get_by_role("button", name="Änderungen speichern").click()
    await expect(page.get_by_role("alert")).to_have_text("Bitte begründen, warum sich die Risikostufe ändert.")
    await page.get_by_label("Begründung der Risikostufe").fill("Räumungsklage angekündigt")
    await page.get_by_role("button", name="Änderungen speichern").click()
    await expect(page.get_by_text("Begründung der Risikostufe: Räumungsklage angekündigt")).to_be_visible()

    # A visit: nobody at home, a card left; the return visit is suggested and planned with the same save.
    await page.get_by_role("link", name="Besuch erfassen").click()
    await page.get_by_label("nicht angetroffen").check()
    await page.get_by_label("Benachrichtigung eingeworfen").check()
    suggested = await page.get_by_label("Vorschlag für den Rückbesuch").input_value()  # TT.MM.JJJJ, HH:MM beside it
    at = await page.locator("#return-at-time").input_value()
    assert dt.datetime.strptime(f"{suggested} {at}", "%d.%m.%Y %H:%M") > pinned.local().replace(tzinfo=None)
    await page.get_by_role("button", name="Besuch speichern").click()
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()

    # A call not reached, then the tenant calls back: recorded an hour back, 15 minutes.
    await page.get_by_label("Erreicht").uncheck()
    await page.get_by_role("button", name="Kontakt speichern").click()
    await expect(page.locator("#p-history ~ ul").get_by_text("nicht erreicht", exact=True)).to_be_visible()
    hour_ago = (pinned.local() - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    await page.get_by_label("Richtung").select_option("incoming")
    await page.get_by_label("Zeitpunkt").fill(hour_ago.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Dauer (Minuten)").fill("15")
    await page.get_by_label("Kurznotiz (freiwillig)").fill("Rückruf, Termin beim Jobcenter vereinbart")
    await page.get_by_role("button", name="Kontakt speichern").click()
    await expect(page.get_by_text("Rückruf, Termin beim Jobcenter vereinbart")).to_be_visible()

    # A note, shown with date and author.
    await page.get_by_label("Neue Notiz").fill("Unterlagen für den Jobcenter-Antrag zusammengestellt.")
    await page.get_by_role("button", name="Notiz hinzufügen").click()
    note = page.locator("li.note").first
    await expect(note).to_contain_text("Unterlagen für den Jobcenter-Antrag")
    await expect(note).to_contain_text("Worker1")

    # The closure request, with outcome and note.
    await page.get_by_label("Ergebnis", exact=True).select_option("secured")
    await page.get_by_label("Abschlussvermerk").fill("Rückstand über Jobcenter-Darlehen ausgeglichen.")
    await shot(page, screenshots, "abschluss-beantragen", "#close-case")
    await page.get_by_role("button", name="Abschluss beantragen").click()
    await expect(page.get_by_role("heading", name="Abschluss beantragt")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]

    # Online: one sync sends the day.
    moment = await last_sync(page)
    await context.set_offline(False)
    await wait_synced(page, moment)
    records = await on_server(live_server.url)
    (kase,) = of_kind(records, "case", case_id)
    assert (kase["status"], kase["outcome"], kase["assigned_worker_id"], kase["intake_by"]) == (
        "closing_requested",
        "secured",
        str(org.worker1_id),
        str(org.worker1_id),
    )
    assert (kase["risk"], kase["risk_reason"], kase["trigger"]) == (
        "acute",
        "Räumungsklage angekündigt",
        "receivables",
    )
    (household,) = of_kind(records, "household", case_id)
    assert household["address"] == {
        "street": "Hauptstraße",
        "house_number": "5",
        "unit": "",
        "postcode": "10115",
        "city": "Berlin",
    }
    assert [(m["name"], m["relation"], m["birth_year"]) for m in household["members"]] == [
        ("Ayşe Yılmaz", "tenant", 1979),
        ("Emre Yılmaz", "child", 2014),
    ]
    assert (household["net_rent_cents"], household["service_charges_cents"], household["heating_cents"]) == (
        45000,
        12000,
        8000,
    )
    visits = sorted(of_kind(records, "visit", case_id), key=lambda v: v["status"])
    assert [(v["status"], v["card_left"]) for v in visits] == [("not_home", True), ("planned", False)]
    assert visits[1]["planned_by"] == str(org.worker1_id)
    assert dt.datetime.fromisoformat(visits[1]["planned_at"]) > pinned.now() + dt.timedelta(days=1)
    contacts = sorted(of_kind(records, "contact", case_id), key=lambda c: c["at"])
    assert [(c["channel"], c["direction"], c["reached"], c["duration_minutes"]) for c in contacts] == [
        ("phone", "incoming", True, 15),
        ("phone", "outgoing", False, None),
    ]
    assert dt.datetime.fromisoformat(contacts[0]["at"]) == hour_ago.astimezone(dt.UTC)
    (written,) = of_kind(records, "note", case_id)
    assert written["author_id"] == str(org.worker1_id)
    assert written["text"] == "Unterlagen für den Jobcenter-Antrag zusammengestellt."

    # The supervisor's tablet: the new case and the request on the dashboard; approval.
    boss_context, boss = await worker_tablet(browser, live_server.url, "landscape", "supervisor")
    await expect(boss.locator("#new-intakes")).to_contain_text(title)
    await expect(boss.locator("#closing-requests")).to_contain_text(title)
    await boss.locator("#closing-requests").get_by_role("link", name=title).click()
    await expect(boss.locator("#closing-requested")).to_contain_text("Worker1 beantragt den Abschluss")
    await boss.get_by_role("button", name="Abschluss genehmigen").click()
    await expect(boss.get_by_role("heading", name="Fall abgeschlossen")).to_be_visible()
    await wait_synced(boss, await last_sync(boss))
    assert boss.errors == []  # type: ignore[attr-defined]

    # Closed on both tablets and on the server, and counted once in the report.
    await sync_now(page)
    await page.evaluate(f"location.hash = '#/fall/{case_id}'")
    await expect(page.get_by_role("heading", name="Fall abgeschlossen")).to_be_visible()
    (kase,) = of_kind(await on_server(live_server.url), "case", case_id)
    assert (kase["status"], kase["closed_on"]) == ("closed", pinned.today().isoformat())
    async with office(live_server.url) as device:
        today = pinned.today().isoformat()
        report = (await device.client.get("/api/reports", params={"start": today, "end": today})).json()
    assert (report["closed_cases"], report["outcomes"].get("secured"), report["new_cases"]) == (1, 1, 1)
    await boss_context.close()
    await context.close()


async def test_the_case_list_finds_cases_offline_and_intake_warns_of_a_duplicate(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    worker = str(org.worker1_id)
    await seed_case(live_server.url, title="Mietrückstand Lindenweg", worker_id=worker)
    await seed_case(live_server.url, title="Energieschulden Birkenweg", worker_id=worker, case_type="energy_debt")
    context, page = await worker_tablet(browser, live_server.url, "landscape")

    # The duplicate check, online: the seeded household lives at Lindenweg 4.
    await page.get_by_role("link", name="Fälle").click()
    await page.get_by_role("link", name="+ Neuer Fall").click()
    await page.get_by_label("Name des Haushalts").fill("Familie Neu")
    await page.get_by_label("Straße").fill("Lindenweg")
    await page.get_by_label("Hausnummer").fill("4")
    warning = page.locator("#duplicates")
    await expect(warning).to_contain_text("Gleiche Adresse – zuständig: Worker1")
    await shot(page, screenshots, "dublette", "#duplicates")

    # Offline: the list, its filters and the search.
    await context.set_offline(True)
    await page.get_by_role("link", name="Fälle").click()
    await expect(page.locator("#case-count")).to_have_text("2 von 2 Fällen")
    await page.get_by_label("Suche: Name, Adresse, Telefon oder Aktenzeichen").fill("birken")
    await expect(page.locator("#case-count")).to_have_text("1 von 2 Fällen")
    await expect(page.locator("#case-list")).to_contain_text("Energieschulden Birkenweg")
    await page.get_by_label("Suche: Name, Adresse, Telefon oder Aktenzeichen").fill("")
    await page.get_by_label("Frist in den nächsten 14 Tagen").check()
    await expect(page.locator("#case-count")).to_have_text("2 von 2 Fällen")  # both court dates are in 6 days
    await shot(page, screenshots, "faelle")
    # The search over 500 cases, as the tablet runs it: measured, not asserted (bench/ holds the numbers).
    elapsed = await page.evaluate(SEARCH_500)
    print(f"search over 500 cases on the tablet: {elapsed:.1f} ms")
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


SEARCH_500 = """async () => {
  const { haystack, matches } = await import("/static/js/search.js");
  const rows = Array.from({ length: 500 }, (_, i) => [
    ...haystack("case", { title: `Mietrückstand Fall ${i}` }),
    ...haystack("household", { name: `Haushalt ${i}`, address: { street: `Straße ${i % 40}`, house_number: `${i}`,
      postcode: "10115", city: "Berlin" }, phone: `+49 30 ${100000 + i}` }),
    ...haystack("legal_event", { reference: `${i} C ${i}/26` }),
  ]);
  const start = performance.now();
  const found = rows.filter((texts) => matches("Straße 7", texts)).length;
  return found >= 0 ? performance.now() - start : -1;
}"""


async def test_a_handover_moves_the_case_between_tablets_with_its_note(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    seeded = await seed_case(live_server.url, title="Mietrückstand Lindenweg", worker_id=str(org.worker1_id))
    old_context, old = await worker_tablet(browser, live_server.url, "landscape")
    new_context, new = await worker_tablet(browser, live_server.url, "landscape", "worker2")
    boss_context, boss = await worker_tablet(browser, live_server.url, "landscape", "supervisor")
    await boss.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    await expect(boss.get_by_role("heading", name="Fall übergeben")).to_be_visible()
    await boss.get_by_label("An", exact=True).select_option(label="Worker2")
    await boss.get_by_label("Übergabenotiz").fill("Frau B. erwartet einen Rückruf wegen des Jobcenters.")
    await shot(boss, screenshots, "uebergabe", "#handover-case")
    moment = await last_sync(boss)
    await boss.get_by_role("button", name="Fall übergeben").click()
    await expect(boss.get_by_text("Zuständig: Worker2")).to_be_visible()
    await wait_synced(boss, moment)

    records = await on_server(live_server.url)
    (kase,) = of_kind(records, "case", seeded.case_id)
    assert (kase["assigned_worker_id"], kase["handover_from"]) == (str(org.worker2_id), str(org.worker1_id))
    (visit,) = of_kind(records, "visit", seeded.case_id)
    assert visit["assigned_worker_id"] == str(org.worker2_id)

    await sync_now(new)
    await new.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    await expect(new.locator("#handover-banner")).to_contain_text("Übergeben von Worker1")
    await expect(new.locator("#handover-banner")).to_contain_text("Frau B. erwartet einen Rückruf")
    await sync_now(old)
    await old.get_by_role("link", name="Fälle").click()
    await expect(old.locator("#case-count")).to_have_text("0 von 0 Fällen")
    for page in (old, new, boss):
        assert page.errors == []  # type: ignore[attr-defined]
    for context in (old_context, new_context, boss_context):
        await context.close()


async def test_an_enquiry_without_a_case_takes_two_taps_offline_and_is_counted(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await context.set_offline(True)
    card = page.locator("section.enquiry")
    await card.get_by_label("Thema").select_option(label="Kündigung oder Räumung")
    await card.screenshot(path=screenshots / "anfrage-ohne-fall-landscape.png")
    await card.get_by_role("button", name="Telefon").click()
    await expect(page.locator("#toast")).to_contain_text("Anfrage erfasst: Kündigung oder Räumung")
    await card.get_by_role("button", name="Persönlich").click()  # the next caller at the door: one tap
    sealed = await page.evaluate("""async () => (await import("/static/js/storage.js")).getMeta("enquiries")""")
    assert sealed  # waiting on the device, sealed, until there is a network
    assert "notice_or_eviction" not in str(sealed)

    await context.set_offline(False)
    await sync_now(page)
    day = pinned.today().isoformat()
    async with office(live_server.url) as device:
        for _ in range(50):  # sent right after the sync
            response = await device.client.get("/api/reports", params={"start": day, "end": day})
            if response.json()["funder"]["enquiries"]["total"]["enquiries"] == 2:
                break
            await asyncio.sleep(0.2)
    enquiries = response.json()["funder"]["enquiries"]
    assert enquiries["total"]["enquiries"] == 2
    assert enquiries["channel"] == {"phone": 1, "in_person": 1}
    assert enquiries["topic"] == {"notice_or_eviction": 2}
    await context.close()


async def test_a_telephone_enquiry_becomes_an_appointment_in_two_taps_and_shows_on_the_day(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    """The caller needs a consultation: one tap offers the next free slots of the service centre, a second books
    one and shows the booking number to tell the caller. The team sees it on its day; a held appointment counts
    in the report as a personal consultation."""
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    card = page.locator("section.enquiry")
    await card.get_by_label("Thema").select_option(label="Mietschulden")
    await card.get_by_role("button", name="Telefon").click()
    await card.get_by_role("button", name="Termin im Servicecenter anbieten").click()  # tap one
    slots = card.locator(".slots button")
    await expect(slots).to_have_count(6)
    starts = await slots.first.get_attribute("data-starts")
    await slots.first.click()  # tap two
    booked = card.locator("#appointment-booked")
    await expect(booked).to_contain_text("Termin gebucht")
    number = (await booked.inner_text()).split("Nr. ")[1][:4]
    assert number.isdigit()
    await card.screenshot(path=screenshots / "termin-aus-anfrage-landscape.png")
    assert starts

    # The team's day (a Wednesday morning: the first free slot is today): the appointment, and its outcome.
    day = dt.datetime.fromisoformat(starts).astimezone(pinned.BERLIN).date()
    assert day == pinned.today()
    async with office(live_server.url) as device:
        listing = (await device.client.get("/api/appointments", params={"day": day.isoformat()})).json()
    held = [s["appointment"] for s in listing["slots"] if s["appointment"]]
    assert [(a["number"], a["topic"], a["status"]) for a in held] == [(number, "rent_arrears", "booked")]
    assert held[0]["enquiry_id"]  # it came from the enquiry just recorded
    await page.get_by_role("link", name="Fälle").click()
    await page.get_by_role("link", name="Heute").click()
    today = page.locator("#appointments-today")
    await expect(today).to_contain_text(f"Nr. {number}")
    await today.get_by_role("button", name="Wahrgenommen").click()
    await expect(today).to_contain_text("Beratung wahrgenommen")
    await today.screenshot(path=screenshots / "termine-heute-landscape.png")
    async with office(live_server.url) as device:
        period = {"start": day.isoformat(), "end": day.isoformat()}
        report = (await device.client.get("/api/reports", params=period)).json()
    assert report["funder"]["enquiries"]["appointments"] == {"held": 1}
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()
