"""Push: one batch of a device's mutations in one write transaction.

The transaction locks the device's row, reads the stored results of replayed mids and writes the device's new
``last_mid``; then it takes the lock of the writer's organisation's sync clock (which orders the organisation's
writers so that ``seq`` follows commit order), reads every record and conflict the batch names in a few bulk
queries, applies the mutations in ``mid`` order with a result each (:mod:`server.sync.apply`), and writes records,
conflicts, scope changes, audit entries, stored results and queued push messages before one commit
(:func:`finish`). A replayed ``mid`` gets its stored first result and changes nothing.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import cast

import msgspec
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.auth.models import Device, Role, User
from server.auth.schemas import Principal
from server.db import begin_write, utcnow
from server.problems import BatchTooLarge, Forbidden, ValidationFailed
from server.push import SYNC_HINT, enqueue
from server.records import blind, clock, rules
from server.records.keyring import CaseShredded, Keyring
from server.records.scope import refresh_membership
from server.records.store import RecordStore
from server.sync.apply import apply
from server.sync.batch import Batch, preload_scope
from server.sync.cursor import CursorInvalid, decode_cursor
from server.sync.messages import (
    MAX_MUTATIONS,
    DeleteMutation,
    Malformed,
    Mutation,
    MutationError,
    MutationResult,
    PushRequest,
    PushResponse,
    PutMutation,
    ResolveMutation,
    read_mutations,
)
from server.sync.models import MutationLog

__all__ = ["finish", "push_batch", "team_members"]

_results_decoder = msgspec.json.Decoder(list[MutationResult])
# The kinds whose checks ask who is in the team (assignments, visits planned by a supervisor).
_TEAM_KINDS = frozenset({"case", "visit"})
_result_encoder = msgspec.json.Encoder()
# Core statements built once: every push runs them, and the ORM's unit of work would cost more than they do.
_DEVICES = cast("Table", Device.__table__)
_LAST_MID = select(_DEVICES.c.last_mid).where(_DEVICES.c.id == bindparam("device")).with_for_update()
_SET_LAST_MID = update(_DEVICES).where(_DEVICES.c.id == bindparam("device")).values(last_mid=bindparam("last_mid"))
_STORE_RESULTS = insert(cast("Table", MutationLog.__table__))


async def push_batch(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    secret: bytes,
    principal: Principal,
    request: PushRequest,
    on_queued: Callable[[], None] | None = None,
    clock_seen: clock.Seen | None = None,
) -> PushResponse:
    """Apply a batch of mutations; every mutation gets a result, and replays get their first result.

    ``on_queued`` runs after the commit when the batch queued push messages (to wake the dispatcher);
    ``clock_seen`` learns where the batch left the clock.
    """
    if len(request.mutations) > MAX_MUTATIONS:
        raise BatchTooLarge(f"At most {MAX_MUTATIONS} mutations per push; split the outbox into batches.")
    if request.device_id != principal.device_id:
        raise Forbidden("The device_id is not the device of this session.")
    cursor_seq: int | None = None
    if request.cursor:
        try:
            position = decode_cursor(secret, principal.user_id, request.cursor)
            # A position on another organisation's clock says nothing of what the device has seen here.
            cursor_seq = position.seq if position.organisation in (None, principal.organisation_id) else None
        except CursorInvalid as exc:
            raise ValidationFailed(str(exc), field="cursor") from None
    mutations = sorted(read_mutations(request.mutations), key=lambda m: m.mid)

    async with sessions() as db:
        await begin_write(db)
        # The device's own state first, before the clock: it orders this device's pushes (a replay waits for the
        # batch it repeats), and nobody who holds a clock waits for a device, so the clock is held for less.
        connection = await db.connection()
        device_id = principal.device_id
        last_mid = (await connection.execute(_LAST_MID, {"device": device_id})).scalar_one()  # bound to the session
        mids = [m.mid for m in mutations]
        # Stored first results are only ever needed for mids at or below last_mid (replays).
        replayed = [mid for mid in mids if mid <= last_mid]
        stored: dict[int, MutationResult] = {}
        if replayed:
            logged = await db.scalars(
                select(MutationLog.results).where(
                    MutationLog.device_id == device_id,
                    MutationLog.first_mid <= max(replayed),
                    MutationLog.last_mid >= min(replayed),
                )
            )
            stored = {r.mid: r for blob in logged.all() for r in _results_decoder.decode(blob)}
        # Every mid above the old last_mid is processed in this transaction.
        new_last_mid = max([last_mid, *mids])
        if new_last_mid != last_mid:
            await connection.execute(_SET_LAST_MID, {"device": device_id, "last_mid": new_last_mid})
        start = (await clock.lock(db, principal.organisation_id)).seq
        store = RecordStore(db, keyring)
        ids = {m.id for m in mutations if isinstance(m, PutMutation | DeleteMutation)}
        ids |= {m.conflict_id for m in mutations if isinstance(m, ResolveMutation)}
        # The named records and cases in one query; the cases' rows are needed for every mutation anyway.
        named = {m.case_id for m in mutations if isinstance(m, PutMutation | DeleteMutation)}
        rows = await store.rows(ids | named)
        existing = {case_id for case_id in named if case_id in rows and rows[case_id].kind == "case"}
        # Data keys for the cases that exist and the cases this batch creates: never for ids a client made up.
        created = {m.id for m in mutations if isinstance(m, PutMutation) and m.kind == "case" and m.id not in rows}
        case_ids = existing | created | {r.case_id for r in rows.values()}
        with contextlib.suppress(CaseShredded):  # mutations naming an erased case are rejected one by one below
            await store.prepare_write(case_ids)
        conflict_targets = {r.id for r in rows.values() if r.kind == "conflict"}
        batch = Batch(db=db, store=store, principal=principal, seq=start, cursor_seq=cursor_seq, rows=rows)
        if conflict_targets:
            await store.decrypt(rows[c] for c in conflict_targets)  # warms the data keys
        if any(_may_need_team(m) for m in mutations):
            await team_members(batch)
        await preload_scope(batch, existing)

        results: list[MutationResult] = []
        seen: dict[int, MutationResult] = {}
        with db.no_autoflush:  # new records are inserted together by the store, not one by one
            await _apply_all(batch, mutations, last_mid, stored, results, seen, device_id)
        await finish(batch, start, action="sync.push")
    if clock_seen is not None:
        clock_seen.note(principal.organisation_id, batch.seq)
    if batch.queued and on_queued is not None:
        on_queued()
    return PushResponse(results=results, last_mid=new_last_mid)


async def finish(batch: Batch, start: int, *, action: str) -> None:
    """Write the batch's rows, stored results, scope changes, audit entries and clock, then commit."""
    db = batch.db
    await batch.store.flush()
    await blind.reindex(db, batch.store.keyring.index, batch.households)
    if batch.log:
        stored = {
            "device_id": batch.principal.device_id,
            "first_mid": batch.log[0].mid,
            "last_mid": batch.log[-1].mid,
            "results": _result_encoder.encode(batch.log),
            "created_at": utcnow(),
        }
        await (await db.connection()).execute(_STORE_RESULTS, stored)
    if batch.scope_changes:
        events = await refresh_membership(db, batch.scope_changes, batch.seq)
        # A case entered or left a worker's scope: their devices should sync. A worker told of a visit already
        # syncs for it; team subjects (supervisors) have no subscriptions and are skipped by the queue.
        told = {user for user, _, _ in batch.notices}
        batch.notices.extend(
            (event.subject, SYNC_HINT, event.case_id)
            for event in events
            if event.subject not in told and event.subject != batch.principal.user_id
        )
    batch.queued = await enqueue(db, batch.notices)
    await audit.append_per_case(
        db,
        action=action,
        actor_id=batch.principal.user_id,
        device_id=batch.principal.device_id,
        records=(
            (case_id, record_id) for case_id, record_ids in batch.audit_records.items() for record_id in record_ids
        ),
        organisation=batch.principal.organisation_id,
        key=batch.store.keyring.audit,
    )
    if batch.seq != start:
        await clock.advance(db, batch.principal.organisation_id, batch.seq)
    await db.commit()


