"""Case work on the tablet, offline: one of each kind recorded through the screens arrives on the server as entered;
the consent rule, the installment standing after a missed payment, and a deadline on "Heute"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from server.records.calendar import Calendar, Region
from tests.support import clock as pinned
from tests.support.accounts import PASSWORD, Org
from tests.support.live import LiveServer
from tests.support.syncing import Device
from tests.support.tablet import (
    last_sync,
    seed_case,
    server_records,
    sync_now,
    until_on_server,
    wait_synced,
    worker_tablet,
)

pytestmark = [pytest.mark.browser]


def day(offset: int) -> str:
    return (pinned.today() + dt.timedelta(days=offset)).isoformat()


async def open_case(page: Page, title: str) -> None:
    await page.get_by_role("link", name="Heute").click()
    await page.get_by_role("link", name=title).first.click()
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()


async def save(page: Page, title: str) -> None:
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()


async def approve_closure(base_url: str, case_id: str) -> None:
    """The supervisor's approval of a requested closure, over the sync API."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/api/auth/login",
            json={"username": "supervisor", "password": PASSWORD, "device_name": "Büro", "device_id": None},
        )
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        device = Device(client, response.json())
        await device.pull()
        approval = {"status": "closed", "closed_on": pinned.today().isoformat()}
        (result,) = await device.push(
            device.put("case", case_id, case_id, approval, device.records[case_id]["version"])
        )
        assert result["status"] == "applied", result


def only(records: list[dict[str, Any]], kind: str, **match: Any) -> dict[str, Any]:
    found = [r for r in records if r["kind"] == kind and all(r["fields"].get(k) == v for k, v in match.items())]
    assert len(found) == 1, (kind, match, [r["fields"] for r in records if r["kind"] == kind])
    return found[0]["fields"]


