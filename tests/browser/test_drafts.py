"""What a worker typed and did not save survives the idle lock, a sync, a reload and a crash, encrypted.

The tablet's clock is Playwright's: the idle lock comes from running it five minutes on, not from a shortened
setting.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.accounts import Org
from tests.support.live import LiveServer
from tests.support.tablet import PIN, raw_indexeddb, seed_case, unlock, worker_tablet

pytestmark = [pytest.mark.browser]

ACTION = "Vermieter wegen Ratenzahlung anrufen, Zeuge Quastenflosser-4K"
ACTION_NOTES = "Frau Quastenflosser bittet um Rückruf nach 16 Uhr"
CONTACT = "Nachbarin Quastenflosser sagt, Herr K. ist im Krankenhaus"
CASE_NOTE = "Quastenflosser: Kontoauszüge liegen im Flur"

COUNT_DRAFTS = """(async () => {
  const db = await (await import("/static/js/storage.js")).openDB();
  return new Promise((ok) => {
    const request = db.transaction("drafts").objectStore("drafts").count();
    request.onsuccess = () => ok(request.result);
  });
})()"""


async def _idle_lock_and_unlock(page: Page) -> None:
    """Five minutes without a touch on the tablet's clock: the lock; the PIN opens it again."""
    await page.locator("main h2").first.click()  # a touch outside the fields starts the idle time afresh
    await page.clock.fast_forward("05:01")
    await expect(page.get_by_role("heading", name="Gesperrt")).to_be_visible()
    assert ACTION not in await page.locator("main").inner_text()
    await page.get_by_label("PIN").fill(PIN)
    await page.get_by_role("button", name="Entsperren").click()
    await expect(page.locator("#nav")).to_be_visible()


async def on_a_case(browser: Browser, live_server: LiveServer, org: Org, size: str) -> tuple[BrowserContext, Page]:
    """Worker 1's tablet, showing a case of theirs."""
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, size)
    await page.get_by_role("link", name=seeded.title).first.click()
    return context, page


async def test_what_is_typed_survives_the_idle_lock_a_sync_a_reload_and_is_encrypted(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    context, page = await on_a_case(browser, live_server, org, "landscape")
    case_url = page.url

    # On the case: a new note and a contact's note, neither saved.
    await page.get_by_label("Neue Notiz").fill(CASE_NOTE)
    await page.get_by_label("Kurznotiz (freiwillig)").fill(CONTACT)
    await _idle_lock_and_unlock(page)
    await expect(page.get_by_label("Neue Notiz")).to_have_value(CASE_NOTE)
    await expect(page.get_by_label("Kurznotiz (freiwillig)")).to_have_value(CONTACT)

    # A new action, typed and not saved, through the lock ...
    await page.goto(f"{case_url}/action/neu")
    await page.get_by_label("Was ist zu tun?").fill(ACTION)
    await page.get_by_label("Anmerkungen").fill(ACTION_NOTES)
    await _idle_lock_and_unlock(page)
    await expect(page.get_by_label("Was ist zu tun?")).to_have_value(ACTION)
    await expect(page.get_by_label("Anmerkungen")).to_have_value(ACTION_NOTES)
    await expect(page.get_by_text("Nicht gespeicherte Eingaben wiederhergestellt.")).to_be_visible()

    # ... a background sync that redraws the screen ...
    await page.locator("main h2").first.click()
    await page.evaluate("import('/static/js/sync.js').then((sync) => sync.syncNow())")
    await page.evaluate("window.dispatchEvent(new HashChangeEvent('hashchange'))")  # the screen drawn anew
    await expect(page.get_by_label("Was ist zu tun?")).to_have_value(ACTION)

    # ... and a crash: the page is gone without warning and comes back cold, behind the passphrase.
    raw = await raw_indexeddb(page)
    for secret in (ACTION, ACTION_NOTES, CONTACT, CASE_NOTE, "Quastenflosser"):
        assert secret not in raw
    assert await page.evaluate(COUNT_DRAFTS) == 3
    await page.reload()
    await unlock(page)
    await expect(page.get_by_label("Was ist zu tun?")).to_have_value(ACTION)
    await expect(page.get_by_label("Anmerkungen")).to_have_value(ACTION_NOTES)

    # Saving the action ends its draft; the case's drafts stay until they are saved.
    await page.get_by_role("button", name="Speichern", exact=True).click()
    await expect(page.get_by_text(ACTION).first).to_be_visible()
    await expect(page.get_by_label("Neue Notiz")).to_have_value(CASE_NOTE)
    await expect(page.get_by_label("Kurznotiz (freiwillig)")).to_have_value(CONTACT)
    assert await page.evaluate(COUNT_DRAFTS) == 2
    await page.get_by_role("button", name="Kontakt speichern").click()
    await expect(page.get_by_label("Kurznotiz (freiwillig)")).to_have_value("")
    assert await page.evaluate(COUNT_DRAFTS) == 1
    await page.goto(f"{case_url}/action/neu")
    await expect(page.get_by_label("Was ist zu tun?")).to_have_value("")  # a new action starts empty again
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def test_a_restored_draft_can_be_discarded(browser: Browser, live_server: LiveServer, org: Org) -> None:
    context, page = await on_a_case(browser, live_server, org, "portrait")
    await page.goto(f"{page.url}/action/neu")
    await page.get_by_label("Was ist zu tun?").fill(ACTION)
    await page.get_by_role("link", name="Zurück").click()  # left without saving: kept
    # On the case again before going back: a back pressed before the case was drawn would find the form still on
    # show, never left, with what was typed and no draft to offer.
    await expect(page.get_by_label("Neue Notiz")).to_be_visible()
    await page.go_back()
    await expect(page.get_by_label("Was ist zu tun?")).to_have_value(ACTION)
    await page.get_by_role("button", name="Verwerfen").click()
    await expect(page.get_by_label("Was ist zu tun?")).to_have_value("")
    await expect(page.get_by_text("Nicht gespeicherte Eingaben wiederhergestellt.")).to_be_hidden()
    assert await page.evaluate(COUNT_DRAFTS) == 0
    await context.close()


async def test_a_form_left_and_opened_again_before_its_draft_is_written_shows_the_draft(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    # A slow tablet: writing a draft takes half a second. Back to the form before the write is done, the form is
    # drawn once the draft is written, with it, and not empty.
    context, page = await on_a_case(browser, live_server, org, "portrait")
    await page.goto(f"{page.url}/action/neu")
    await page.evaluate(
        """import('/static/js/data.js').then((data) => {
          const save = data.drafts.save;
          data.drafts.save = async (...args) => {
            await new Promise((done) => setTimeout(done, 500));
            return save(...args);
          };
        })"""
    )
    await page.get_by_label("Was ist zu tun?").fill(ACTION)
    await page.evaluate("history.back()")  # to the case, the draft being written ...
    await page.wait_for_timeout(100)
    await page.evaluate("history.forward()")  # ... and to the form again before it is
    await expect(page.get_by_text("Nicht gespeicherte Eingaben wiederhergestellt.")).to_be_visible()
    await expect(page.get_by_label("Was ist zu tun?")).to_have_value(ACTION)
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()