async def _apply_all(
    batch: Batch,
    mutations: list[Mutation | Malformed],
    last_mid: int,
    stored: dict[int, MutationResult],
    results: list[MutationResult],
    seen: dict[int, MutationResult],
    device_id: uuid.UUID,
) -> None:
    """Apply ``mutations`` in mid order, appending one result each (replays get their stored result)."""
    for mutation in mutations:
        if mutation.mid in seen:
            results.append(seen[mutation.mid])
            continue
        if mutation.mid <= last_mid:
            result = stored.get(mutation.mid) or MutationResult(
                mid=mutation.mid,
                status="rejected",
                error=MutationError(
                    code="stale-mid", detail="This mid is at or below the last one processed for the device."
                ),
            )
        else:
            result = await apply(batch, mutation)
            batch.log.append(result)
        if isinstance(mutation, PutMutation) and result.status == "applied" and result.version is not None:
            batch.remember_put(mutation.id, mutation.base_version, mutation.fields.keys(), result.version)
        seen[mutation.mid] = result
        results.append(result)


def _may_need_team(mutation: Mutation | Malformed) -> bool:
    """Whether checking ``mutation`` may ask who is in the writer's team: an assignment, a case or a visit, a
    resolved conflict. Notes, contacts and the like never do, and a batch of them skips the query."""
    if isinstance(mutation, PutMutation):
        return mutation.kind in _TEAM_KINDS or any(name in mutation.fields for name in rules.CONTROLLED_FIELDS)
    if isinstance(mutation, DeleteMutation):
        return mutation.kind in _TEAM_KINDS
    return not isinstance(mutation, Malformed)


async def team_members(batch: Batch) -> None:
    """Load the writer's team into the batch: an assignment may only name one of its members, and a visit one of
    its supervisors planned is theirs to move."""
    if batch.principal.team_id is None:
        return
    members = (await batch.db.execute(select(User.id, User.role).where(User.team_id == batch.principal.team_id))).all()
    if batch.principal.is_supervisor:
        batch.team_members = {user_id for user_id, _ in members}
    batch.supervisors = {user_id for user_id, role in members if role is Role.SUPERVISOR}
