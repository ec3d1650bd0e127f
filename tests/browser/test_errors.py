"""When the server or the network fails under a button or a screen, the worker reads what happened in German
and can go on: no uncaught error, no unhandled promise rejection, no blank screen."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.support.accounts import Org
from tests.support.live import LiveServer
from tests.support.tablet import TABLET_SIZES, setup_device

pytestmark = [pytest.mark.browser]

PROXY_502 = "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"


async def bad_gateway(route: Route) -> None:
    await route.fulfill(status=502, content_type="text/html", body=PROXY_502)


def uncaught(page: Page) -> list[str]:
    """Uncaught errors and unhandled rejections of ``page``, as Chromium reports them."""
    seen: list[str] = []
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


async def test_a_save_answered_by_a_proxys_502_page_shows_a_german_message(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    try:
        page = await context.new_page()
        errors = uncaught(page)
        await setup_device(page, live_server.url)
        await page.get_by_role("link", name="Sync-Status").click()
        await context.grant_permissions(["notifications"], origin=live_server.url)
        await page.route("**/api/push/key", bad_gateway)
        await page.get_by_role("button", name="Benachrichtigungen aktivieren").click()
        await expect(page.locator("#toast")).to_contain_text("Der Server ist gerade gestört (Fehler 502)")
        assert errors == []
    finally:
        await context.close()


async def test_a_screen_that_fails_offers_to_try_again(browser: Browser, live_server: LiveServer, org: Org) -> None:
    context = await browser.new_context(viewport=TABLET_SIZES["portrait"], locale="de-DE")
    try:
        page = await context.new_page()
        errors = uncaught(page)
        await setup_device(page, live_server.url, username="supervisor")
        await page.route("**/api/reports/charts/**", lambda route: route.abort())
        await page.get_by_role("link", name="Berichte").click()
        await expect(page.get_by_role("heading", name="Diese Ansicht konnte nicht geladen werden")).to_be_visible()
        await expect(page.get_by_role("alert")).to_contain_text("Etwas ist schiefgelaufen")
        await page.unroute("**/api/reports/charts/**")
        await page.get_by_role("button", name="Erneut versuchen").click()
        await expect(page.get_by_role("heading", name="Berichte", exact=True)).to_be_visible()
        assert errors == []
    finally:
        await context.close()
