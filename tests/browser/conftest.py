"""Browser fixtures: Debian's Chromium driven by Playwright, against a live server process.

Without Chromium the browser tests are skipped on a developer machine, and fail under ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from server.settings import Settings
from tests.support.live import LiveServer
from tests.support.tablet import CHROMIUM, DOCS_SCREENSHOTS


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
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
            yield browser
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
