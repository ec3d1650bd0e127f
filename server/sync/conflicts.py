"""Conflicts for the office: the open (or resolved) ones in the caller's scope, and resolving one.

Conflicts are synced records of kind ``conflict``; a device resolves them with a ``resolve`` mutation, the office
through these functions. Both go through :func:`server.sync.apply.apply`, so the rules are the same.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.auth.schemas import Principal
from server.db import begin_write
from server.problems import Conflict, NotFound, ValidationFailed
from server.records import clock
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.scope import scope_case_ids
from server.records.store import RecordStore
from server.sync.apply import apply
from server.sync.batch import Batch
from server.sync.messages import MutationResult, ResolveMutation
from server.sync.push import finish, team_members

__all__ = ["ConflictView", "list_conflicts", "resolve_conflict"]


class ConflictView(msgspec.Struct, kw_only=True, frozen=True):
    """An open or resolved conflict as the office sees it."""

    id: uuid.UUID
    case_id: uuid.UUID
    version: int
    record_kind: str
    record_id: uuid.UUID
    field: str | None
    server_value: Any
    client_value: Any
    client_user_id: uuid.UUID
    created_at: dt.datetime
    status: str
    resolution: Any = None


async def list_conflicts(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, principal: Principal, *, status: str = "open"
) -> list[ConflictView]:
    """Conflicts in the caller's scope (a supervisor: the team's), oldest first; audited as a read."""
    async with sessions() as db:
        await begin_write(db)
        store = RecordStore(db, keyring)
        scope = scope_case_ids(principal).subquery()
        rows = await store.select(
            Record.kind == "conflict",
            Record.status == status,
            Record.deleted.is_(False),
            Record.case_id.in_(select(scope.c.id)),
            order_by=Record.version,
        )
        records = await store.decrypt(rows)
        await audit.append_per_case(
            db,
            action="conflict.list",
            actor_id=principal.user_id,
            device_id=principal.device_id,
            records=((r.case_id, r.id) for r in records),
            organisation=principal.organisation_id,
            key=keyring.audit,
        )
        await db.commit()
    names = set(ConflictView.__struct_fields__)
    return [
        msgspec.convert(
            {k: v for k, v in (r.fields or {}).items() if k in names}
            | {"id": r.id, "case_id": r.case_id, "version": r.version},
            ConflictView,
        )
        for r in records
    ]


async def resolve_conflict(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    principal: Principal,
    conflict_id: uuid.UUID,
    value: Any,
) -> MutationResult:
    """Resolve a conflict from the office, by the same rules as a ``resolve`` mutation."""
    async with sessions() as db:
        await begin_write(db)
        start = (await clock.lock(db, principal.organisation_id)).seq
        store = RecordStore(db, keyring)
        rows = await store.rows([conflict_id])
        batch = Batch(db=db, store=store, principal=principal, seq=start, cursor_seq=None, rows=rows)
        await team_members(batch)
        with db.no_autoflush:
            result = await apply(batch, ResolveMutation(mid=1, conflict_id=conflict_id, value=value))
        if result.error is not None:
            if result.error.code == "not-found":
                raise NotFound("No such conflict.")
            if result.error.code == "stale":
                await finish([batch], start, action="conflict.resolve")  # keeps the refreshed conflict
                raise Conflict(result.error.detail, field=result.error.field)
            raise ValidationFailed(result.error.detail, field=result.error.field)
        await finish([batch], start, action="conflict.resolve")
        return result