async def test_every_kind_of_case_work_recorded_offline_arrives_as_entered(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    worker = str(org.worker1_id)
    first = await seed_case(live_server.url, title="Mietrückstand Lindenweg", worker_id=worker)
    second = await seed_case(
        live_server.url, title="Lärm Birkenweg", worker_id=worker, case_type="neighbour_conflict", deadline_days=40
    )
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    # The court date in six days makes a preparation action on the device, which syncs.
    before = await until_on_server(live_server.url, first.case_id, lambda rs: any(r["kind"] == "action" for r in rs))
    assert only(before, "action")["source_id"] == first.event_id
    await context.set_offline(True)

    await open_case(page, first.title)
    # Kontakt: a phone call now, outgoing and reached, is the form as it opens.
    await page.get_by_label("Kurznotiz (freiwillig)").fill("Rückruf Vermieterin")
    await page.get_by_role("button", name="Kontakt speichern").click()
    await expect(page.get_by_text("Kontakt: Telefon · ausgehend – Rückruf Vermieterin")).to_be_visible()

    await page.get_by_role("link", name="Neu: Fristen, Schreiben und Termine").click()
    await page.get_by_label("Art", exact=True).select_option("eviction_date")
    await page.get_by_label("Termin (Datum und Uhrzeit)").fill(f"{day(10)}T09:00")
    await page.get_by_label("Gericht").fill("Amtsgericht Beispielstadt")
    await save(page, first.title)

    await page.get_by_role("link", name="Neu: Offene Maßnahmen").click()
    await page.get_by_label("Was ist zu tun?").fill("Mietbescheinigung beim Vermieter holen")
    await page.get_by_label("Fällig am").fill(day(5))
    await save(page, first.title)

    await page.get_by_role("link", name="Neu: Anträge").click()
    await expect(page.get_by_label("Rechtsgrundlage")).to_have_value("wogg")  # Wohngeld, the first offered
    await page.get_by_label("Leistung", exact=True).select_option("debt_takeover_loan")
    # The legal basis and the agency follow the benefit until the worker changes them (the country profile's).
    await expect(page.get_by_label("Rechtsgrundlage")).to_have_value("sgb2_22_8")
    await expect(page.get_by_label("Leistungsträger")).to_have_value("Jobcenter")
    await page.get_by_label("Leistungsträger").fill("Jobcenter Beispielstadt")
    await page.get_by_label("Eingereicht am").fill(day(-30))
    await page.get_by_label("Entscheidung erwartet bis").fill(day(-2))
    await page.get_by_label("Betrag (€)").fill("1.537,20")
    await page.get_by_label("Zuschuss oder Darlehen").select_option("loan")
    await save(page, first.title)
    await expect(page.get_by_text("Entscheidung überfällig")).to_be_visible()

    await page.get_by_role("link", name="Neu: Ratenzahlungen").click()
    await page.get_by_label("Gläubiger*in", exact=True).select_option("landlord")
    await page.get_by_label("Name der Gläubiger*in").fill("Wohnbau Beispiel eG")
    await page.get_by_label("Gesamtbetrag (€)").fill("1200")
    await page.get_by_label("Monatsrate (€)").fill("1300")
    await page.get_by_label("Erste Rate am").fill(day(-20))
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text("Die Monatsrate ist höher als der Gesamtbetrag.")
    await page.get_by_label("Monatsrate (€)").fill("100")
    await save(page, first.title)
    agreement = page.locator("[data-agreement]")
    await expect(agreement).to_contain_text("Zahlung nicht erfasst")  # the first rate, 20 days ago, is open
    await expect(page.get_by_text("Zahlung erfassen: Wohnbau Beispiel eG")).to_be_visible()
    await agreement.get_by_role("link").click()
    first_rate = dt.date.fromisoformat(day(-20)).strftime("%d.%m.%Y")
    await page.get_by_role("button", name=f"Rate vom {_weekday(day(-20))}, {first_rate} nicht gezahlt").click()
    await expect(page.locator(".payments h3")).to_contain_text("im Rückstand")
    await expect(page.get_by_text("nicht gezahlt").first).to_be_visible()
    await page.get_by_role("link", name="Zurück").click()
    await expect(page.get_by_text("Rate nachholen: Wohnbau Beispiel eG")).to_be_visible()
    await expect(page.get_by_text("Zahlung erfassen: Wohnbau Beispiel eG")).to_have_count(0)  # recorded now

    # Vermittlung: refused without a consent, with the reason; then consent first, and the referral goes.
    await page.get_by_role("link", name="Neue Weitervermittlung").click()
    await expect(page.get_by_role("alert")).to_contain_text("braucht eine gültige Einwilligung")
    await page.get_by_label("Fachdienst").fill("Schuldnerberatung")
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("Bitte zuerst die Einwilligung erfassen")
    await page.get_by_role("link", name="Zurück").click()
    await page.get_by_role("link", name="Neue Einwilligung").click()
    await page.get_by_label("Zweck").fill("Weitergabe der Schuldenübersicht")
    await page.get_by_label("Empfänger*in").fill("Schuldnerberatung der Diakonie")
    await save(page, first.title)
    await page.get_by_role("link", name="Neue Weitervermittlung").click()
    await expect(page.get_by_role("alert")).to_be_hidden()
    await page.get_by_label("Fachdienst").fill("Schuldnerberatung")
    await page.get_by_label("Anlass").fill("Mehrere Gläubiger, Pfändung droht")
    await save(page, first.title)

    # Nachbarschaftskonflikt on the second case, with the first household as the other party.
    await open_case(page, second.title)
    await page.get_by_role("link", name="Neu: Nachbarschaftsvermittlung").click()
    await page.get_by_label("Thema").fill("Lärm im Treppenhaus")
    await page.get_by_label(first.title).check()
    await page.get_by_role("button", name="+ Vermittlungsgespräche").click()
    await page.get_by_label("Datum", exact=True).fill(day(-1))
    await page.get_by_label("Ergebnis des Gesprächs").fill("Ruhezeiten vereinbart")
    await page.get_by_label("Einigung erzielt").select_option("yes")
    await save(page, second.title)
    # The worker requests closure: it needs an outcome and a closing note.
    await page.get_by_role("button", name="Abschluss beantragen").click()
    await expect(page.get_by_role("alert")).to_have_text("Zum Abschließen bitte das Ergebnis wählen.")
    await page.get_by_label("Ergebnis", exact=True).select_option("secured")
    await page.get_by_role("button", name="Abschluss beantragen").click()
    await expect(page.get_by_role("alert")).to_have_text("Bitte einen kurzen Abschlussvermerk schreiben.")
    await page.get_by_label("Abschlussvermerk").fill("Ruhezeiten halten seit drei Wochen.")
    await page.get_by_role("button", name="Abschluss beantragen").click()
    await expect(page.get_by_role("heading", name="Abschluss beantragt")).to_be_visible()

    # The eviction date in ten days stands out on "Heute".
    await page.get_by_role("link", name="Heute").click()
    deadlines = page.locator("ul.deadlines")
    await expect(deadlines).to_contain_text("Räumungstermin in 10 Tagen")
    assert page.errors == []  # type: ignore[attr-defined]

    moment = await last_sync(page)
    await context.set_offline(False)
    await wait_synced(page, moment)
    records = await server_records(live_server.url, first.case_id)
    new = [r for r in records if r["id"] not in {b["id"] for b in before}]
    kinds = ["contact", "legal_event", "benefit_application", "installment_agreement", "consent", "referral"]
    # Six actions: the one typed, the eviction's preparation and its § 765a deadline, the overdue decision, the
    # installment to record (done once it was recorded as missed) and the missed installment.
    assert sorted(r["kind"] for r in new) == sorted([*kinds, *["action"] * 6])
    assert only(new, "contact")["channel"] == "phone"
    assert only(new, "contact")["summary"] == "Rückruf Vermieterin"
    event = only(new, "legal_event")
    assert (event["type"], event["court"]) == ("eviction_date", "Amtsgericht Beispielstadt")
    assert dt.datetime.fromisoformat(event["scheduled_at"]).astimezone(pinned.BERLIN).date().isoformat() == day(10)
    manual = only(new, "action", title="Mietbescheinigung beim Vermieter holen")
    assert (manual["due_on"], manual["owner_id"], manual["status"]) == (day(5), worker, "open")
    application = only(new, "benefit_application")
    assert application["kind"] == "debt_takeover_loan"
    assert (application["amount_cents"], application["form"], application["decision"]) == (153720, "loan", "pending")
    assert only(new, "action", source_kind="benefit_application")["due_on"] == day(-1)  # the day after it was due
    from_events = sorted(
        r["fields"]["due_on"] for r in new if r["kind"] == "action" and r["fields"].get("source_kind") == "legal_event"
    )
    # Prepare a week before, on the working day at or before it (the organisation's region is Germany, no Land).
    prepare = Calendar(Region("DE")).previous_working_day(dt.date.fromisoformat(day(3)))
    assert from_events[1] == prepare.isoformat()
    assert from_events[0] <= day(-4)  # § 765a ZPO: two weeks before, already passed
    deal = only(new, "installment_agreement")
    assert (deal["total_cents"], deal["monthly_rate_cents"], deal["start_on"]) == (120000, 10000, day(-20))
    assert deal["payments"] == [{"due_on": day(-20), "amount_cents": 10000, "paid_on": None, "missed": True}]
    recorded = [
        r["fields"] for r in new if r["kind"] == "action" and r["fields"]["title"].startswith("Zahlung erfassen")
    ]
    assert [r["status"] for r in recorded] == ["done"]
    behind = only(new, "action", source_kind="installment_agreement", status="open")
    assert behind["title"].startswith("Rate nachholen")
    assert behind["due_on"] == day(-19)
    consent = next(r for r in new if r["kind"] == "consent")
    assert consent["fields"]["given_on"] == day(0)
    referral = only(new, "referral")
    assert (referral["service"], referral["consent_id"], referral["status"]) == (
        "Schuldnerberatung",
        consent["id"],
        "sent",
    )
    assert referral["reason"] == "Mehrere Gläubiger, Pfändung droht"

    others = await server_records(live_server.url, second.case_id)
    mediation = only(others, "mediation")
    assert sorted(mediation["party_case_ids"]) == sorted([first.case_id, second.case_id])
    assert mediation["sessions"] == [{"on": day(-1), "outcome": "Ruhezeiten vereinbart"}]
    assert (mediation["topic"], mediation["agreement_reached"]) == ("Lärm im Treppenhaus", True)
    requested = only(others, "case")
    assert (requested["status"], requested["outcome"], requested["closing_requested_on"]) == (
        "closing_requested",
        "secured",
        day(0),
    )
    # The supervisor approves from the office; the worker's tablet shows the case closed.
    await approve_closure(live_server.url, second.case_id)
    await sync_now(page)
    await open_case_by_url(page, live_server.url, second.case_id, second.title)
    await expect(page.get_by_role("heading", name="Fall abgeschlossen")).to_be_visible()

    # Reopened with a reason, online this time.
    moment = await last_sync(page)
    await open_case_by_url(page, live_server.url, second.case_id, second.title)
    await page.get_by_label("Grund für die Wiederaufnahme").fill("Neue Beschwerde der Nachbarn")
    await page.get_by_role("button", name="Fall wieder öffnen").click()
    await expect(page.get_by_role("heading", name="Abschluss beantragen")).to_be_visible()
    await wait_synced(page, moment)
    reopened = only(await server_records(live_server.url, second.case_id), "case")
    assert (reopened["status"], reopened["outcome"], reopened["reopen_reason"]) == (
        "open",
        None,
        "Neue Beschwerde der Nachbarn",
    )
    await context.close()


async def open_case_by_url(page: Page, base_url: str, case_id: str, title: str) -> None:
    await page.evaluate(f"location.hash = '#/fall/{case_id}'")
    await expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()


def _weekday(iso: str) -> str:
    return ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."][dt.date.fromisoformat(iso).weekday()]
