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
from collections.abc import AsyncIterator
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
    """Sends push jobs; :meth:`wake` after queueing makes it look at once instead of at the next poll."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, keys: VapidKeys) -> None:
        self.sessions = sessions
        self.settings = settings
        self.keys = keys
        self._wake = asyncio.Event()
        self._stopping = False
        self.rounds = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.settings.push_timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not self._stopping:
                try:
                    while await self.round(http) and not self._stopping:
                        pass
                except Exception:  # a database hiccup must not end the dispatcher
                    logger.exception("push dispatcher round failed; retrying")
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.push_poll_seconds)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def round(self, http: aiohttp.ClientSession) -> int:
        """Claim, send and settle one batch of due jobs; the number handled."""
        claimed = await self._claim()
        if not claimed:
            return 0
        self.rounds += 1
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

        outcomes = await asyncio.gather(*(one(job) for job in claimed))
        await self._settle(outcomes)
        return len(claimed)

    async def _claim(self) -> list[_Claimed]:
        now = utcnow()
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
            if not postgres:
                # Look before taking SQLite's write lock: most rounds find nothing.
                if not (await db.scalars(due.limit(1))).first():
                    return []
                await db.rollback()
                await begin_write(db)
            ids = list((await db.scalars(due.with_for_update(skip_locked=True) if postgres else due)).all())
            if not ids:
                await db.rollback()
                return []
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
            await db.commit()
        return [_Claimed(*row) for row in rows]

    def _backoff(self, attempts: int, sent: Sent) -> dt.timedelta:
        seconds = min(
            self.settings.push_backoff_cap_seconds, self.settings.push_backoff_seconds * 2 ** max(0, attempts - 1)
        )
        return dt.timedelta(seconds=max(seconds, sent.retry_after or 0))

    async def _settle(self, outcomes: list[tuple[_Claimed, Sent]]) -> None:
        now = utcnow()
        async with self.sessions() as db:
            await begin_write(db)
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
                    if sent.outcome is Outcome.CONFIG:
                        logger.error(
                            "push service %s refused our VAPID credentials (%s); check the key and the subject",
                            urlsplit(job.endpoint).hostname,
                            sent.status,
                        )
                    else:
                        logger.warning(
                            "push to %s given up after %d attempts (last status %s)",
                            urlsplit(job.endpoint).hostname,
                            job.attempts,
                            sent.status,
                        )
                await db.execute(update(PushJob).where(PushJob.id == job.id).values(**values))
            await db.commit()


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
