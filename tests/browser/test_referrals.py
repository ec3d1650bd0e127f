"""The front door, end to end: property management hands a household over on its page, the supervisor takes it on
in the inbox and assigns a worker, the worker's tablet gets the push message and the case, and the referrer sees
"In Beratung" once the tenant is reached; never more."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from server.auth.models import Role
from server.db import create_engine, session_factory
from server.jobs.outreach import plan_outreach_visits
from server.records.keyring import Keyring
from server.settings import Settings
from tests.browser.test_push import STUB, deliver, running_worker
from tests.browser.test_screens import FITS, shoot
from tests.support import clock as pinned
from tests.support.accounts import Org, add_user, login
from tests.support.live import LiveServer
from tests.support.pushservice import LocalPushService
from tests.support.syncing import Device, new_id
from tests.support.tablet import TABLET_SIZES, new_tablet, setup_device, sync_now

pytestmark = [pytest.mark.browser]

NOTE = "Mieterin seit Wochen nicht erreichbar, Briefkasten voll"


async def test_a_referral_becomes_a_case_on_the_worker_s_tablet_and_the_referrer_sees_only_the_course(
    browser: Browser, live_server: LiveServer, org: Org, password_hash: str, screenshots: Path
) -> None:
    await add_user(live_server.database_url, "hausverwaltung", Role.REFERRER, org.team_id, password_hash)
    referrer_context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    referrer = await referrer_context.new_page()
    await referrer.goto(f"{live_server.url}/meldungen")
    await referrer.get_by_label("Benutzername").fill("hausverwaltung")
    await referrer.get_by_label("Passwort").fill("correct horse battery")
    await referrer.get_by_role("button", name="Anmelden").click()
    await expect(referrer.get_by_role("heading", name="Neuen Haushalt melden")).to_be_visible()
    await referrer.get_by_label("Name der Mieterin / des Mieters").fill("Erika Musterfrau")
    await referrer.get_by_label("Straße").fill("Lindenweg")
    await referrer.get_by_label("Hausnummer").fill("4")
    await referrer.get_by_label("PLZ").fill("12345")
    await referrer.get_by_label("Ort").fill("Beispielstadt")
    await referrer.get_by_label("Vertragsnummer").fill("VN-4711")
    await referrer.get_by_label("Mietrückstand (€)").fill("1.840,00")
    await referrer.get_by_label("Räumungsklage zugestellt am").fill(pinned.day(-5))
    await referrer.get_by_label("Hinweis für das Team").fill(NOTE)
    statement = b"%PDF-1.4\n% Kontoauszug Mietkonto\n%%EOF\n"
    await referrer.locator("#r-files").set_input_files(
        files=[{"name": "Kontoauszug.pdf", "mimeType": "application/pdf", "buffer": statement}]
    )
    assert await referrer.evaluate(FITS)
    await referrer.screenshot(path=screenshots / "meldung-formular-landscape.png", full_page=True)
    await referrer.get_by_role("button", name="Melden", exact=True).click()
    await expect(referrer.locator("#referral-notice")).to_have_text("Die Meldung ist beim Team eingegangen.")
    row = referrer.locator("#my-referrals tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Eingegangen")
    referral_id = await row.get_attribute("data-id")
    assert referral_id

    # The worker's tablet, subscribed to push messages through a local push service that decrypts.
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        await login(client, "supervisor")
        server_key = (await client.get("/api/push/key")).json()["public_key"]
    service = LocalPushService(server_key)
    await service.start()
    subscriber = service.subscriber()
    tablet = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    await tablet.add_init_script(STUB % json.dumps(subscriber.subscription()))
    office = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    try:
        worker = await new_tablet(tablet)
        await setup_device(worker, live_server.url)
        await worker.get_by_role("link", name="Sync-Status").click()
        await tablet.grant_permissions(["notifications"], origin=live_server.url)
        await worker.get_by_role("button", name="Benachrichtigungen aktivieren").click()
        await expect(worker.locator("#push-state")).to_have_text("aktiv (über 127.0.0.1)")
        cdp = await tablet.new_cdp_session(worker)
        registration_id = await running_worker(cdp, worker, live_server.url)

        # The supervisor's inbox: the household with the note for the team; taken on for the worker.
        page = await new_tablet(office)
        await setup_device(page, live_server.url, "supervisor")
        await page.get_by_role("link", name="Meldungen").click()
        card = page.locator(f"section.referral[data-id='{referral_id}']")
        await expect(card).to_contain_text("Erika Musterfrau")
        await expect(card).to_contain_text(NOTE)
        await expect(card).to_contain_text("Mietrückstand: 1.840,00")
        await expect(card.get_by_role("button", name="Unterlage: Kontoauszug")).to_be_visible()
        await shoot(page, screenshots, "meldungen-posteingang", "landscape")
        await card.evaluate("(e) => e.scrollIntoView({ block: 'start' })")
        await page.screenshot(path=screenshots / "meldung-im-posteingang-landscape.png")
        await card.get_by_label("Zuständig").select_option(label="Worker1")
        await card.get_by_role("button", name="Übernehmen").click()
        await expect(page.locator("#inbox-empty")).to_be_visible()

        for _ in range(100):
            if service.delivered(subscriber.token):
                break
            await asyncio.sleep(0.1)
        delivery = service.delivered(subscriber.token)[0]
        assert delivery.payload == {"t": "case_assigned", "id": referral_id}
        assert b"Musterfrau" not in delivery.raw
        notifications = await deliver(cdp, worker, live_server.url, registration_id, delivery.raw)
        assert notifications == [
            {
                "title": "Neuer Fall zugewiesen",
                "body": "Öffnen Sie Doorstep, um den Fall zu sehen.",
                "tag": f"case_assigned-{referral_id}",
                "data": {"url": f"/#/fall/{referral_id}"},
            }
        ]
        # The push asked the tablet to sync: the case is on the worker's list, with the lawsuit's Schonfrist.
        await worker.get_by_role("link", name="Fälle").click()
        await expect(worker.locator(f"a[href='#/fall/{referral_id}']")).to_be_visible(timeout=15_000)
        await worker.goto(f"{live_server.url}/#/fall/{referral_id}")
        await expect(worker.locator("#case-deadlines")).to_contain_text("Schonfrist")
        await expect(worker.locator("main")).to_contain_text("Kontoauszug (aus der Meldung)")

        # The worker sends the offer of help; the referrer reads "Kontaktversuch" (a letter reaches nobody yet).
        await worker.goto(f"{live_server.url}/#/fall/{referral_id}/brief/help_offer")
        await expect(worker.locator("#letter")).to_contain_text("Unsere Beratung ist kostenlos und vertraulich")
        await worker.get_by_role("button", name="Als versandt erfassen").click()
        await sync_now(worker)
        await referrer.reload()
        await expect(row).to_contain_text("Kontaktversuch")

        # No answer for a week: the outreach pass plans a home visit for the worker, which reaches the tablet.
        settings = Settings(
            data_dir=str(live_server.data_dir), database_url=live_server.database_url, environment="test"
        )
        engine = create_engine(settings.resolved_database_url)
        keyring = Keyring(settings)
        await keyring.load(engine)
        week_later = pinned.now() + dt.timedelta(days=8)
        try:
            assert await plan_outreach_visits(session_factory(engine), keyring, pinned.BERLIN, 7, now=week_later) == 1
        finally:
            await engine.dispose()
        await sync_now(worker)
        await worker.goto(f"{live_server.url}/#/fall/{referral_id}")
        await expect(worker.locator("main")).to_contain_text("Hausbesuch: geplant · Worker1")
        await expect(worker.get_by_role("link", name="Geplanten Besuch erfassen")).to_be_visible()
        await expect(worker.locator("#case-reached")).to_contain_text("nicht erreicht")

        # At the door the tenant is reached: "In Beratung" for the referrer, and nothing of what was said.
        async with httpx.AsyncClient(base_url=live_server.url) as client:
            device = Device(client, await login(client, "worker1"))
            visit = {"channel": "home_visit", "reached": True, "at": pinned.now().isoformat()}
            assert (await device.push(device.put("contact", new_id(), referral_id, visit)))[0]["status"] == "applied"
        await referrer.reload()
        await expect(row).to_contain_text("In Beratung")
        assert NOTE not in await referrer.content()
        await referrer.screenshot(path=screenshots / "meldungen-liste-landscape.png", full_page=True)
    finally:
        await tablet.close()
        await office.close()
        await referrer_context.close()
        await service.stop()


async def test_the_office_enters_the_court_s_notices_as_a_batch(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    try:
        page = await new_tablet(context)
        await setup_device(page, live_server.url, "supervisor")
        await page.get_by_role("link", name="Meldungen").click()
        rows = [
            ("Amtsgericht Beispielstadt", "12 C 345/26", pinned.day(-9), "", "Jonas Beispiel", "Ahornweg", "9"),
            (
                "Amtsgericht Beispielstadt",
                "12 C 346/26",
                pinned.day(-12),
                pinned.day(-3),
                "Anna Albers",
                "Birkenweg",
                "3",
            ),
        ]
        for n, (court, reference, filed, served, name, street, number) in enumerate(rows, start=1):
            if n > 1:
                await page.get_by_role("button", name="Weitere Mitteilung").click()
            for field, value in (
                ("court", court),
                ("reference", reference),
                ("filed_on", filed),
                ("served_on", served),
                ("tenant_name", name),
                ("street", street),
                ("house_number", number),
                ("postcode", "12345"),
                ("city", "Beispielstadt"),
            ):
                if value:
                    await page.locator(f"#notice-{n}-{field}").fill(value)
        await page.get_by_label("Zuständig").first.select_option(label="Worker1")
        await page.locator("#court-title").evaluate("(e) => e.scrollIntoView({ block: 'start' })")
        await page.screenshot(path=screenshots / "gerichtsmitteilungen-landscape.png")
        await page.get_by_role("button", name="Mitteilungen erfassen").click()
        await expect(page.locator("#notices-result")).to_have_text(
            "2 Fälle angelegt, 0 einem offenen Fall zugeordnet, 0 schon erfasst."
        )
        await sync_now(page)
        await page.get_by_role("link", name="Fälle").click()
        await expect(page.locator("main")).to_contain_text("Mietrückstand Beispiel")
        await page.locator("a", has_text="Mietrückstand Albers").first.click()
        await expect(page.locator("#case-deadlines")).to_contain_text("Schonfrist")
        await expect(page.locator("#case-reached")).to_contain_text("nicht erreicht")
        await expect(page.locator("main")).to_contain_text("Erstanschreiben: Hilfeangebot schicken")
        assert not page.errors, page.errors  # type: ignore[attr-defined]
    finally:
        await context.close()
