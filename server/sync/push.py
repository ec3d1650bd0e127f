"""Push: a device's batch of mutations, applied in a write transaction, alone or with other devices' pushes.

A transaction locks the devices' rows, reads the stored results of replayed mids and writes each device's new
``last_mid``; then it takes the lock of the writers' organisation's sync clock (which orders the organisation's
writers so that ``seq`` follows commit order), reads every record and case key the batches name in one query and
who has their cases in scope in another, applies each batch's mutations in ``mid`` order with a result each
(:mod:`server.sync.apply`), and writes records, conflicts, scope changes, audit entries, stored results and queued
push messages before one commit (:func:`finish`). A replayed ``mid`` gets its stored first result and changes
nothing.

Pushes that only write records of their cases (notes, contacts, assessments and the like: nothing that can move a
case in or out of someone's scope, or asks who is in the team) may share a transaction, one after the other:
:func:`push_together`. Each ends exactly as it would alone, since a batch sees every row the ones before it wrote,
and the organisation's clock is taken, advanced and committed once for all of them. Should the shared transaction
fail, each push is run again alone, so one push's failure is never another's.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import msgspec
from sqlalchemy import Select, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.auth.models import Device, Role, User
from server.auth.schemas import Principal
from server.db import begin_write, utcnow
from server.db.engine import among_bound
from server.problems import BatchTooLarge, Forbidden, ValidationFailed
from server.push import SYNC_HINT, enqueue
from server.records import blind, clock, rules
from server.records.keyring import CaseShredded, Keyring
from server.records.scope import refresh_membership, subject_of
from server.records.store import RecordStore
from server.sync.apply import apply
from server.sync.batch import Batch, in_scope, read_named
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

__all__ = ["Prepared", "finish", "prepare", "push_batch", "push_together", "team_members"]

_results_decoder = msgspec.json.Decoder(list[MutationResult])
# The kinds whose checks ask who is in the team (assignments, visits planned by a supervisor).
_TEAM_KINDS = frozenset({"case", "visit"})
_result_encoder = msgspec.json.Encoder()
# Core statements built once: every push runs them, and the ORM's unit of work would cost more than they do.
_DEVICES = cast("Table", Device.__table__)
_SET_LAST_MID = update(_DEVICES).where(_DEVICES.c.id == bindparam("device")).values(last_mid=bindparam("last_mid"))
_STORE_RESULTS = insert(cast("Table", MutationLog.__table__))


@dataclass(eq=False)
class Prepared:
    """A push checked against its session and read, waiting for its transaction; ``outcome`` gets its answer."""

    principal: Principal
    mutations: list[Mutation | Malformed]
    cursor_seq: int | None
    # Whether it may share a transaction with other pushes (see the module's note).
    shareable: bool
    outcome: asyncio.Future[PushResponse] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def prepare(secret: bytes, principal: Principal, request: PushRequest) -> Prepared:
    """Check a push's request against its session, before it waits for a transaction."""
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
    return Prepared(principal, mutations, cursor_seq, shareable=not any(_may_need_team(m) for m in mutations))


async def push_batch(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    secret: bytes,
    principal: Principal,
    request: PushRequest,
    on_queued: Callable[[], None] | None = None,
    clock_seen: clock.Seen | None = None,
) -> PushResponse:
    """Apply a batch of mutations in a transaction of its own; every mutation gets a result, and replays get their
    first result. ``on_queued`` and ``clock_seen`` are as for :func:`push_together`."""
    job = prepare(secret, principal, request)
    await push_together(sessions, keyring, [job], on_queued=on_queued, clock_seen=clock_seen)
    return job.outcome.result()


