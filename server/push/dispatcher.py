"""The push dispatcher: an in-process task that sends queued messages, with backoff, in any number of processes.

A round claims due jobs (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent dispatchers never take the same
job; under SQLite's single writer lock otherwise), marks them with a lease, commits, sends them concurrently
and records each outcome. A job whose process died keeps its lease until it expires and is then sent again;
a normal shutdown lets the round in flight finish, so no job is lost or sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import begin_write, utcnow
from server.push.models import PushJob, PushSubscription
from server.push.sender import Outcome, Sent, send
from server.push.vapid import VapidKeys
from server.settings import Settings

__all__ = ["Dispatcher", "dispatcher_task"]

logger = logging.getLogger("doorstep.push")


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    subscription_id: uuid.UUID
    endpoint: str
    p256dh: str
    auth: str
    event: str
    ref_id: uuid.UUID
    topic: str
    attempts: int


class Dispatcher:
    """Sends push jobs; :meth:`wake` after queueing makes it look at once instead of at the next poll.

    ``now`` is the clock that decides which jobs are due and when a retry is; tests pass their own to step
    through backoff without waiting.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        keys: VapidKeys,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.keys = keys
        self.now = now
        self._wake = asyncio.Event()
        self._stopping = False
        self.rounds = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.settings.push_timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not self._stopping:
                # Cleared before the rounds: a wake that arrives while they run is kept for the next pass.
                self._wake.clear()
                try:
                    await self.drain(http)
                except Exception:  # a database hiccup must not end the dispatcher
                    logger.exception("push dispatcher round failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.push_poll_seconds)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain(self, http: aiohttp.ClientSession) -> int:
        """Send until nothing is due. Each round's outcomes are recorded in the same transaction that claims the
        next round's jobs: one write per round, which matters under SQLite's single writer."""
        handled = 0
        outcomes: list[tuple[_Claimed, Sent]] = []
        while True:
            claimed = await self._step(outcomes, claim=not self._stopping)
            if not claimed:
                return handled
            self.rounds += 1
            handled += len(claimed)
            outcomes = await self.deliver(http, claimed)

    async def claim(self) -> list[_Claimed]:
        """Claim due jobs (for tests and tools; :meth:`drain` is the dispatcher's loop)."""
        return await self._step([], claim=True)

    async def settle(self, outcomes: list[tuple[_Claimed, Sent]]) -> None:
        """Record outcomes without claiming more."""
        await self._step(outcomes, claim=False)

    async def deliver(self, http: aiohttp.ClientSession, claimed: list[_Claimed]) -> list[tuple[_Claimed, Sent]]:
        """Send claimed jobs concurrently; returns each job with its outcome, for :meth:`settle`."""
        limit = asyncio.Semaphore(16)

        async def one(job: _Claimed) -> tuple[_Claimed, Sent]:
            async with limit:
                return job, await send(
                    http,
                    self.keys,
                    endpoint=job.endpoint,
                    p256dh=job.p256dh,
                    auth=job.auth,
                    event=job.event,
                    ref_id=job.ref_id,
                    topic=job.topic,
                    subject=self.settings.push_subject,
                    ttl=self.settings.push_ttl_seconds,
                    urgency="high",
                    seconds=self.settings.push_timeout_seconds,
                )

        return list(await asyncio.gather(*(one(job) for job in claimed)))

    async def _step(self, outcomes: list[tuple[_Claimed, Sent]], *, claim: bool) -> list[_Claimed]:
        now = self.now()
        due = (
            select(PushJob.id)
            .where(
                PushJob.state == "pending",
                PushJob.due_at <= now,
                or_(PushJob.claimed_until.is_(None), PushJob.claimed_until < now),
            )
            .order_by(PushJob.due_at)
            .limit(self.settings.push_batch)
        )
        async with self.sessions() as db:
            postgres = (await db.connection()).dialect.name == "postgresql"
            # Look before writing: most passes find nothing to record and nothing due.
            if not outcomes and (not claim or not (await db.scalars(due.limit(1))).first()):
                return []
            await db.rollback()
            await begin_write(db)
            await self._record(db, outcomes, now)
            claimed: list[_Claimed] = []
            if claim:
                ids = list((await db.scalars(due.with_for_update(skip_locked=True) if postgres else due)).all())
                if ids:
                    claimed = await self._take(db, ids, now)
            await db.commit()
        return claimed

    async def _take(self, db: AsyncSession, ids: list[uuid.UUID], now: dt.datetime) -> list[_Claimed]:
        lease = now + dt.timedelta(seconds=self.settings.push_lease_seconds)
        await db.execute(
            update(PushJob)
            .where(PushJob.id.in_(ids))
            .values(claimed_until=lease, attempts=PushJob.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        rows = (
            await db.execute(
                select(
                    PushJob.id,
                    PushJob.subscription_id,
                    PushSubscription.endpoint,
                    PushSubscription.p256dh,
                    PushSubscription.auth,
                    PushJob.event,
                    PushJob.ref_id,
                    PushJob.topic,
                    PushJob.attempts,
                )
                .join(PushSubscription, PushSubscription.id == PushJob.subscription_id)
                .where(PushJob.id.in_(ids))
            )
        ).all()
        return [_Claimed(*row) for row in rows]

    def _backoff(self, attempts: int, sent: Sent) -> dt.timedelta:
        seconds = min(
            self.settings.push_backoff_cap_seconds, self.settings.push_backoff_seconds * 2 ** max(0, attempts - 1)
        )
        return dt.timedelta(seconds=max(seconds, sent.retry_after or 0))

    async def _record(self, db: AsyncSession, outcomes: list[tuple[_Claimed, Sent]], now: dt.datetime) -> None:
        for job, sent in outcomes:
            values: dict[str, object] = {"claimed_until": None, "last_status": sent.status}
            if sent.outcome is Outcome.SENT:
                values.update(state="sent", sent_at=now)
            elif sent.outcome is Outcome.RETRY and job.attempts < self.settings.push_max_attempts:
                values.update(due_at=now + self._backoff(job.attempts, sent))
            elif sent.outcome is Outcome.GONE:
                values.update(state="gone")
                # Only the subscription this message went to: a newer one of the same device stays.
                await db.execute(
                    delete(PushSubscription).where(
                        PushSubscription.id == job.subscription_id, PushSubscription.endpoint == job.endpoint
                    )
                )
            else:
                values.update(state="failed")
                host = urlsplit(job.endpoint).hostname
                if sent.outcome is Outcome.CONFIG:
                    logger.error(
                        "push service %s refused our VAPID credentials (%s); check the key and the subject",
                        host,
                        sent.status,
                    )
                else:
                    logger.warning(
                        "push to %s given up after %d attempts (last status %s)", host, job.attempts, sent.status
                    )
            await db.execute(update(PushJob).where(PushJob.id == job.id).values(**values))


@contextlib.asynccontextmanager
async def dispatcher_task(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    """Run the dispatcher for the lifetime of the app; on exit let the round in flight finish."""
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        dispatcher.stop()
        try:
            await asyncio.wait_for(task, dispatcher.settings.push_timeout_seconds + 5)
        except TimeoutError:
            logger.warning("push dispatcher did not stop in time; unsent claims expire and are sent again")
