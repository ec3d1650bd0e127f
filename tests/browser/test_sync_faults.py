"""The tablet as a sync client under faults that used to lose or delay a worker's saved work."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from playwright.async_api import Browser, Route, expect

from tests.support import clock as pinned
from tests.support.accounts import PASSWORD, Org
from tests.support.live import LiveServer
from tests.support.tablet import (
    PIN,
    TABLET_SIZES,
    last_sync,
    new_tablet,
    seed_case,
    server_records,
    setup_device,
    unlock,
    until,
    wait_synced,
)

pytestmark = [pytest.mark.browser]

QUEUE_OFFLINE = """async ({caseId, eventId, notes}) => {
  const data = await import("/static/js/data.js");
  for (let i = 0; i < notes; i++) await data.create("note", caseId, {text: `Notiz ${i}`, visit_id: null});
  await data.save("legal_event", eventId, caseId, {reference: "A"});
}"""
DRAFT_KEPT = """async () => {
  const db = await (await import("/static/js/storage.js")).openDB();
  return new Promise((ok) => {
    const request = db.transaction("drafts").objectStore("drafts").count();
    request.onsuccess = () => ok(request.result > 0);
  });
}"""
SYNC_RAN = """async (before) => {
  const last = await (await import("/static/js/storage.js")).getMeta("last_sync");
  return Boolean(last) && last !== before && document.getElementById("sync-bar").hidden;
}"""
OUTBOX_EMPTY = """async () => {
  const outbox = await import("/static/js/outbox.js");
  return (await outbox.outboxCounts()).total === 0;
}"""


async def server_reference(base_url: str, event_id: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as client:
        body = (
            await client.post(
                "/api/auth/login", json={"username": "supervisor", "password": PASSWORD, "device_name": "Büro"}
            )
        ).json()
        client.headers["X-CSRF-Token"] = body["csrf_token"]
        cases = (await client.get("/api/cases")).json()
        for case in cases:
            detail = (await client.get(f"/api/cases/{case['id']}")).json()
            for record in detail["records"]:
                if record["id"] == event_id:
                    return str(record["fields"]["reference"])
    raise AssertionError("the legal event is not on the server")


async def test_an_edit_saved_during_a_long_push_is_kept_continued_and_sent_without_another_trigger(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    # 150 changes wait (two batches); while the first batch is on its way the worker saves the Aktenzeichen again.
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    try:
        page = await new_tablet(context)
        await setup_device(page, live_server.url)
        await context.set_offline(True)
        await page.evaluate(QUEUE_OFFLINE, {"caseId": seeded.case_id, "eventId": seeded.event_id, "notes": 150})
        in_flight, release = asyncio.Event(), asyncio.Event()

        async def hold_first_batch(route: Route) -> None:
            if not in_flight.is_set():
                in_flight.set()
                await release.wait()
            await route.continue_()

        await page.route("**/api/sync/push", hold_first_batch)
        await context.set_offline(False)
        await page.evaluate(
            """import('/static/js/sync.js').then((sync) => {
              window.__pushed = [];
              sync.subscribe((e) => e.type === "progress" && e.phase === "push" && window.__pushed.push(e.done));
              sync.syncNow();
            })"""
        )
        await asyncio.wait_for(in_flight.wait(), 30)
        await page.evaluate(
            """async ({caseId, eventId}) => {
              const data = await import("/static/js/data.js");
              await data.save("legal_event", eventId, caseId, {reference: "B"});
            }""",
            {"caseId": seeded.case_id, "eventId": seeded.event_id},
        )
        # The save asks for a sync 1.5 s later, while the held run still goes on: that request must not be lost.
        await page.wait_for_timeout(2000)
        release.set()
        await until(page, OUTBOX_EMPTY, seconds=30)
        assert await server_reference(live_server.url, seeded.event_id) == "B"
        pushed = await page.evaluate("window.__pushed")
        assert 100 in pushed  # the progress moved within the long push, not only at its end
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await context.close()


async def test_a_tablet_whose_clock_runs_three_days_ahead_warns_and_records_in_the_servers_time(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    """The tablet says its clock is wrong, and a note written "now" is recorded at the server's now, so that the
    server does not refuse it as lying in the future and nothing is stuck in the outbox."""
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["portrait"], locale="de-DE")
    try:
        page = await new_tablet(context)
        await setup_device(page, live_server.url)
        banner = page.locator("#clock-banner")
        await expect(banner).to_be_hidden()
        await context.clock.set_system_time(pinned.now() + dt.timedelta(days=3))
        await page.evaluate("import('/static/js/sync.js').then((sync) => sync.syncNow())")
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text("Die Uhr dieses Tablets geht 3 Tage vor")
        await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
        await page.get_by_label("Neue Notiz").fill("Mit falscher Uhr geschrieben")
        before = await last_sync(page)
        await page.get_by_role("button", name="Notiz hinzufügen").click()
        await page.evaluate("import('/static/js/sync.js').then((sync) => sync.syncNow())")
        await wait_synced(page, before)  # nothing refused, nothing left waiting
        records = await server_records(live_server.url, seeded.case_id)
        [note] = [r for r in records if r["kind"] == "note"]
        written = dt.datetime.fromisoformat(note["fields"]["written_at"])
        assert abs(written - pinned.now()) < dt.timedelta(minutes=2)
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await context.close()


async def test_a_visit_recorded_offline_with_a_clock_three_days_ahead_is_corrected_and_sent_not_lost(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    """Offline, the tablet cannot know its clock is wrong: the visit is recorded three days ahead and the server
    refuses it. The refusal stays on the sync status with the moment to put right (suggested: less the difference
    measured since), is sent again, and arrives; before the next visit is saved, the form says the clock is off."""
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    try:
        page = await new_tablet(context)
        await setup_device(page, live_server.url)
        # Heute has asked for the day's appointments: its answer must not arrive after the clock is moved.
        await expect(page.locator("#appointments-today")).not_to_contain_text("geladen")
        await context.set_offline(True)
        await context.clock.set_system_time(pinned.now() + dt.timedelta(days=3))
        await page.evaluate(f"location.hash = '#/besuch/neu/{seeded.case_id}'")
        await expect(page.locator(".clock-warning")).to_have_count(0)  # offline, the difference is not known yet
        await page.get_by_label("Notiz zum Besuch").fill("Mieterin angetroffen, Unterlagen gesichtet")
        await page.get_by_role("button", name="Besuch speichern").click()
        await expect(page.get_by_role("heading", name=seeded.title)).to_be_visible()

        await context.set_offline(False)
        await page.get_by_role("link", name="Sync-Status").click()
        before = await last_sync(page)
        await page.get_by_role("button", name="Jetzt synchronisieren").click()
        await until(page, SYNC_RAN, before)  # a run that ends with refusals: the outbox is not empty
        await expect(page.locator("#rejected-count")).to_have_text("3")  # the visit, its contact, its note
        fixes = page.get_by_role("button", name="Korrigieren und erneut senden")
        await expect(fixes).to_have_count(3)
        # The suggestion is the recorded moment less the three days the clock was found to run ahead.
        suggested = pinned.now().astimezone(pinned.BERLIN).strftime("%d.%m.%Y")
        await expect(page.locator(".moment-fix input.date-text").first).to_have_value(suggested)
        for left in (2, 1, 0):
            await fixes.first.click()
            await expect(fixes).to_have_count(left)
        await until(page, OUTBOX_EMPTY, seconds=30)
        await page.get_by_role("link", name="Sync-Status").click()
        await expect(page.locator("#rejected-count")).to_have_text("0")

        records = await server_records(live_server.url, seeded.case_id)
        [visit] = [r for r in records if r["kind"] == "visit" and r["fields"].get("visited_at")]
        [contact] = [r for r in records if r["kind"] == "contact"]
        [note] = [r for r in records if r["kind"] == "note"]
        for moment in (visit["fields"]["visited_at"], visit["fields"]["planned_at"], contact["fields"]["at"]):
            assert abs(dt.datetime.fromisoformat(moment) - pinned.now()) < dt.timedelta(minutes=3)
        assert abs(dt.datetime.fromisoformat(note["fields"]["written_at"]) - pinned.now()) < dt.timedelta(minutes=3)
        assert note["fields"]["text"] == "Mieterin angetroffen, Unterlagen gesichtet"

        # Now the difference is known: the next visit is saved in the server's time, and the form says so first.
        await page.evaluate(f"location.hash = '#/besuch/neu/{seeded.case_id}'")
        await expect(page.locator(".clock-warning")).to_contain_text("Die Uhr dieses Tablets geht 3 Tage vor")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await context.close()


async def test_locking_one_tab_locks_every_tab_and_titles_name_no_tenant(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, title="Mietrückstand Familie Beispiel", worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    try:
        first = await new_tablet(context)
        await setup_device(first, live_server.url)
        second = await new_tablet(context)
        await second.goto(live_server.url)
        await unlock(second)
        await second.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
        await expect(second.locator("main")).to_contain_text("Familie Beispiel")
        assert await second.title() == "Doorstep"  # the window title (and so the history) names no tenant
        await first.get_by_role("button", name="Sperren").click()
        await expect(second.locator("#lock-screen")).to_be_visible()
        await expect(second.locator("main")).not_to_contain_text("Familie Beispiel")
        assert await second.title() == "Doorstep"
        background = await second.evaluate("getComputedStyle(document.getElementById('lock-screen')).backgroundColor")
        assert background == "rgb(20, 33, 61)"  # opaque: nothing shows through
        # A screen still being built when the lock comes is not drawn behind it.
        await first.get_by_label("PIN").fill(PIN)
        await first.get_by_role("button", name="Entsperren").click()
        await expect(first.locator("#lock-screen")).to_be_hidden()  # the PIN is checked: unlocked
        await first.evaluate("location.hash = '#/heute'")
        await expect(first.locator("main h2").first).to_be_visible()
        shown = await first.evaluate(
            """async (caseId) => {
              location.hash = `#/fall/${caseId}`;
              await new Promise((next) => setTimeout(next, 0));  // the case screen has started to load
              document.getElementById("lock-button").click();
              await new Promise((next) => setTimeout(next, 500));
              return document.querySelector("main").innerText;
            }""",
            seeded.case_id,
        )
        assert "Familie Beispiel" not in shown
    finally:
        await context.close()


async def test_a_new_note_being_typed_survives_lock_and_a_redraw(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["portrait"], locale="de-DE")
    try:
        page = await new_tablet(context)
        await setup_device(page, live_server.url)
        await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
        typed = "Frau K. bringt am Montag die Kontoauszüge vorbei."
        await page.get_by_label("Neue Notiz").fill(typed)
        await until(page, DRAFT_KEPT)  # kept after a short pause in typing, as for visit notes
        await page.get_by_role("button", name="Sperren").click()
        await page.get_by_label("PIN").fill(PIN)
        await page.get_by_role("button", name="Entsperren").click()
        await expect(page.get_by_label("Neue Notiz")).to_have_value(typed)
        await page.reload()
        await unlock(page)
        await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
        await expect(page.get_by_label("Neue Notiz")).to_have_value(typed)
        await page.get_by_role("button", name="Notiz hinzufügen").click()
        await expect(page.get_by_label("Neue Notiz")).to_have_value("")
    finally:
        await context.close()


# What the browser does when the origin's quota is reached: every write is refused with QuotaExceededError, and
# the estimate reports the storage as full. (DevTools' Storage.overrideQuotaForOrigin has no effect on this
# headless Chromium, so the refusal is made at the IndexedDB API itself, the edge of what the app runs.)
FULL_STORAGE = """(() => {
  const full = () => new DOMException("The quota has been exceeded.", "QuotaExceededError");
  for (const method of ["put", "add"]) {
    const original = IDBObjectStore.prototype[method];
    IDBObjectStore.prototype[method] = function (...args) {
      if (window.__storageFull) throw full();
      return original.apply(this, args);
    };
  }
  const estimate = navigator.storage.estimate.bind(navigator.storage);
  navigator.storage.estimate = async () => (window.__storageFull ? { usage: 95, quota: 100 } : estimate());
})();"""


async def test_a_full_device_says_so_and_keeps_what_was_typed(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    try:
        await context.add_init_script(FULL_STORAGE)
        page = await new_tablet(context)
        await setup_device(page, live_server.url)
        await page.evaluate(f"location.hash = '#/besuch/{seeded.visit_id}'")
        typed = "Gespräch an der Tür; Frau K. sucht die Kontoauszüge heraus."
        await page.evaluate("window.__storageFull = true")
        await page.get_by_label("Notiz zum Besuch").fill(typed)
        await page.get_by_role("button", name="Besuch speichern").click()
        await expect(page.locator("#toast")).to_contain_text("Der Speicher des Tablets ist voll")
        await expect(page.get_by_label("Notiz zum Besuch")).to_have_value(typed)
        await page.get_by_role("link", name="Sync-Status").click()  # any later check of the estimate warns
        await page.evaluate("import('/static/js/sync.js').then((sync) => sync.syncNow())")
        await expect(page.locator("#storage-banner")).to_contain_text("zu 95 % belegt")
        # Only the reports of the refused writes, no uncaught error.
        assert [e for e in page.errors if "quota has been exceeded" not in e] == []  # type: ignore[attr-defined]
    finally:
        await context.close()


async def test_a_revoked_device_is_wiped_at_start_and_says_what_was_lost(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    try:
        page = await new_tablet(context)
        await setup_device(page, live_server.url)
        await context.set_offline(True)  # two changes made at the door never reach the server
        await page.evaluate(QUEUE_OFFLINE, {"caseId": seeded.case_id, "eventId": seeded.event_id, "notes": 1})
        device_id = await page.evaluate("localStorage.getItem('doorstep.device_id')")
        async with httpx.AsyncClient(base_url=live_server.url) as admin:
            credentials = {"username": "admin", "password": PASSWORD, "device_name": "PC"}
            body = (await admin.post("/api/auth/login", json=credentials)).json()
            admin.headers["X-CSRF-Token"] = body["csrf_token"]
            assert (await admin.post(f"/api/admin/devices/{device_id}/revoke")).status_code == 200
        await page.close()  # the app is closed while offline; the next start has a network again
        await context.set_offline(False)
        page = await new_tablet(context)
        await page.goto(live_server.url)  # the revocation is learnt before any passphrase is asked for
        await expect(page.get_by_role("heading", name="Dieses Gerät wurde gesperrt")).to_be_visible()
        await expect(page.get_by_role("alert")).to_contain_text(
            "2 Änderungen waren noch nicht an den Server übertragen"
        )
        names = await page.evaluate("(async () => (await indexedDB.databases()).map((d) => d.name))()")
        assert "doorstep" not in names
    finally:
        await context.close()
