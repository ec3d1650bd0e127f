"""Browser fixtures: Debian's Chromium driven by Playwright, against a live server process.

Without Chromium the browser tests are skipped on a developer machine, and fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from server.settings import Settings
from tests.support.clock import BERLIN, TestClock
from tests.support.live import LiveServer
from tests.support.tablet import CHROMIUM, DOCS_SCREENSHOTS


class Tablets:
    """The browser as the tests see it: every context it opens is a tablet in Berlin whose clock is the test's
    pinned clock (Playwright's clock API), so that the tablet and the server agree on the day and the time.

    The contexts are the test's own: they are closed when it ends, and the next test starts with none."""

    def __init__(self, browser: Browser, clock: TestClock) -> None:
        self._browser, self._clock = browser, clock
        self._contexts: list[BrowserContext] = []

    async def new_context(self, **options: Any) -> BrowserContext:
        options.setdefault("timezone_id", BERLIN.key)
        context = await self._browser.new_context(**options)
        self._contexts.append(context)
        await self._clock.install(context)
        return context

    async def new_page(self, **options: Any) -> Page:
        return await (await self.new_context(**options)).new_page()

    async def close_contexts(self) -> None:
        for context in self._contexts:
            with contextlib.suppress(PlaywrightError):  # a test may have closed it, or the browser crashed
                await context.close()
        self._contexts.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


class Chromium:
    """One headless Chromium per test process, started when a test first asks for it: Playwright's driver and a
    Chromium cost about 1.3 s of CPU to start, every time. A browser that crashed is started again."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    async def browser(self) -> Browser:
        if self._browser is None or not self._browser.is_connected():
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
        return self._browser

    async def close(self) -> None:
        if self._browser is not None:
            with contextlib.suppress(PlaywrightError):
                await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Chromium]:
    """The test process's Chromium (Debian's package, not Playwright's download). The browser tests run in the
    session's event loop, which this Chromium's connection lives in (tests/conftest.py)."""
    shared = Chromium()
    try:
        yield shared
    finally:
        await shared.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium: Chromium, clock: TestClock) -> AsyncIterator[Browser]:
    """The test's tablets, in the shared headless Chromium."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    tablets = Tablets(await chromium.browser(), clock)
    try:
        yield cast("Browser", tablets)
    finally:
        await tablets.close_contexts()


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
