"""The administrators' page (/verwaltung), on a tablet: a list of twelve colleagues imported at once (a wrong line
refused with its number, then the list taken whole), a colleague who left locked out, a lost tablet revoked; and
a team member who signs in to the tablet app is never sent there."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.test_screens import FITS, UNNAMED
from tests.support.accounts import PASSWORD, Org, login
from tests.support.axe import audit, small_targets
from tests.support.live import LiveServer
from tests.support.tablet import TABLET_SIZES

pytestmark = [pytest.mark.browser]

# What reaches past the right edge, for the message when something does.
WIDE = """() => [...document.querySelectorAll("*")]
  .filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
  .map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`).slice(0, 12)"""
COLLEAGUES = [(f"fachkraft{n:02d}", f"Fachkraft {n:02d}", "worker", "Team Nord") for n in range(1, 12)]


def user_list(*extra: str) -> bytes:
    lines = ["username,display_name,role,team", *(",".join(row) for row in COLLEAGUES), *extra]
    return ("\n".join(lines) + "\n").encode()


async def look(page: Page, screenshots: Path, name: str) -> None:
    """Every control named, nothing scrolling sideways, no serious accessibility finding; then the picture."""
    wide = await page.evaluate(WIDE)
    assert await page.evaluate(FITS), f"{name} scrolls sideways: {wide}"
    assert await page.evaluate(UNNAMED) == []
    serious = [v["id"] for v in await audit(page) if v["impact"] in ("critical", "serious")]
    assert serious == [], serious
    assert await small_targets(page) == []
    await page.screenshot(path=screenshots / f"{name}.png", full_page=True)


async def test_the_administrator_imports_a_team_locks_out_a_leaver_and_revokes_a_lost_tablet(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as tablet:
        await login(tablet, "worker2")  # a tablet of worker2's, soon lost
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{live_server.url}/verwaltung")
    await page.get_by_label("Benutzername").fill("worker1")
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page.get_by_role("alert")).to_contain_text("für die Administration")  # no one else's page
    await page.get_by_label("Benutzername").fill("admin")
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page.get_by_role("heading", name="Konten")).to_be_visible()

    # The list with one wrong line: refused, the line named, nobody created.
    upload = page.locator("#import-file")
    wrong = user_list("gaertner,Gärtnerin,gardener,Team Nord")
    await upload.set_input_files(files=[{"name": "team.csv", "mimeType": "text/csv", "buffer": wrong}])
    await page.get_by_role("button", name="Importieren").click()
    await expect(page.locator("#admin-notice")).to_contain_text("Zeile 13, role")
    await expect(page.locator("#user-list tbody tr")).to_have_count(6)
    # Corrected: all taken, with a first password each, shown once.
    await page.locator("#import-file").set_input_files(
        files=[{"name": "team.csv", "mimeType": "text/csv", "buffer": user_list()}]
    )
    await page.get_by_role("button", name="Importieren").click()
    await expect(page.locator("#admin-notice")).to_have_text("11 angelegt, 0 geändert, 0 schon wie in der Liste.")
    await expect(page.locator("#one-time-passwords tbody tr")).to_have_count(11)
    first_password = await page.locator("#one-time-passwords tbody tr").first.locator("code").inner_text()
    await expect(page.locator("#user-list tbody tr")).to_have_count(17)
    await look(page, screenshots, "verwaltung-landscape")

    # A leaver: locked out, every session ended.
    row = page.locator("#user-list tr[data-username='worker2']")
    await row.get_by_role("button", name="worker2 ändern").click()
    await page.get_by_role("button", name="Sperren", exact=True).click()
    await expect(page.locator("#admin-notice")).to_contain_text("worker2 ist gesperrt")
    await expect(page.locator("#user-list tr[data-username='worker2']")).to_contain_text("gesperrt")
    # The lost tablet: revoked.
    lost = page.locator("#device-list tbody tr", has_text="worker2").first
    await lost.get_by_role("button").click()
    # The device's own message: the leaver's ("worker2 ist gesperrt; …") must not stand in for it.
    await expect(page.locator("#admin-notice")).to_have_text("Test-Tablet von worker2 ist gesperrt.")
    await expect(lost).to_contain_text("gesperrt")
    await page.set_viewport_size(TABLET_SIZES["portrait"])
    await page.locator("#user-list tr[data-username='fachkraft01']").get_by_role("button").click()
    await expect(page.get_by_role("heading", name="fachkraft01 bearbeiten")).to_be_visible()
    await look(page, screenshots, "verwaltung-portrait")
    await context.close()

    async with httpx.AsyncClient(base_url=live_server.url) as client:
        assert (
            await client.post("/api/auth/login", json={"username": "worker2", "password": PASSWORD})
        ).status_code == 401
        await login(client, "fachkraft01", first_password)  # the first password works
