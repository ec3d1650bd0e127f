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

from server.auth.schemas import Principal
from server.db import begin_write
from server.records import clock
from server.records.keyring import Keyring
from server.sync.conflicts import ConflictView, list_conflicts, resolve_conflict
from server.sync.drift import CheckRequest, CheckResponse, check_held
from server.sync.messages import MutationResult, PullResponse, PushRequest, PushResponse
from server.sync.models import ServerSecret
from server.sync.pull import pull_page
from server.sync.push import push_batch

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


@dataclass(frozen=True, slots=True)
class SyncService:
    """Sync for one app: the database, the keyring, the cursor secret and how to wake the push dispatcher."""

    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    keyring: Keyring
    cursor_secret: bytes
    # Called after a push that queued Web Push messages, so they go out now rather than at the next poll.
    on_queued: Callable[[], None] | None = None
    # One organisation's pushes in this process, taking turns (see push).
    _pushing: dict[uuid.UUID | None, asyncio.Semaphore] = field(default_factory=dict)
    # How far the organisations' clocks have moved, as this process saw it: a pull with news skips a round trip.
    _seen: clock.Seen = field(default_factory=clock.Seen)

    async def push(self, principal: Principal, request: PushRequest) -> PushResponse:
        """Apply a device's batch; see :func:`server.sync.push.push_batch`.

        An organisation's pushes take turns on its clock in the database anyway. Here they also take turns
        within the process, before they open a transaction: a push that waits holds no connection and no lock,
        so pulls keep the pool, and the push holding the clock shares the event loop with fewer others and
        commits sooner. Other organisations' pushes do not wait for it. With 100 devices on two processes this
        raised the rate by about a quarter and halved p99 (docs/benchmarks.md).

        On PostgreSQL two take their turn at once: while one holds the clock, the next opens its transaction and
        notes its device, and waits in the database for the clock. The organisation's pushes then follow each
        other without those round trips in between. On SQLite a second writer would wait for the database's
        write lock in SQLite's busy handler, which sleeps and wakes late, so there it is one.
        """
        turn = self._pushing.get(principal.organisation_id)
        if turn is None:
            turn = self._pushing[principal.organisation_id] = asyncio.Semaphore(
                2 if self.engine.dialect.name == "postgresql" else 1
            )
        async with turn:
            return await push_batch(
                self.sessions,
                self.keyring,
                self.cursor_secret,
                principal,
                request,
                on_queued=self.on_queued,
                clock_seen=self._seen,
            )

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
