"""Push and pull: the server side of sync protocol version 1.

Push runs one write transaction per batch. It takes the sync clock's row lock first (which orders all writers
so that ``seq`` follows commit order), reads every record, conflict and stored result the batch names in a
few bulk queries, applies the mutations in ``mid`` order with a result each, and writes records, conflicts,
scope changes, audit entries, stored results and the device's ``last_mid`` before one commit.

Pull reads in one snapshot: the clock's committed ``seq`` H bounds the page, so a change committed later can
never be skipped, and scope membership is read in the same snapshot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import func, literal, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server import audit
from server.auth.models import Device, Role, User
from server.auth.schemas import Principal
from server.db import begin_write, read_one, utcnow
from server.problems import BatchTooLarge, CursorExpired, Forbidden, NotFound, UpgradeRequired, ValidationFailed
from server.push import SYNC_HINT, VISIT_ASSIGNED, enqueue
from server.records.keyring import CaseShredded, Keyring
from server.records.models import Record, ScopeEvent, ScopeMember, SyncClock
from server.records.schemas import KINDS, Conflict, RecordFields
from server.records.scope import refresh_membership, scope_case_ids, subject_of
from server.records.store import (
    RecordRow,
    RecordStore,
    StoredRecord,
    ValidationIssue,
    to_builtins,
    validate_fields,
)
from server.sync.cursor import Cursor, CursorInvalid, decode_cursor, encode_cursor
from server.sync.merge import AppendOnlyViolation, merge_put
from server.sync.messages import (
    MAX_MUTATIONS,
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    Change,
    DeleteMutation,
    ErrorCode,
    Mutation,
    MutationError,
    MutationResult,
    PullResponse,
    PushRequest,
    PushResponse,
    PutMutation,
    ResolveMutation,
)
from server.sync.models import MutationLog, ServerSecret

__all__ = ["REASSIGNMENT_GRACE", "ConflictView", "cursor_secret", "list_conflicts", "pull", "push", "resolve_conflict"]

REASSIGNMENT_GRACE = dt.timedelta(days=30)
FLAG_REASSIGNED = "accepted-after-reassignment"
# Kinds whose changes can move a case in or out of someone's scope (assignee, team, planned visits).
SCOPE_KINDS = frozenset({"case", "visit"})
# What a pulled change needs of a row; the other columns stay in the database.
PULL_COLUMNS = (
    Record.id,
    Record.kind,
    Record.case_id,
    Record.version,
    Record.deleted,
    Record.blob,
    Record.schema_version,
    Record.flag,
)
# Fields only a supervisor of the case's team may set or change.
CONTROLLED_FIELDS = ("assigned_worker_id", "team_id")
_results_decoder = msgspec.json.Decoder(list[MutationResult])
_result_encoder = msgspec.json.Encoder()


class _Rejected(Exception):
    def __init__(self, code: ErrorCode, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.error = MutationError(code=code, detail=detail, field=field)


async def cursor_secret(sessions: async_sessionmaker[AsyncSession], cache: dict[str, bytes]) -> bytes:
    """The secret that signs cursors, created on first use. It never changes, so ``cache`` (the app's) keeps it."""
    if "cursor" not in cache:
        cache["cursor"] = await _load_cursor_secret(sessions)
    return cache["cursor"]


async def _load_cursor_secret(sessions: async_sessionmaker[AsyncSession]) -> bytes:
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


# --- push ------------------------------------------------------------------------------------------------


@dataclass
class _Batch:
    """State of one push transaction."""

    db: AsyncSession
    store: RecordStore
    principal: Principal
    seq: int
    cursor_seq: int | None
    rows: dict[uuid.UUID, RecordRow]
    # Cases whose case or visit records changed: only those can change who has the case in scope.
    scope_changes: set[uuid.UUID] = field(default_factory=set)
    audit_records: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    team_members: set[uuid.UUID] = field(default_factory=set)
    # Cases this batch created: in the creator's scope at once, though membership is refreshed at the end.
    created_cases: set[uuid.UUID] = field(default_factory=set)
    # Scope answers, looked up once per case and batch: in scope (None), accepted with a flag, or refused ("").
    scope_answers: dict[uuid.UUID, str | None] = field(default_factory=dict)
    # First results of the mutations processed now, in mid order, stored as one row at the end.
    log: list[MutationResult] = field(default_factory=list)
    # Push messages this batch calls for: (user, event, id), queued in the same transaction.
    notices: list[tuple[uuid.UUID, str, uuid.UUID]] = field(default_factory=list)
    queued: int = 0

    def notice_visit(self, visit_id: uuid.UUID, fields: dict[str, Any]) -> None:
        """A planned visit assigned (or rescheduled) for someone other than the writer: tell their devices."""
        assignee = fields.get("assigned_worker_id")
        if fields.get("status") == "planned" and assignee and str(assignee) != str(self.principal.user_id):
            self.notices.append((uuid.UUID(str(assignee)), VISIT_ASSIGNED, visit_id))

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def touch(self, case_id: uuid.UUID, record_id: uuid.UUID, kind: str) -> None:
        self.audit_records.setdefault(case_id, set()).add(record_id)
        if kind in SCOPE_KINDS:
            self.scope_changes.add(case_id)


async def push(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    secret: bytes,
    principal: Principal,
    request: PushRequest,
    on_queued: Callable[[], None] | None = None,
) -> PushResponse:
    """Apply a batch of mutations; every mutation gets a result, and replays get their first result.

    ``on_queued`` runs after the commit when the batch queued push messages (to wake the dispatcher).
    """
    if len(request.mutations) > MAX_MUTATIONS:
        raise BatchTooLarge(f"At most {MAX_MUTATIONS} mutations per push; split the outbox into batches.")
    if request.device_id != principal.device_id:
        raise Forbidden("The device_id is not the device of this session.")
    cursor_seq: int | None = None
    if request.cursor:
        try:
            cursor_seq = decode_cursor(secret, principal.user_id, request.cursor).seq
        except CursorInvalid as exc:
            raise ValidationFailed(str(exc), field="cursor") from None
    mutations = sorted(request.mutations, key=lambda m: m.mid)

    async with sessions() as db:
        await begin_write(db)
        clock = await _lock_clock(db)
        device = await db.get(Device, principal.device_id, with_for_update=True)
        assert device is not None  # the session is bound to it
        last_mid = device.last_mid
        mids = [m.mid for m in mutations]
        # Stored first results are only ever needed for mids at or below last_mid (replays).
        replayed = [mid for mid in mids if mid <= last_mid]
        stored: dict[int, MutationResult] = {}
        if replayed:
            logged = await db.scalars(
                select(MutationLog.results).where(
                    MutationLog.device_id == device.id,
                    MutationLog.first_mid <= max(replayed),
                    MutationLog.last_mid >= min(replayed),
                )
            )
            stored = {r.mid: r for blob in logged.all() for r in _results_decoder.decode(blob)}
        store = RecordStore(db, keyring)
        ids = {m.id for m in mutations if not isinstance(m, ResolveMutation)}
        ids |= {m.conflict_id for m in mutations if isinstance(m, ResolveMutation)}
        # The named records and cases in one query; the cases' rows are needed for every mutation anyway.
        named = {m.case_id for m in mutations if not isinstance(m, ResolveMutation)}
        rows = await store.rows(ids | named)
        existing = {case_id for case_id in named if case_id in rows and rows[case_id].kind == "case"}
        # Data keys for the cases that exist and the cases this batch creates: never for ids a client made up.
        created = {m.id for m in mutations if isinstance(m, PutMutation) and m.kind == "case" and m.id not in rows}
        case_ids = existing | created | {r.case_id for r in rows.values()}
        with contextlib.suppress(CaseShredded):  # mutations naming an erased case are rejected one by one below
            await store.prepare_write(case_ids)
        conflict_targets = {r.id for r in rows.values() if r.kind == "conflict"}
        batch = _Batch(db=db, store=store, principal=principal, seq=clock, cursor_seq=cursor_seq, rows=rows)
        if conflict_targets:
            await store.decrypt(rows[c] for c in conflict_targets)  # warms the data keys
        if principal.is_supervisor:
            batch.team_members = set((await db.scalars(select(User.id).where(User.team_id == principal.team_id))).all())
        await _preload_scope(batch, existing)

        results: list[MutationResult] = []
        seen: dict[int, MutationResult] = {}
        with db.no_autoflush:  # new records are inserted together by the store, not one by one
            await _apply_all(batch, mutations, last_mid, stored, results, seen, device.id)
        last_mid = max([last_mid, *mids])  # every mid above the old last_mid was processed just now
        device.last_mid = last_mid
        await _finish(batch, clock, action="sync.push")
    if batch.queued and on_queued is not None:
        on_queued()
    return PushResponse(results=results, last_mid=last_mid)


async def _lock_clock(db: AsyncSession) -> int:
    """Take the sync clock's row lock (held until commit) and read the last ``seq``."""
    return int(
        (
            await db.execute(
                update(SyncClock).where(SyncClock.id == 1).values(seq=SyncClock.seq).returning(SyncClock.seq)
            )
        ).scalar_one()
    )


async def _finish(batch: _Batch, clock: int, *, action: str) -> None:
    """Write the batch's rows, stored results, scope changes, audit entries and clock, then commit."""
    db = batch.db
    await batch.store.flush()
    if batch.log:
        db.add(
            MutationLog(
                device_id=batch.principal.device_id,
                first_mid=batch.log[0].mid,
                last_mid=batch.log[-1].mid,
                results=_result_encoder.encode(batch.log),
            )
        )
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
    )
    if batch.seq != clock:
        await db.execute(update(SyncClock).where(SyncClock.id == 1).values(seq=batch.seq))
    await db.commit()


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
        clock = await _lock_clock(db)
        store = RecordStore(db, keyring)
        rows = await store.rows([conflict_id])
        batch = _Batch(db=db, store=store, principal=principal, seq=clock, cursor_seq=None, rows=rows)
        if principal.is_supervisor:
            batch.team_members = set((await db.scalars(select(User.id).where(User.team_id == principal.team_id))).all())
        try:
            with db.no_autoflush:
                result = await _resolve(batch, ResolveMutation(mid=1, conflict_id=conflict_id, value=value))
        except _Rejected as rejected:
            if rejected.error.code == "not-found":
                raise NotFound("No such conflict.") from None
            raise ValidationFailed(rejected.error.detail, field=rejected.error.field) from None
        await _finish(batch, clock, action="conflict.resolve")
        return result


