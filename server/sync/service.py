"""The sync area's service, as handlers receive it: push, pull and the office's conflict list and resolve.

The plugin builds one :class:`SyncService` per app in the lifespan (after the cursor secret is loaded) and
provides it through dependency injection. The protocol itself lives in the modules it calls: :mod:`.push`,
:mod:`.apply`, :mod:`.pull` and :mod:`.conflicts`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.audit.shared import SharedAppends
from server.auth.schemas import Principal
from server.db import begin_write
from server.db.sharing import Sharing, answered
from server.records import clock
from server.records.keyring import Keyring
from server.sync.conflicts import ConflictView, list_conflicts, resolve_conflict
from server.sync.drift import CheckRequest, CheckResponse, check_held
from server.sync.messages import MAX_MUTATIONS, MutationResult, PullResponse, PushRequest, PushResponse
from server.sync.models import ServerSecret
from server.sync.pull import pull_page
from server.sync.push import Prepared, prepare, push_together

__all__ = ["SyncService", "load_cursor_secret"]


async def load_cursor_secret(sessions: async_sessionmaker[AsyncSession]) -> bytes:
    """The secret that signs cursors, created by the first process that needs it; it never changes."""
    async with sessions() as db:
        secret = await db.get(ServerSecret, "cursor")
        if secret is not None:
            return secret.value
    async with sessions() as db:
        await begin_write(db)
        secret = await db.get(ServerSecret, "cursor")
        if secret is None:
            secret = ServerSecret(name="cursor", value=os.urandom(32))
            db.add(secret)
            await db.commit()
        return secret.value


# A shared transaction takes at most this many pushes, and this many mutations in all.
SHARE_PUSHES = 32
SHARE_MUTATIONS = 2 * MAX_MUTATIONS


def _take_pushes(waiting: list[Prepared]) -> list[Prepared]:
    """The oldest push, and if it is shareable, the shareable pushes of other devices waiting behind it, up to a
    transaction's share. A device's pushes keep their order: once one of its pushes is left waiting, none of its
    later ones goes ahead of it."""
    head = waiting.pop(0)
    if not head.shareable:
        return [head]
    taken, left = [head], []
    devices = {head.principal.device_id}
    mutations = len(head.mutations)
    for job in waiting:
        device = job.principal.device_id
        fits = len(taken) < SHARE_PUSHES and mutations + len(job.mutations) <= SHARE_MUTATIONS
        if fits and job.shareable and device not in devices:
            taken.append(job)
            mutations += len(job.mutations)
        else:
            left.append(job)
        devices.add(device)
    waiting[:] = left
    return taken


@dataclass(frozen=True, slots=True)
class SyncService:
    """Sync for one app: the database, the keyring, the cursor secret and how to wake the push dispatcher."""

    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    keyring: Keyring
    cursor_secret: bytes
    # Called after a push that queued Web Push messages, so they go out now rather than at the next poll.
    on_queued: Callable[[], None] | None = None
    # Each organisation's pushes in this process that wait for a transaction (see push).
    _queues: dict[uuid.UUID | None, Sharing[Prepared]] = field(default_factory=dict)
    # How far the organisations' clocks have moved, as this process saw it: a pull with news skips a round trip.
    _seen: clock.Seen = field(default_factory=clock.Seen)
    # The pulls' read entries, written together with those of the pulls waiting at the same moment.
    _reads: SharedAppends = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_reads", SharedAppends(self.sessions, lambda: self.keyring.audit))

    async def push(self, principal: Principal, request: PushRequest) -> PushResponse:
        """Apply a device's batch; see :mod:`server.sync.push`.

        An organisation's pushes take turns on its clock in the database anyway. Here they also wait in the
        process, in a queue, before a transaction is opened for them: a push that waits holds no connection and
        no lock, so pulls keep the pool. One or two transactions at a time take pushes from the queue, oldest
        first, until it is empty; a transaction takes the oldest push and the shareable pushes of other devices
        waiting behind it (:func:`_take_pushes`), so the clock is taken, advanced and committed once for all
        of them. Other organisations' pushes do not wait.

        On PostgreSQL two transactions run at once: while one holds the clock, the next notes its devices and
        waits in the database for the clock. On SQLite a second writer would wait for the database's write lock
        in SQLite's busy handler, which sleeps and wakes late, so there it is one.
        """
        job = prepare(self.cursor_secret, principal, request)
        queue = self._queues.get(principal.organisation_id)
        if queue is None:
            limit = 2 if self.engine.dialect.name == "postgresql" else 1
            queue = self._queues[principal.organisation_id] = Sharing(limit, _take_pushes, self._push_together)
        job.outcome.add_done_callback(answered)
        queue.submit(job)
        # A push whose client has gone is still applied (its device gets the stored results when it sends it again).
        return await asyncio.shield(job.outcome)

    async def _push_together(self, jobs: list[Prepared]) -> None:
        await push_together(self.sessions, self.keyring, jobs, on_queued=self.on_queued, clock_seen=self._seen)

    async def pull(
        self,
        principal: Principal,
        *,
        cursor: str | None,
        limit: int,
        protocol: int | None = None,
        schema_version: int | None = None,
    ) -> PullResponse:
        """One page of changes after ``cursor``; see :func:`server.sync.pull.pull_page`."""
        return await pull_page(
            self.sessions,
            self.engine,
            self.keyring,
            self.cursor_secret,
            principal,
            self._seen,
            cursor_text=cursor,
            limit=limit,
            protocol=protocol,
            schema_version=schema_version,
            reads=self._reads,
        )

    async def check(self, principal: Principal, request: CheckRequest) -> CheckResponse:
        """Compare what a device holds with its scope; see :mod:`server.sync.drift`."""
        return await check_held(self.sessions, self.keyring, principal, request)

    async def conflicts(self, principal: Principal, *, status: str = "open") -> list[ConflictView]:
        """Conflicts in the caller's scope, oldest first."""
        return await list_conflicts(self.sessions, self.keyring, principal, status=status)

    async def resolve(self, principal: Principal, conflict_id: uuid.UUID, value: Any) -> MutationResult:
        """Resolve a conflict from the office with the chosen value."""
        return await resolve_conflict(self.sessions, self.keyring, principal, conflict_id, value)
