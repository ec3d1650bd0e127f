"""The app in process: run its lifespan, and talk to it over HTTP without a socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar

__all__ = ["BASE_URL", "client_from", "running"]

BASE_URL = "http://127.0.0.1"


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[Litestar]:
    """Run ``app``'s lifespan in a task of its own, so that pytest may tear it down from another task."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    await asyncio.wait([task, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # startup failed: raise its error here
    try:
        yield app
    finally:
        stop.set()
        await task


def client_from(app: Litestar, address: str = "127.0.0.1", base_url: str = BASE_URL) -> httpx.AsyncClient:
    """A client on ``app`` (run it with :func:`running` first) whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)