async def _apply_all(
    batch: _Batch,
    mutations: list[Mutation],
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
            result = await _apply(batch, mutation)
            batch.log.append(result)
        seen[mutation.mid] = result
        results.append(result)


async def _apply(batch: _Batch, mutation: Mutation) -> MutationResult:
    try:
        match mutation:
            case PutMutation():
                return await _put(batch, mutation)
            case DeleteMutation():
                return await _delete(batch, mutation)
            case ResolveMutation():
                return await _resolve(batch, mutation)
    except _Rejected as rejected:
        return MutationResult(mid=mutation.mid, status="rejected", error=rejected.error)
    except CaseShredded:
        return MutationResult(
            mid=mutation.mid,
            status="rejected",
            error=MutationError(code="not-found", detail="The case was erased."),
        )
    raise AssertionError("unreachable")


async def _authorise(batch: _Batch, case_id: uuid.UUID, *, creating_case: bool = False) -> str | None:
    """Check the case is in scope; returns the flag for work accepted after a reassignment (rule 7)."""
    if creating_case or case_id in batch.created_cases:
        return None
    if case_id not in batch.scope_answers:
        batch.scope_answers[case_id] = await _scope_answer(batch, case_id)
    answer = batch.scope_answers[case_id]
    if answer == "":
        raise _Rejected("not-found", "No such case.")
    return answer


async def _preload_scope(batch: _Batch, case_ids: set[uuid.UUID]) -> None:
    """Answer the scope question for every case a batch names with one query."""
    subject = subject_of(batch.principal)
    if subject is None or not case_ids:
        return
    members = await batch.db.scalars(
        select(ScopeMember.case_id).where(ScopeMember.subject == subject, ScopeMember.case_id.in_(case_ids))
    )
    batch.scope_answers.update(dict.fromkeys(members.all()))


async def _scope_answer(batch: _Batch, case_id: uuid.UUID) -> str | None:
    db, principal = batch.db, batch.principal
    subject = subject_of(principal)
    if subject is None:
        return ""
    if await db.get(ScopeMember, (subject, case_id)) is not None:
        return None
    if principal.role is Role.WORKER and batch.cursor_seq is not None:
        events = (
            await db.execute(
                select(ScopeEvent.seq, ScopeEvent.entered, ScopeEvent.at)
                .where(ScopeEvent.subject == subject, ScopeEvent.case_id == case_id)
                .order_by(ScopeEvent.seq)
            )
        ).all()
        at_cursor = [e for e in events if e.seq <= batch.cursor_seq]
        left = [e for e in events if e.seq > batch.cursor_seq and not e.entered]
        if at_cursor and at_cursor[-1].entered and left and utcnow() - left[-1].at <= REASSIGNMENT_GRACE:
            return FLAG_REASSIGNED
    return ""


def _check_controlled(
    batch: _Batch, kind: str, new: dict[str, Any], old: dict[str, Any] | None, case_team: uuid.UUID | None
) -> None:
    """Only a supervisor of the case's team may set or change the assignment fields (SECURITY.md case 8)."""
    principal = batch.principal
    for name in CONTROLLED_FIELDS:
        if name not in new:
            continue
        before = None if old is None else old.get(name)
        value = new[name]
        if old is not None and value == before:
            continue  # sending the unchanged value is not a change
        if kind == "visit" and name == "assigned_worker_id" and old is None and value in (None, str(principal.user_id)):
            continue  # a worker may create a visit assigned to themselves or to nobody
        if not principal.is_supervisor or (case_team is not None and case_team != principal.team_id):
            raise _Rejected("forbidden", f"Only the team's supervisor may set {name}.", name)
        if name == "team_id" and value != str(principal.team_id):
            raise _Rejected("forbidden", "A case can only be given to the supervisor's own team.", name)
        if name == "assigned_worker_id" and value is not None and uuid.UUID(str(value)) not in batch.team_members:
            raise _Rejected("validation", "The assigned worker is not a member of this team.", name)


async def _case_team(batch: _Batch, case_id: uuid.UUID) -> uuid.UUID | None:
    row = batch.rows.get(case_id)
    if row is None:
        row = (await batch.store.rows([case_id])).get(case_id)
        if row is not None:
            batch.rows[case_id] = row
    return None if row is None or row.kind != "case" else row.team_id


def _normalise(kind: str, candidate: dict[str, Any], names: Iterable[str]) -> tuple[RecordFields, dict[str, Any]]:
    """Validate ``candidate``; return the struct and the canonical values of ``names``."""
    try:
        validated = validate_fields(kind, candidate)
    except ValidationIssue as issue:
        raise _Rejected("validation", issue.detail, issue.field) from None
    normalised = to_builtins(validated)
    return validated, {name: normalised.get(name) for name in names}


async def _put(batch: _Batch, m: PutMutation) -> MutationResult:
    if m.kind not in KINDS or m.kind == "conflict":
        raise _Rejected("validation", f"Records of kind {m.kind!r} cannot be written.", "kind")
    if m.kind == "case" and m.case_id != m.id:
        raise _Rejected("validation", "A case record's case_id must equal its id.", "case_id")
    row = batch.rows.get(m.id)
    if row is not None and (row.kind != m.kind or row.case_id != m.case_id):
        raise _Rejected("validation", "The record exists with another kind or case.", "case_id")
    if row is None and m.base_version is not None:
        raise _Rejected("not-found", "No such record; it may have been erased.")
    schema = KINDS[m.kind]
    creating_case = m.kind == "case" and row is None
    flag = await _authorise(batch, m.case_id, creating_case=creating_case)
    case_team = await _case_team(batch, m.case_id)
    if m.kind != "case" and case_team is None:
        raise _Rejected("not-found", "No such case.")

    if row is None:
        missing = sorted(schema.REQUIRED_ON_CREATE - m.fields.keys())
        if missing:
            raise _Rejected("validation", f"A new {m.kind} needs the field {missing[0]}.", missing[0])
        validated, incoming = _normalise(m.kind, dict(m.fields), m.fields.keys())
        if flag is not None:
            _no_controlled(incoming, m.kind)
        _check_controlled(batch, m.kind, incoming, None, case_team if m.kind != "case" else None)
        await _check_references(batch, m.kind, m.case_id, incoming, creating=True)
        seq = batch.next_seq()
        fields = validated
        written = await batch.store.write(
            None,
            kind=m.kind,
            record_id=m.id,
            case_id=m.case_id,
            fields=fields,
            field_versions=dict.fromkeys(incoming, seq),
            seq=seq,
            actor=batch.principal.user_id,
            flag=flag,
        )
        batch.rows[m.id] = written
        batch.touch(m.case_id, m.id, m.kind)
        if m.kind == "case":
            batch.created_cases.add(m.id)
        if m.kind == "visit":
            batch.notice_visit(m.id, to_builtins(validated))
        return MutationResult(mid=m.mid, status="applied", version=seq, flag=flag)

    current = (await batch.store.decrypt([row]))[0]
    stored_fields = current.fields or {}
    if row.deleted:
        conflict_id = await _new_conflict(batch, current, None, None, dict(m.fields))
        return MutationResult(mid=m.mid, status="conflict", version=row.version, conflict_id=conflict_id)
    _, incoming = _normalise(m.kind, {**stored_fields, **m.fields}, m.fields.keys())
    if flag is not None:
        _no_controlled(incoming, m.kind, stored_fields)
    _check_controlled(batch, m.kind, incoming, stored_fields, case_team)
    try:
        outcome = merge_put(
            stored_fields,
            current.field_versions,
            m.base_version,
            incoming,
            set_fields=schema.SET_FIELDS,
            immutable_fields=schema.IMMUTABLE_FIELDS,
        )
    except AppendOnlyViolation as violation:
        raise _Rejected(
            "append-only", f"{violation.field} cannot change; write a new record instead.", violation.field
        ) from None
    version = row.version
    if outcome.changed:
        await _check_references(batch, m.kind, m.case_id, outcome.fields)
        version = await _rewrite(batch, row, current, _validated(m.kind, outcome.fields), outcome.changed, flag=flag)
        batch.touch(m.case_id, m.id, m.kind)
        if m.kind == "visit" and outcome.changed & {"assigned_worker_id", "planned_at", "status"}:
            batch.notice_visit(m.id, outcome.fields)
    first_conflict = None
    for conflict in outcome.conflicts:
        conflict_id = await _new_conflict(batch, current, conflict.field, conflict.server_value, conflict.client_value)
        first_conflict = first_conflict or conflict_id
    if first_conflict is not None:
        return MutationResult(mid=m.mid, status="conflict", version=version, conflict_id=first_conflict, flag=flag)
    return MutationResult(mid=m.mid, status="applied", version=version, flag=flag)


async def _rewrite(
    batch: _Batch,
    row: RecordRow,
    record: StoredRecord,
    fields: RecordFields,
    changed: Iterable[str],
    *,
    flag: str | None = None,
) -> int:
    """Store ``fields`` as the record's new state; the ``changed`` fields get the new ``seq``. Returns it."""
    seq = batch.next_seq()
    versions = dict(record.field_versions)
    versions.update(dict.fromkeys(changed, seq))
    await batch.store.write(
        row,
        kind=record.kind,
        record_id=record.id,
        case_id=record.case_id,
        fields=fields,
        field_versions=versions,
        seq=seq,
        actor=batch.principal.user_id,
        flag=flag,
    )
    return seq


def _no_controlled(incoming: dict[str, Any], kind: str, old: dict[str, Any] | None = None) -> None:
    # Rule 7: work accepted after a reassignment can never change who the case or visit belongs to.
    for name in CONTROLLED_FIELDS:
        if (
            name in incoming
            and (old is None or incoming[name] != old.get(name))
            and not (kind == "visit" and old is None)
        ):
            raise _Rejected("forbidden", f"{name} cannot change after the case was reassigned.", name)


def _validated(kind: str, fields: dict[str, Any]) -> Any:
    try:
        return validate_fields(kind, fields)
    except ValidationIssue as issue:
        raise _Rejected("validation", issue.detail, issue.field) from None


async def _check_references(
    batch: _Batch, kind: str, case_id: uuid.UUID, fields: dict[str, Any], *, creating: bool = False
) -> None:
    """Cross-record rules: a new referral needs a consent of the same case on file that is not withdrawn (a
    referral made earlier keeps its history when the consent is withdrawn later; the app marks it)."""
    if kind != "referral":
        return
    consent_id = uuid.UUID(str(fields["consent_id"]))
    consent = batch.rows.get(consent_id) or (await batch.store.rows([consent_id])).get(consent_id)
    if consent is None or consent.kind != "consent" or consent.case_id != case_id or consent.deleted:
        raise _Rejected(
            "validation", "A referral needs the tenant's consent on file for this case; record it first.", "consent_id"
        )
    if creating and consent.status == "withdrawn":
        raise _Rejected(
            "validation",
            "The tenant has withdrawn this consent; a new referral needs a consent that is in force.",
            "consent_id",
        )


async def _new_conflict(
    batch: _Batch, current: StoredRecord, field_name: str | None, server_value: Any, client_value: Any
) -> uuid.UUID:
    seq = batch.next_seq()
    conflict_id = uuid.uuid4()
    fields = Conflict(
        record_kind=current.kind,
        record_id=current.id,
        field=field_name,
        server_value=server_value,
        client_value=client_value,
        server_user_id=current.updated_by,
        client_user_id=batch.principal.user_id,
        client_device_id=batch.principal.device_id,
        created_at=utcnow(),
        status="open",
    )
    written = await batch.store.write(
        None,
        kind="conflict",
        record_id=conflict_id,
        case_id=current.case_id,
        fields=fields,
        field_versions=dict.fromkeys(Conflict.__struct_fields__, seq),
        seq=seq,
        actor=batch.principal.user_id,
    )
    batch.rows[conflict_id] = written
    batch.touch(current.case_id, conflict_id, "conflict")
    return conflict_id


async def _delete(batch: _Batch, m: DeleteMutation) -> MutationResult:
    if m.base_version is None:
        raise _Rejected("validation", "A delete needs the base_version of the copy the device holds.", "base_version")
    row = batch.rows.get(m.id)
    if row is None or row.kind != m.kind or row.case_id != m.case_id:
        raise _Rejected("not-found", "No such record.")
    if m.kind == "conflict":
        raise _Rejected("validation", "Conflicts are resolved, not deleted.", "kind")
    await _authorise(batch, m.case_id)
    if m.kind == "case" and not batch.principal.is_supervisor:
        raise _Rejected("forbidden", "Only a supervisor may delete a case.")
    if row.deleted:
        return MutationResult(mid=m.mid, status="applied", version=row.version)
    if m.base_version < row.version:
        current = (await batch.store.decrypt([row]))[0]
        conflict_id = await _new_conflict(batch, current, None, current.fields, None)
        return MutationResult(mid=m.mid, status="conflict", version=row.version, conflict_id=conflict_id)
    seq = batch.next_seq()
    await batch.store.mark_deleted(row, seq=seq, actor=batch.principal.user_id)
    batch.touch(m.case_id, m.id, m.kind)
    return MutationResult(mid=m.mid, status="applied", version=seq)


async def _resolve(batch: _Batch, m: ResolveMutation) -> MutationResult:
    row = batch.rows.get(m.conflict_id)
    if row is None or row.kind != "conflict" or row.deleted:
        raise _Rejected("not-found", "No such conflict.")
    await _authorise(batch, row.case_id)
    conflict = (await batch.store.decrypt([row]))[0]
    data = conflict.fields or {}
    if data.get("status") == "resolved":
        raise _Rejected("validation", "The conflict is already resolved.", "conflict_id")
    target = batch.rows.get(uuid.UUID(str(data["record_id"])))
    if target is None:
        target = (await batch.store.rows([uuid.UUID(str(data["record_id"]))])).get(uuid.UUID(str(data["record_id"])))
    if target is None:
        raise _Rejected("not-found", "The record of this conflict no longer exists.")
    record = (await batch.store.decrypt([target]))[0]
    case_team = await _case_team(batch, record.case_id)
    field_name = data.get("field")
    if field_name is None:
        if m.value not in ("keep", "delete"):
            raise _Rejected(
                "validation", 'An edit-versus-delete conflict is resolved with "keep" or "delete".', "value"
            )
        if m.value == "keep":
            restored = {**(record.fields or {}), **(data.get("client_value") or {})}
            fields = _validated(record.kind, restored)
            _check_controlled(batch, record.kind, to_builtins(fields), record.fields, case_team)
            await _rewrite(batch, target, record, fields, data.get("client_value") or {})
        elif not target.deleted:
            await batch.store.mark_deleted(target, seq=batch.next_seq(), actor=batch.principal.user_id)
    else:
        if target.deleted:
            raise _Rejected(
                "validation", "The record was deleted; the field conflict can no longer apply.", "conflict_id"
            )
        merged = {**(record.fields or {}), field_name: m.value}
        fields = _validated(record.kind, merged)
        normalised = to_builtins(fields)
        _check_controlled(batch, record.kind, normalised, record.fields, case_team)
        if normalised.get(field_name) != (record.fields or {}).get(field_name):
            await _rewrite(batch, target, record, fields, [field_name])
    resolution = {
        "status": "resolved",
        "resolution": m.value,
        "resolved_by": str(batch.principal.user_id),
        "resolved_at": utcnow().isoformat(),
    }
    seq = await _rewrite(batch, row, conflict, _validated("conflict", {**data, **resolution}), resolution)
    batch.touch(row.case_id, row.id, "conflict")
    batch.touch(record.case_id, record.id, record.kind)
    return MutationResult(mid=m.mid, status="applied", version=seq)


# --- pull ------------------------------------------------------------------------------------------------


async def pull(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    secret: bytes,
    principal: Principal,
    *,
    cursor_text: str | None,
    limit: int,
    protocol: int | None = None,
) -> PullResponse:
    """One page of changes in the caller's scope after the cursor, in ``(seq, id)`` order."""
    if protocol is not None and protocol < MIN_PROTOCOL_VERSION:
        raise UpgradeRequired("This client speaks an old protocol; update the app.", min_protocol=MIN_PROTOCOL_VERSION)
    if protocol is not None and protocol > PROTOCOL_VERSION:
        raise ValidationFailed(f"Protocol {protocol} is unknown to this server.", field="protocol")
    try:
        cursor = decode_cursor(secret, principal.user_id, cursor_text)
    except CursorInvalid as exc:
        raise ValidationFailed(str(exc), field="cursor") from None
    subject = subject_of(principal)

    engine: AsyncEngine = sessions.kw["bind"]
    dialect = engine.dialect.name
    clock = await read_one(engine, select(SyncClock.seq, SyncClock.horizon).where(SyncClock.id == 1))
    assert clock is not None
    if cursor.seq and cursor.seq < int(clock.horizon):
        raise CursorExpired("The cursor is older than the server keeps deletions; push, then bootstrap again.")
    if subject is None or (cursor.seq >= int(clock.seq) and cursor.after_id is None):
        # The common case of a device that is up to date: one statement, no snapshot.
        next_cursor = encode_cursor(secret, principal.user_id, Cursor(max(cursor.seq, int(clock.seq))))
        return PullResponse(changes=[], purge=[], cursor=next_cursor, has_more=False)

    async with sessions() as db:
        if dialect == "postgresql":
            await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        # Again inside the snapshot: H must be the clock of the very snapshot the records are read from.
        snapshot = (await db.execute(select(SyncClock.seq, SyncClock.horizon).where(SyncClock.id == 1))).one()
        high, horizon = int(snapshot.seq), int(snapshot.horizon)
        if cursor.seq and cursor.seq < horizon:
            raise CursorExpired("The cursor is older than the server keeps deletions; push, then bootstrap again.")
        if subject is None or (cursor.seq >= high and cursor.after_id is None):
            next_cursor = encode_cursor(secret, principal.user_id, Cursor(max(cursor.seq, high)))
            return PullResponse(changes=[], purge=[], cursor=next_cursor, has_more=False)
        member = select(ScopeMember.case_id, ScopeMember.entered_seq).where(ScopeMember.subject == subject).subquery()
        effective = (
            func.max(Record.version, member.c.entered_seq)
            if dialect == "sqlite"
            else func.greatest(Record.version, member.c.entered_seq)
        )
        if cursor.after_id is None:
            after_cursor = effective > cursor.seq
        else:
            after_cursor = tuple_(effective, Record.id) > tuple_(literal(cursor.seq), literal(cursor.after_id))
        # Order narrow rows first (ids and positions only), then read the blobs of just this page: sorting
        # whole rows would drag every blob of the scope through the sorter on every page.
        order = (
            select(Record.id, effective.label("effective"))
            .join(member, member.c.case_id == Record.case_id)
            .where(
                effective <= high,
                after_cursor,
                or_(Record.deleted.is_(False), Record.version > member.c.entered_seq),
                Record.blob.is_not(None),
            )
            .order_by(effective, Record.id)
            .limit(limit + 1)
        )
        keys = (await db.execute(order)).all()
        has_more = len(keys) > limit
        keys = keys[:limit]
        remaining = 0
        if has_more:
            # For the device's progress bar ("n of m"): how many changes follow this page in the same snapshot.
            counted = order.limit(None).order_by(None).subquery()
            total = (await db.execute(select(func.count()).select_from(counted))).scalar_one()
            remaining = int(total) - len(keys)
        end = Cursor(int(keys[-1].effective), keys[-1].id) if has_more else Cursor(high)
        by_id = {
            row["id"]: row
            for row in (await db.execute(select(*PULL_COLUMNS).where(Record.id.in_([k.id for k in keys])))).mappings()
        }
        found = [by_id[k.id] for k in keys]
        opened = await RecordStore(db, keyring).decrypt_fields(found)
        leaves = (
            await db.execute(
                select(ScopeEvent.case_id, ScopeEvent.seq, ScopeEvent.entered)
                .where(ScopeEvent.subject == subject, ScopeEvent.seq > cursor.seq, ScopeEvent.seq <= end.seq)
                .order_by(ScopeEvent.seq, ScopeEvent.id)
            )
        ).all()
        last_state: dict[uuid.UUID, bool] = {}
        for case_id, _, entered in leaves:
            last_state[case_id] = entered
        purge = sorted(case_id for case_id, entered in last_state.items() if not entered)
    changes = [
        Change(
            kind=r["kind"],
            id=r["id"],
            case_id=r["case_id"],
            version=r["version"],
            deleted=r["deleted"],
            fields=None if r["deleted"] else fields,
            flag=r["flag"],
        )
        for r, fields in zip(found, opened, strict=True)
    ]
    if changes:
        async with sessions() as db:
            await begin_write(db)
            await audit.append_per_case(
                db,
                action="sync.pull",
                actor_id=principal.user_id,
                device_id=principal.device_id,
                records=((change.case_id, change.id) for change in changes),
            )
            await db.commit()
    return PullResponse(
        changes=changes,
        purge=purge,
        cursor=encode_cursor(secret, principal.user_id, end),
        has_more=has_more,
        remaining=remaining,
    )