async def push_together(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    jobs: list[Prepared],
    *,
    on_queued: Callable[[], None] | None = None,
    clock_seen: clock.Seen | None = None,
) -> None:
    """Apply ``jobs`` (pushes of one organisation from different devices; more than one only if all are
    shareable) in one transaction, in their order, and give each its outcome; never raises for a push's failure.

    ``on_queued`` runs after the commit when the pushes queued push messages (to wake the dispatcher);
    ``clock_seen`` learns where they left the clock.
    """
    try:
        responses, queued, seq = await _in_one_transaction(sessions, keyring, jobs)
    except Exception as exc:
        if len(jobs) == 1:
            jobs[0].outcome.set_exception(exc)
            return
        # Nothing of them was written. Each runs alone now: only a push that fails alone fails.
        for job in jobs:
            await push_together(sessions, keyring, [job], on_queued=on_queued, clock_seen=clock_seen)
        return
    except BaseException:
        for job in jobs:
            if not job.outcome.done():
                job.outcome.cancel()
        raise
    if clock_seen is not None:
        clock_seen.note(jobs[0].principal.organisation_id, seq)
    if queued and on_queued is not None:
        on_queued()
    for job, response in zip(jobs, responses, strict=True):
        job.outcome.set_result(response)


async def _in_one_transaction(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, jobs: list[Prepared]
) -> tuple[list[PushResponse], int, int]:
    """The transaction of :func:`push_together`: the responses, the number of queued messages and the clock's
    position at commit."""
    async with sessions() as db:
        await begin_write(db)
        # The devices' own state first, before the clock: it orders each device's pushes (a replay waits for the
        # batch it repeats), and nobody who holds a clock waits for a device, so the clock is held for less.
        # Devices are locked in the order of their ids, so two transactions never wait for each other.
        connection = await db.connection()
        devices = sorted({job.principal.device_id for job in jobs})
        found = await connection.execute(_last_mids(connection.dialect.name), {"devices": devices})
        last_mids: dict[uuid.UUID, int] = {device_id: last_mid for device_id, last_mid in found.all()}
        stored: list[dict[int, MutationResult]] = []
        new_last_mids: list[int] = []
        for job in jobs:
            stored.append(await _stored_results(db, job, last_mids[job.principal.device_id]))
            new_last_mids.append(max([last_mids[job.principal.device_id], *(m.mid for m in job.mutations)]))
        changed = [
            {"device": job.principal.device_id, "last_mid": new}
            for job, new in zip(jobs, new_last_mids, strict=True)
            if new != last_mids[job.principal.device_id]
        ]
        if changed:
            await connection.execute(_SET_LAST_MID, changed)
        organisation = jobs[0].principal.organisation_id
        start = (await clock.lock(db, organisation)).seq
        store = RecordStore(db, keyring)
        named: set[uuid.UUID] = set()
        ids: set[uuid.UUID] = set()
        for job in jobs:
            named |= {m.case_id for m in job.mutations if isinstance(m, PutMutation | DeleteMutation)}
            ids |= {m.id for m in job.mutations if isinstance(m, PutMutation | DeleteMutation)}
            ids |= {m.conflict_id for m in job.mutations if isinstance(m, ResolveMutation)}
        # The named records and cases in one query; the cases' rows are needed for every mutation anyway.
        rows = await read_named(store, ids | named)
        existing = {case_id for case_id in named if case_id in rows and rows[case_id].kind == "case"}
        # Data keys for the cases that exist and the cases this batch creates: never for ids a client made up.
        created = {
            m.id for job in jobs for m in job.mutations if isinstance(m, PutMutation) and m.kind == "case"
        } - rows.keys()
        with contextlib.suppress(CaseShredded):  # mutations naming an erased case are rejected one by one below
            await store.prepare_write(existing | created | {r.case_id for r in rows.values()})
        conflict_targets = {r.id for r in rows.values() if r.kind == "conflict"}
        if conflict_targets:
            await store.decrypt(rows[c] for c in conflict_targets)  # warms the data keys
        subjects = {s for s in (subject_of(job.principal) for job in jobs) if s is not None}
        members = await in_scope(db, subjects, existing)

        batches: list[Batch] = []
        responses: list[PushResponse] = []
        seq = start
        for job, earlier, new_last_mid in zip(jobs, stored, new_last_mids, strict=True):
            # One rows map for all: a batch sees what the ones before it wrote.
            batch = Batch(db=db, store=store, principal=job.principal, seq=seq, cursor_seq=job.cursor_seq, rows=rows)
            subject = subject_of(job.principal)
            batch.scope_answers.update(dict.fromkeys(c for s, c in members if s == subject))
            if any(_may_need_team(m) for m in job.mutations):
                await team_members(batch)
            results: list[MutationResult] = []
            with db.no_autoflush:  # new records are inserted together by the store, not one by one
                await _apply_all(batch, job, last_mids[job.principal.device_id], earlier, results)
            batches.append(batch)
            responses.append(PushResponse(results=results, last_mid=new_last_mid))
            seq = batch.seq
        queued = await finish(batches, start, action="sync.push")
    return responses, queued, seq


