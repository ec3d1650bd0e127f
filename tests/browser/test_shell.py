"""The app shell in a real Chromium at tablet sizes: log in, see who is logged in, log out."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Response, expect

from tests.support.accounts import PASSWORD, Org
from tests.support.live import LiveServer
from tests.support.tablet import (
    TABLET_SIZES,
    last_sync,
    new_tablet,
    raw_indexeddb,
    seed_case,
    setup_device,
    sync_now,
    unlock,
)

pytestmark = [pytest.mark.usefixtures("org"), pytest.mark.browser]


@pytest.mark.parametrize("orientation", sorted(TABLET_SIZES))
async def test_a_worker_logs_in_sets_up_the_tablet_and_logs_out(
    browser: Browser, live_server: LiveServer, screenshots: Path, orientation: str
) -> None:
    context = await browser.new_context(viewport=TABLET_SIZES[orientation], locale="de-DE")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    await page.goto(live_server.url)
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    await page.screenshot(path=screenshots / f"login-{orientation}.png")

    await page.get_by_label("Benutzername").fill("worker1")
    await page.get_by_label("Passwort").fill("falsch")
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page.get_by_role("alert")).to_have_text("Benutzername oder Passwort ist falsch.")

    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page.get_by_role("heading", name="Gerät einrichten")).to_be_visible()
    await expect(page.get_by_text("Hallo Worker1.")).to_be_visible()
    await page.get_by_label("Geräte-Passwort", exact=True).fill("zu kurz")
    await page.get_by_label("Geräte-Passwort wiederholen").fill("zu kurz")
    await page.get_by_label("PIN (4 bis 8 Ziffern)").fill("12")
    await page.get_by_role("button", name="Einrichten und Daten laden").click()
    await expect(page.get_by_role("alert")).to_have_text("Das Geräte-Passwort braucht mindestens 10 Zeichen.")
    await page.screenshot(path=screenshots / f"setup-{orientation}.png")
    await page.get_by_label("Geräte-Passwort", exact=True).fill("Sommer im Hof 2026")
    await page.get_by_label("Geräte-Passwort wiederholen").fill("Sommer im Hof 2026")
    await page.get_by_role("button", name="Einrichten und Daten laden").click()
    await expect(page.get_by_role("alert")).to_have_text("Die PIN besteht aus 4 bis 8 Ziffern.")
    await page.get_by_label("PIN (4 bis 8 Ziffern)").fill("2468")
    await page.get_by_role("button", name="Einrichten und Daten laden").click()
    await expect(page.get_by_role("heading", name="Heute – Meine Besuche")).to_be_visible()
    await expect(page.get_by_text("Heute sind keine Besuche geplant.")).to_be_visible()

    await page.get_by_role("button", name="English").click()  # English on request
    await expect(page.get_by_role("heading", name="Today – my visits")).to_be_visible()
    await page.get_by_role("button", name="Deutsch").click()
    await expect(page.get_by_role("heading", name="Heute – Meine Besuche")).to_be_visible()

    await page.get_by_role("button", name="Abmelden").click()  # nothing unsynced: the device is emptied
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    assert await page.evaluate("(async () => (await import('/static/js/storage.js')).getMeta('vault'))()") is None
    await page.reload()
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    await context.close()
    # The only console errors allowed are the 401s of "who am I?" checks while logged out.
    assert all("401" in e for e in errors), "\n".join(errors)


async def test_the_tablets_cookie_copied_out_of_its_browser_opens_nothing(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    """docs/security.md case 58: the session cookie of a set-up tablet, used elsewhere, answers 401 to the pull and
    to /api/me; the key the app needs is nowhere on the tablet in clear, and after a cold start and the passphrase
    the app syncs again with it."""
    await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await new_tablet(context)
    handed_out: list[str] = []

    async def note_key(response: Response) -> None:
        if response.url.endswith("/api/auth/login") and response.ok:
            handed_out.append((await response.json())["request_key"])

    page.on("response", note_key)
    await setup_device(page, live_server.url)
    [key] = handed_out
    cookies = {c["name"]: c["value"] for c in await context.cookies()}
    async with httpx.AsyncClient(base_url=live_server.url, cookies=cookies) as thief:
        for path in ("/api/sync/pull", "/api/me", "/api/cases"):
            assert (await thief.get(path)).status_code == 401, path
        assert (await thief.get("/api/me", headers={"X-Doorstep-Key": key})).status_code == 200  # the cookie is live
    stored = await raw_indexeddb(page) + await page.evaluate("JSON.stringify(localStorage)")
    assert key not in stored

    await page.reload()  # a cold start: the key comes back from its sealed copy once the passphrase is typed
    await unlock(page)
    before = await last_sync(page)
    await sync_now(page)
    assert await last_sync(page) != before
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def test_the_supervisor_downloads_the_figures_as_csv_with_the_devices_key(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    """The report's CSV is fetched with the device's key (a plain link could not send it) and saved as a file."""
    await seed_case(live_server.url, worker_id=str(org.worker1_id))
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE", accept_downloads=True)
    page = await new_tablet(context)
    await setup_device(page, live_server.url, "supervisor")
    await page.get_by_role("link", name="Berichte").click()
    await page.get_by_role("button", name="Bericht anzeigen").click()
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="CSV für Excel (Semikolon)").click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".csv")
    content = Path(await download.path()).read_text(encoding="utf-8-sig")
    assert ";" in content.splitlines()[0]
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()
