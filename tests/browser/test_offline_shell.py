"""The installable shell: manifest, service worker, and a cold start with no network."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from server.web.pwa import asset_manifest
from tests.support.live import LiveServer
from tests.support.tablet import TABLET_SIZES

pytestmark = [pytest.mark.usefixtures("org"), pytest.mark.browser]


async def test_the_shell_loads_from_its_cache_when_the_network_is_gone(
    browser: Browser, live_server: LiveServer
) -> None:
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"])
    page = await context.new_page()
    await page.goto(live_server.url)
    await page.evaluate("navigator.serviceWorker.ready")
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    caches = await page.evaluate("caches.keys()")
    version, _ = asset_manifest()
    assert len(caches) == 1
    assert caches[0].startswith(f"doorstep-shell-{version}-")  # the static files' version, then the letters'
    cached = await page.evaluate(
        "async () => (await (await caches.open((await caches.keys())[0])).keys()).map((r) => new URL(r.url).pathname)"
    )
    assert "/letters.json" in cached  # the letters work offline from the first start on

    await context.set_offline(True)
    await page.reload()
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    await expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
    color = await page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert color == "rgb(20, 33, 61)"  # the stylesheet came from the cache too
    fresh = await context.new_page()  # a "cold start": a new page while offline
    await fresh.goto(live_server.url)
    await expect(fresh.get_by_role("heading", name="Anmelden")).to_be_visible()
    await context.close()


async def test_manifest_and_service_worker_are_served_for_installation(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        manifest = await client.get("/manifest.webmanifest")
        worker = await client.get("/sw.js")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["start_url"] == "/"
    assert body["display"] == "standalone"
    assert {icon["sizes"] for icon in body["icons"]} >= {"192x192", "512x512"}
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    version, urls = asset_manifest()
    assert f'"{version}-' in worker.text
    assert "/static/js/app.js" in urls
    assert "skipWaiting()" not in worker.text.split('event.data.type === "SKIP_WAITING"')[0]


def test_the_shell_version_changes_with_any_static_file(tmp_path: Path) -> None:
    root = tmp_path / "static"
    (root / "js").mkdir(parents=True)
    (root / "js" / "app.js").write_text("console.log(1)")
    page = tmp_path / "index.html"
    page.write_text("<html>1</html>")
    first, urls = asset_manifest.__wrapped__(root, (page,))
    (root / "js" / "app.js").write_text("console.log(2)")
    second, _ = asset_manifest.__wrapped__(root, (page,))
    page.write_text("<html>2</html>")
    third, _ = asset_manifest.__wrapped__(root, (page,))
    assert len({first, second, third}) == 3
    assert urls == ("/", "/static/js/app.js")