@functools.cache
def _last_mids(dialect: str) -> Select[uuid.UUID, int]:
    """The ``last_mid`` of the devices bound as ``devices``, their rows locked in the order of their ids (PostgreSQL
    locks the rows as the sorted result emits them): built once."""
    query = select(_DEVICES.c.id, _DEVICES.c.last_mid).where(among_bound(_DEVICES.c.id, "devices", dialect))
    return query.order_by(_DEVICES.c.id).with_for_update()


async def _stored_results(db: AsyncSession, job: Prepared, last_mid: int) -> dict[int, MutationResult]:
    """The stored first results of the push's replayed mids (those at or below the device's ``last_mid``)."""
    replayed = [m.mid for m in job.mutations if m.mid <= last_mid]
    if not replayed:
        return {}
    logged = await db.scalars(
        select(MutationLog.results).where(
            MutationLog.device_id == job.principal.device_id,
            MutationLog.first_mid <= max(replayed),
            MutationLog.last_mid >= min(replayed),
        )
    )
    return {r.mid: r for blob in logged.all() for r in _results_decoder.decode(blob)}


async def finish(batches: list[Batch], start: int, *, action: str) -> int:
    """Write the batches' rows, stored results, scope changes, audit entries and clock, then commit; returns the
    number of push messages queued. The batches share one transaction, store and clock, in this order."""
    first, last = batches[0], batches[-1]
    db = first.db
    await first.store.flush()
    households = {record_id: value for batch in batches for record_id, value in batch.households.items()}
    await blind.reindex(db, first.store.keyring.index, households)
    stored = [
        {
            "device_id": batch.principal.device_id,
            "first_mid": batch.log[0].mid,
            "last_mid": batch.log[-1].mid,
            "results": _result_encoder.encode(batch.log),
            "created_at": utcnow(),
        }
        for batch in batches
        if batch.log
    ]
    if stored:
        await (await db.connection()).execute(_STORE_RESULTS, stored)
    notices: list[tuple[uuid.UUID, str, uuid.UUID]] = []
    for batch in batches:
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
        notices.extend(batch.notices)
    queued = await enqueue(db, notices)
    entries = [
        entry
        for batch in batches
        for entry in audit.per_case(
            action=action,
            actor_id=batch.principal.user_id,
            device_id=batch.principal.device_id,
            records=(
                (case_id, record_id) for case_id, record_ids in batch.audit_records.items() for record_id in record_ids
            ),
        )
    ]
    await audit.append_many(db, entries, organisation=first.principal.organisation_id, key=first.store.keyring.audit)
    if last.seq != start:
        await clock.advance(db, first.principal.organisation_id, last.seq)
    await db.commit()
    return queued


async def _apply_all(
    batch: Batch, job: Prepared, last_mid: int, stored: dict[int, MutationResult], results: list[MutationResult]
) -> None:
    """Apply the push's mutations in mid order, appending one result each (replays get their stored result)."""
    seen: dict[int, MutationResult] = {}
    for mutation in job.mutations:
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
