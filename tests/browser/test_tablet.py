"""The tablet app in Chromium: offline start, recording at the door, sync, conflicts, encryption, wipe and lock."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from tests.support import clock as pinned
from tests.support.accounts import PASSWORD, Org
from tests.support.live import LiveServer
from tests.support.tablet import (
    PASSPHRASE,
    PIN,
    TABLET_SIZES,
    last_sync,
    new_tablet,
    outbox_size,
    raw_indexeddb,
    seed_case,
    server_records,
    setup_device,
    sync_now,
    unlock,
    until_on_server,
    wait_synced,
    worker_tablet,
)

pytestmark = [pytest.mark.browser]

CANARY = "Kanarienvogel-7Q9 Frau Erika Musterfrau weint, Lindenweg 4"


async def test_a_cold_start_offline_asks_for_the_passphrase_and_shows_the_visits(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await expect(page.locator("[data-list=today]").get_by_text(seeded.title)).to_be_visible()

    await context.set_offline(True)
    await page.close()  # the app is closed; the tablet has no network when it is opened again
    page = await new_tablet(context)
    await page.goto(live_server.url)
    await expect(page.get_by_role("heading", name="Gerät entsperren")).to_be_visible()
    await page.get_by_label("Geräte-Passwort").fill("falsches Passwort")
    await page.get_by_role("button", name="Entsperren").click()
    await expect(page.get_by_role("alert")).to_have_text("Das Geräte-Passwort ist falsch.")
    await unlock(page)
    await expect(page.get_by_role("heading", name="Heute – Meine Besuche")).to_be_visible()
    today = page.locator("[data-list=today]")
    await expect(today.get_by_text(seeded.title)).to_be_visible()
    await expect(page.get_by_text("Gerichtstermin in 6 Tagen").first).to_be_visible()
    await expect(page.locator("#net-state")).to_contain_text("Offline")
    await context.close()


async def fill_assessment(page: Page) -> dict[str, object]:
    """Fill every one of the twelve sections through the form; returns what the server should then hold."""
    await page.get_by_label("Erwachsene").fill("2")
    await page.get_by_label("Kinder", exact=True).fill("1")
    await page.get_by_role("button", name="Weiter").click()
    # Form version 2: the rent comes from the household, the hearing from the legal events; both are linked.
    await expect(page.locator("[data-linked=housing]")).to_be_visible()
    await expect(page.get_by_label("Nettokaltmiete (€)")).to_have_count(0)
    await page.get_by_label("Hauptwohnsitz gemeldet").select_option("yes")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_label("Mietrückstand (€)").fill("1.537,20")
    await expect(page.locator("[data-linked=arrears]")).to_contain_text("Gerichtstermin")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_role("button", name="+ Einkommen").click()
    await page.get_by_label("Person", exact=True).fill("Mieterin")
    await page.get_by_label("Quelle", exact=True).select_option("wages")
    await page.get_by_label("Monatlich (€)").fill("1450")
    await page.get_by_label("Nachweis eingesehen").check()
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_role("button", name="+ Bezogene Leistungen").click()
    await page.get_by_label("Leistung", exact=True).select_option("wohngeld")
    await page.get_by_label("Monatlich (€)").fill("150")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_role("button", name="+ Fixkosten").click()
    await page.get_by_label("Posten", exact=True).fill("Miete")
    await page.get_by_label("Monatlich (€)").fill("592,40")
    await page.get_by_label("vorrangig (Miete, Energie)").check()
    await page.get_by_role("button", name="+ Variable Ausgaben").click()
    await page.get_by_label("Posten", exact=True).last.fill("Lebensmittel")
    await page.get_by_label("Monatlich (€)").last.fill("1100")
    # The balance is computed while typing: 1,450 + 150 - 592.40 - 1,100 = -92.40
    await expect(page.locator("#balance")).to_have_text("Saldo: -92,40 €")
    # An income changed and the budget opened at once from the section list: the balance has the new figure.
    for income, balance in (("1500", "-42,40"), ("1450", "-92,40")):
        await page.get_by_role("link", name="4. Einkommen").click()
        await expect(page.get_by_role("heading", name="4. Einkommen")).to_be_visible()
        await page.get_by_label("Monatlich (€)").fill(income)
        await page.get_by_role("link", name="6. Haushaltsbudget").click()
        await expect(page.get_by_role("heading", name="6. Haushaltsbudget")).to_be_visible()
        await expect(page.locator("#balance")).to_have_text(f"Saldo: {balance} €")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_role("button", name="+ Gläubiger*innen").click()
    await page.get_by_label("Name", exact=True).fill("Stadtwerke")
    await page.get_by_label("Betrag (€)").fill("310")
    await page.get_by_label("Art", exact=True).select_option("energy")
    await page.get_by_label("Pfändung", exact=True).select_option("no")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_label("Energierückstand (€)").fill("310")
    await page.get_by_label("Sperre", exact=True).select_option("threatened")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_label("Arbeitsplatzverlust").check()
    await page.get_by_label("Einzelheiten").fill("Kündigung im Sommer")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_label("Häusliche Gewalt").select_option("no")
    await page.get_by_label("Beteiligte Dienste").fill("Schuldnerberatung")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_label("Beschwerden", exact=True).select_option("no")
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_label("Risikoeinschätzung").select_option("high")
    await page.get_by_label("Mietvertrag").check()
    await page.get_by_role("button", name="Einschätzung abschließen").click()
    return {
        "household": {"adults": 2, "children": 1},
        "housing": {"main_residence_registered": True},
        "arrears": {"rent_arrears_cents": 153720},
        "income": {"items": [{"member": "Mieterin", "source": "wages", "monthly_cents": 145000, "proof_seen": True}]},
        "benefits": {"received": [{"kind": "wohngeld", "monthly_cents": 15000, "applied_on": None}]},
        "budget": {
            "fixed": [{"label": "Miete", "monthly_cents": 59240, "priority": True}],
            "variable": [{"label": "Lebensmittel", "monthly_cents": 110000, "priority": False}],
        },
        "debts": {"creditors": [{"name": "Stadtwerke", "amount_cents": 31000, "kind": "energy"}], "garnishment": False},
        "energy": {"arrears_cents": 31000, "disconnection": "threatened"},
        "cause": {"causes": ["job_loss"], "details": "Kündigung im Sommer"},
        "health": {"domestic_violence": False, "services_involved": ["Schuldnerberatung"]},
        "neighbourhood": {"complaints": False},
        "risk": {"risk": "high"},
        "documents": ["lease"],
    }


async def test_a_visit_note_and_assessment_recorded_offline_arrive_exactly_once_after_reloads(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "portrait")
    # The court date makes a preparation action on the device, which syncs: the baseline includes it.
    before = await until_on_server(live_server.url, seeded.case_id, lambda rs: any(r["kind"] == "action" for r in rs))
    await context.set_offline(True)

    await page.get_by_role("link", name=f"Besuch erfassen: {seeded.title}").click()
    await page.get_by_label("durchgeführt").check()
    await page.get_by_label("Kontaktart").select_option("home_visit")
    await page.get_by_label("Notiz zum Besuch").fill(CANARY)
    await expect(page.get_by_text("Entwurf auf dem Gerät gesichert.")).to_be_visible()
    await page.reload()  # a crash before saving: the draft is still there
    await unlock(page)
    await expect(page.get_by_label("Notiz zum Besuch")).to_have_value(CANARY)
    await page.get_by_role("button", name="Besuch speichern").click()
    await expect(page.get_by_role("heading", name=seeded.title)).to_be_visible()
    await page.get_by_role("link", name="Einschätzung").click()
    expected = await fill_assessment(page)
    await expect(page.get_by_role("heading", name=seeded.title)).to_be_visible()
    await expect(page.locator("#badge-sync")).to_be_visible()

    for _ in range(2):
        await page.reload()
        await unlock(page)
    assert await outbox_size(page) == 4  # visit, contact, note, assessment (section saves merged into one)
    before_sync = await last_sync(page)
    await context.set_offline(False)  # the online event starts the sync
    await wait_synced(page, before_sync)

    after = await server_records(live_server.url, seeded.case_id)
    new = {r["id"]: r for r in after if r["id"] not in {b["id"] for b in before}}
    assert sorted(r["kind"] for r in new.values()) == ["assessment", "contact", "note"]
    visit = next(r for r in after if r["id"] == seeded.visit_id)
    assert visit["fields"]["status"] == "done"
    assert visit["fields"]["visited_at"] is not None
    note = next(r for r in new.values() if r["kind"] == "note")
    assert note["fields"]["text"] == CANARY
    assert note["fields"]["visit_id"] == seeded.visit_id
    contact = next(r for r in new.values() if r["kind"] == "contact")
    assert contact["fields"]["channel"] == "home_visit"
    assert contact["fields"]["visit_id"] == seeded.visit_id
    assessment = next(r for r in new.values() if r["kind"] == "assessment")["fields"]
    assert assessment["form_version"] == 2
    assert assessment["housing"]["net_rent_cents"] is None  # version 2 takes the rent from the household
    assert assessment["completed_at"] is not None
    for section, values in expected.items():
        if isinstance(values, dict):
            for name, value in values.items():
                assert assessment[section][name] == value, (section, name)
        else:
            assert assessment[section] == values
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def record_outcome(page: Page, title: str, outcome: str, at: str) -> None:
    await page.get_by_role("link", name="Heute").click()
    await page.get_by_role("link", name=f"Besuch erfassen: {title}").click()
    await page.get_by_label(outcome).check()
    # One visit time on every tablet (it defaults to the current minute, which may turn between the two), and
    # never a time later today (a visit cannot be recorded ahead): the edits differ in their outcome only.
    await page.locator("#visited-at-time").fill(at)
    await page.get_by_role("button", name="Besuch speichern").click()
    await expect(page.get_by_role("heading", name=title)).to_be_visible()


async def test_two_devices_of_one_worker_see_the_same_conflict_and_the_same_resolution(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    first_context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    second_context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    first, second = await new_tablet(first_context), await new_tablet(second_context)
    await setup_device(first, live_server.url)
    await setup_device(second, live_server.url)
    await first_context.set_offline(True)
    await second_context.set_offline(True)
    at = pinned.local().strftime("%H:%M")
    await record_outcome(first, seeded.title, "durchgeführt", at)
    await record_outcome(second, seeded.title, "nicht angetroffen", at)

    before_first, before_second = await last_sync(first), await last_sync(second)
    await first_context.set_offline(False)
    await wait_synced(first, before_first)
    await second_context.set_offline(False)
    await wait_synced(second, before_second)
    await sync_now(first)
    for page, mine in ((first, "durchgeführt"), (second, "nicht angetroffen")):
        await page.locator('#nav a[href="#/konflikte"]').click()
        card = page.locator("section.conflict")
        await expect(card).to_have_count(1)
        await expect(card.locator(".side").first).to_contain_text("durchgeführt")
        await expect(card.locator(".side").last).to_contain_text("nicht angetroffen")
        # Each tablet calls the value it wrote "Ihr Stand", the other one a change by its author.
        await expect(card.locator(".side", has_text=mine).locator("h4")).to_have_text("Ihr Stand")
        other = card.locator(".side", has_text="nicht angetroffen" if mine == "durchgeführt" else "durchgeführt")
        await expect(other.locator("h4")).to_have_text("Änderung von Worker1")
        await expect(card.locator("h3")).to_contain_text("Hausbesuch – Status")

    before_second = await last_sync(second)
    await second.locator("section.conflict").locator(".side").last.get_by_role("button").click()
    await expect(second.locator("ul.resolved .chosen")).to_have_text("nicht angetroffen")
    await wait_synced(second, before_second)
    await sync_now(first)
    await first.locator('#nav a[href="#/konflikte"]').click()
    await expect(first.locator("section.conflict")).to_have_count(0)
    await expect(first.locator("ul.resolved .chosen")).to_have_text("nicht angetroffen")
    visit = next(r for r in await server_records(live_server.url, seeded.case_id) if r["id"] == seeded.visit_id)
    assert visit["fields"]["status"] == "not_home"
    await first_context.close()
    await second_context.close()


async def test_indexeddb_holds_no_plaintext_of_a_note_before_or_after_sync(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "portrait")
    await context.set_offline(True)
    await page.get_by_role("link", name=seeded.title).first.click()
    await page.get_by_label("Neue Notiz").fill(CANARY)
    await page.get_by_role("button", name="Notiz hinzufügen").click()
    await expect(page.locator(".note").get_by_text(CANARY)).to_be_visible()
    await page.get_by_role("link", name="Heute").click()
    await page.get_by_role("link", name=f"Besuch erfassen: {seeded.title}").click()
    await page.get_by_label("Notiz zum Besuch").fill(f"Entwurf {CANARY}")
    await expect(page.get_by_text("Entwurf auf dem Gerät gesichert.")).to_be_visible()

    waiting = await raw_indexeddb(page)  # the note in the outbox and the store, the draft in drafts
    before_sync = await last_sync(page)
    await context.set_offline(False)
    await wait_synced(page, before_sync)
    synced = await raw_indexeddb(page)  # the note as pulled back from the server
    for raw in (waiting, synced):
        assert "Kanarienvogel" not in raw
        assert "Musterfrau" not in raw
        assert seeded.title not in raw
    assert len(waiting) > 1000  # the dump did read the stores
    await context.close()


async def test_a_revoked_device_wipes_its_data_on_the_next_sync(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await expect(page.get_by_text(seeded.title).first).to_be_visible()
    device_id = await page.evaluate("localStorage.getItem('doorstep.device_id')")

    async with httpx.AsyncClient(base_url=live_server.url) as admin:
        credentials = {"username": "admin", "password": PASSWORD, "device_name": "PC"}
        body = (await admin.post("/api/auth/login", json=credentials)).json()
        admin.headers["X-CSRF-Token"] = body["csrf_token"]
        assert (await admin.post(f"/api/admin/devices/{device_id}/revoke")).status_code == 200

    await page.evaluate("import('/static/js/sync.js').then((sync) => sync.syncNow())")  # the next sync
    await expect(page.get_by_role("heading", name="Dieses Gerät wurde gesperrt")).to_be_visible()
    names = await page.evaluate("(async () => (await indexedDB.databases()).map((d) => d.name))()")
    assert "doorstep" not in names
    assert await page.evaluate("localStorage.length") == 0
    await page.reload()  # the session of the revoked device still answers device-revoked: nothing comes back
    await expect(page.get_by_role("heading", name="Dieses Gerät wurde gesperrt")).to_be_visible()
    assert seeded.title not in await page.content()
    await page.get_by_role("button", name="Als neues Gerät anmelden").click()
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    await context.close()


async def test_the_pin_resumes_the_lock_and_five_wrong_pins_require_the_passphrase(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "portrait")

    await page.get_by_role("button", name="Sperren").click()
    await expect(page.get_by_role("heading", name="Gesperrt")).to_be_visible()
    await expect(page.get_by_text("Doorstep wurde gesperrt.")).to_be_visible()  # pressed, not after a pause
    assert seeded.title not in await page.locator("main").inner_text()
    await page.get_by_label("PIN").fill(PIN)
    await page.get_by_role("button", name="Entsperren").click()
    await expect(page.get_by_text(seeded.title).first).to_be_visible()

    # The idle lock: after the configured minutes without input.
    await page.evaluate("localStorage.setItem('doorstep.idle_minutes', '0.01')")
    await page.mouse.click(5, 500)
    await expect(page.get_by_role("heading", name="Gesperrt")).to_be_visible(timeout=5000)
    await expect(page.get_by_text("Doorstep wurde nach einer Pause gesperrt.")).to_be_visible()
    for attempt in range(1, 5):
        await page.get_by_label("PIN").fill("0000")
        await page.get_by_role("button", name="Entsperren").click()
        left = "1 Versuch" if attempt == 4 else f"{5 - attempt} Versuche"
        await expect(page.get_by_role("alert")).to_have_text(f"Falsche PIN. Noch {left}.")
    await page.evaluate("localStorage.removeItem('doorstep.idle_minutes')")
    await page.get_by_label("PIN").fill("1111")
    await page.get_by_role("button", name="Entsperren").click()
    await expect(page.get_by_role("heading", name="Gerät entsperren")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("Fünfmal falsche PIN")
    assert await page.evaluate("document.getElementById('lock-pin')") is None
    await page.get_by_label("Geräte-Passwort").fill(PASSPHRASE)
    await page.get_by_role("button", name="Entsperren").click()
    # The old PIN is gone for good: a new one must be chosen before the app is used.
    await expect(page.get_by_role("heading", name="PIN für die Bildschirmsperre festlegen")).to_be_visible()
    await page.get_by_label("PIN (4 bis 8 Ziffern)").fill("8642")
    await page.get_by_role("button", name="PIN speichern").click()
    await expect(page.get_by_text(seeded.title).first).to_be_visible()
    await page.get_by_role("button", name="Sperren").click()
    await page.get_by_label("PIN").fill(PIN)
    await page.get_by_role("button", name="Entsperren").click()
    await expect(page.get_by_role("alert")).to_have_text("Falsche PIN. Noch 4 Versuche.")
    await page.get_by_label("PIN").fill("8642")
    await page.get_by_role("button", name="Entsperren").click()
    await expect(page.get_by_text(seeded.title).first).to_be_visible()
    await context.close()


async def test_a_forgotten_passphrase_resets_the_device_after_saying_what_is_lost(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await context.set_offline(True)
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    await page.get_by_label("Neue Notiz").fill("Offline geschrieben, nie übertragen")
    await page.get_by_role("button", name="Notiz hinzufügen").click()
    await expect(page.get_by_text("Offline geschrieben, nie übertragen")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("heading", name="Gerät entsperren")).to_be_visible()
    await page.get_by_text("Geräte-Passwort vergessen?").click()
    questions: list[str] = []

    async def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        await (dialog.dismiss() if len(questions) == 1 else dialog.accept())

    page.on("dialog", answer)
    await page.get_by_role("button", name="Gerät zurücksetzen").click()  # the first question is declined
    await expect(page.get_by_role("heading", name="Gerät entsperren")).to_be_visible()
    unsent = await outbox_size(page)
    assert unsent >= 1  # the note at least
    in_words = "1 Änderung auf diesem Tablet ist" if unsent == 1 else f"{unsent} Änderungen auf diesem Tablet sind"
    assert f"{in_words} noch nicht übertragen" in questions[0]
    await context.set_offline(False)
    await page.get_by_role("button", name="Gerät zurücksetzen").click()
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    lost = "1 nicht übertragene Änderung ist" if unsent == 1 else f"{unsent} nicht übertragene Änderungen sind"
    await expect(page.get_by_text(f"{lost} verloren")).to_be_visible()
    assert (
        await page.evaluate("async () => (await indexedDB.databases()).filter((d) => d.name === 'doorstep').length")
        == 0
    )
    await setup_device(page, live_server.url)  # a new start: log in, new passphrase, the cases come back
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    await expect(page.get_by_role("heading", name=seeded.title)).to_be_visible()
    await context.close()


async def test_logout_with_unsynced_work_keeps_it_encrypted_for_the_next_login(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await context.set_offline(True)
    await page.get_by_role("link", name=seeded.title).first.click()
    await page.get_by_label("Neue Notiz").fill("Nach dem Abmelden nicht verlieren")
    await page.get_by_role("button", name="Notiz hinzufügen").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Abmelden").click()
    await expect(page.get_by_role("heading", name="Gerät entsperren")).to_be_visible()
    await expect(page.locator("main p.error[role=alert]")).to_contain_text("verschlüsselt auf dem Gerät geblieben")
    assert await outbox_size(page) == 1

    await context.set_offline(False)
    await unlock(page)
    # The session ended at logout: the app asks for a new login to sync, then sends the note.
    await page.get_by_role("button", name="Neu anmelden").click()
    await page.get_by_label("Benutzername").fill("worker1")
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await wait_synced(page, await last_sync(page))
    texts = [r["fields"]["text"] for r in await server_records(live_server.url, seeded.case_id) if r["kind"] == "note"]
    assert texts == ["Nach dem Abmelden nicht verlieren"]
    await context.close()
