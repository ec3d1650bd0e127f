"""Background passes in the app's lifespan that stop between passes, never inside one.

Cancelling a task in the middle of a database transaction can leave its connection to the garbage collector,
still holding SQLite's write lock: the next writer (a sync push, the push dispatcher recording what it sent) then
waits for the busy timeout. :func:`every` therefore asks its pass to stop and lets the pass in flight finish; only a
pass that overruns ``grace`` seconds is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = ["every"]

logger = logging.getLogger("doorstep")


@contextlib.asynccontextmanager
async def every(
    seconds: float, job: Callable[[], Awaitable[None]], *, name: str, grace: float = 30.0
) -> AsyncIterator[None]:
    """Run ``job`` now and then every ``seconds`` for the lifetime of the block. ``job`` logs its own failures;
    an exception that escapes it is logged here and the next pass runs as planned."""
    stopping = asyncio.Event()

    async def loop() -> None:
        while not stopping.is_set():
            try:
                await job()
            except Exception:
                logger.exception("%s failed; trying again in %s s", name, seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), seconds)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            logger.warning("%s did not finish within %s s on shutdown; cancelled", name, grace)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
