"""The app shell in a real Chromium at tablet sizes: log in, see who is logged in, log out."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.support.accounts import PASSWORD
from tests.support.live import LiveServer
from tests.support.tablet import TABLET_SIZES

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
