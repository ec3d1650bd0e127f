"""Browser fixtures: Debian's Chromium driven by Playwright, against a live server process.

Without Chromium the browser tests are skipped on a developer machine, and fail under ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from server.settings import Settings
from tests.support.clock import BERLIN, TestClock
from tests.support.live import LiveServer
from tests.support.tablet import CHROMIUM, DOCS_SCREENSHOTS


class Tablets:
    """The browser as the tests see it: every context it opens is a tablet in Berlin whose clock is the test's
    pinned clock (Playwright's clock API), so that the tablet and the server agree on the day and the time."""

    def __init__(self, browser: Browser, clock: TestClock) -> None:
        self._browser, self._clock = browser, clock

    async def new_context(self, **options: Any) -> BrowserContext:
        options.setdefault("timezone_id", BERLIN.key)
        context = await self._browser.new_context(**options)
        await self._clock.install(context)
        return context

    async def new_page(self, **options: Any) -> Page:
        return await (await self.new_context(**options)).new_page()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture
async def browser(clock: TestClock) -> AsyncIterator[Browser]:
    """A headless Chromium (Debian's package, not Playwright's download)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield cast("Browser", Tablets(browser, clock))
        finally:
            await browser.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the tests save screenshots: ``docs/screenshots`` with ``DOORSTEP_SCREENSHOTS=1`` (``make
    screenshots``), otherwise a temporary directory, so that a test run leaves the work tree as it was."""
    if os.environ.get("DOORSTEP_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path


@pytest.fixture
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """The app in a real uvicorn process on this test's database."""
    server = LiveServer(Path(settings.data_dir), settings.resolved_database_url)
    await server.start()
    try:
        yield server
    finally:
        server.stop()
