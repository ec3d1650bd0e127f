"""Requests that wait in the process for a transaction they may share with others (group commit).

Some writes of one organisation take turns on a row lock in the database (its sync clock, its audit chain's
head). Rather than each request opening a transaction and waiting there, holding a connection, they wait here.
:class:`Sharing` keeps what waits, and at most ``limit`` tasks at a time take from it and run it: ``take``
removes from the waiting list what one transaction takes, and returns it; ``run`` commits and answers each piece
of work, and must not raise for a piece's failure. A task stops when nothing waits, and gives up its place in the
same step, so work queued after that step starts a new task and nothing is left waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

__all__ = ["Sharing", "answered"]

Work = TypeVar("Work")


class Sharing(Generic[Work]):
    """Work waiting for a shared transaction, and the tasks (at most ``limit``) that take it."""

    __slots__ = ("_run", "_take", "_tasks", "limit", "waiting")

    def __init__(
        self, limit: int, take: Callable[[list[Work]], list[Work]], run: Callable[[list[Work]], Awaitable[None]]
    ) -> None:
        self.limit = limit
        self.waiting: list[Work] = []
        self._take = take
        self._run = run
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, work: Work) -> None:
        """Queue ``work``; a task takes it as soon as one is free."""
        self.waiting.append(work)
        if len(self._tasks) < self.limit:
            self._tasks.add(asyncio.create_task(self._drain()))

    async def _drain(self) -> None:
        try:
            while self.waiting:
                await self._run(self._take(self.waiting))
        finally:
            self._tasks.discard(cast("asyncio.Task[None]", asyncio.current_task()))


def answered(outcome: asyncio.Future[Any]) -> None:
    """A done-callback for the future a request awaits: its failure counts as seen, since a request that has gone
    away never awaits it, and that is not news to log."""
    if not outcome.cancelled():
        outcome.exception()
