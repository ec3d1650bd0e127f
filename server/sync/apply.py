"""Applying one mutation inside a write transaction: put, delete and resolve, and the conflicts they make.

:func:`apply` runs one mutation against a :class:`~server.sync.batch.Batch` and returns its result. A mutation
that cannot apply raises :class:`~server.sync.batch.Rejected` inside and comes back as a ``rejected`` result, so
the rest of the batch goes on. Protocol rules live here (base versions, the merge, conflicts as records); the
record's rules (its schema, who may set what, the records it names, the reassignment grace) are
:mod:`server.records.writing`'s, and a :class:`~server.records.rules.RuleViolation` reaches the device as the same
per-mutation rejection.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import msgspec

from server.db import utcnow
from server.records import legacy, rules, writing
from server.records.keyring import CaseShredded
from server.records.models import Record
from server.records.rules import RuleViolation
from server.records.schemas import KINDS, Conflict, RecordFields
from server.records.store import RecordRow, StoredRecord
from server.records.validation import to_builtins
from server.sync import checks
from server.sync.batch import Batch, Rejected, authorise, case_team
from server.sync.handover import hand_over, rewrite
from server.sync.merge import AppendOnlyViolation, FieldConflict, merge_put, same_value, settle
from server.sync.messages import (
    DeleteMutation,
    Malformed,
    Mutation,
    MutationError,
    MutationResult,
    PutMutation,
    ResolveMutation,
)

__all__ = ["apply"]

UNKNOWN_RECORD = "No such record; it may have been erased."


async def apply(batch: Batch, mutation: Mutation | Malformed) -> MutationResult:
    """Apply one mutation; a rejection is returned as its result, never raised."""
    try:
        match mutation:
            case Malformed():
                return MutationResult(mid=mutation.mid, status="rejected", error=mutation.error)
            case PutMutation():
                return await _put(batch, mutation)
            case DeleteMutation():
                return await _delete(batch, mutation)
            case ResolveMutation():
                return await _resolve(batch, mutation)
    except Rejected as rejected:
        return MutationResult(mid=mutation.mid, status="rejected", error=rejected.error)
    except RuleViolation as violation:
        return MutationResult(mid=mutation.mid, status="rejected", error=Rejected.from_rule(violation).error)
    except CaseShredded:
        return MutationResult(
            mid=mutation.mid,
            status="rejected",
            error=MutationError(code="not-found", detail="The case was erased."),
        )
    raise AssertionError("unreachable")


async def _put(batch: Batch, m: PutMutation) -> MutationResult:
    if m.kind not in KINDS or m.kind == "conflict":
        raise Rejected("validation", "Records of this kind cannot be written.", "kind")
    if m.kind == "case" and m.case_id != m.id:
        raise Rejected("validation", "A case record's case_id must equal its id.", "case_id")
    row = batch.rows.get(m.id)
    if row is not None and (row.kind != m.kind or row.case_id != m.case_id):
        try:
            await authorise(batch, row.case_id)
        except Rejected:
            # The id belongs to a case the writer may not see: answer as for an id nobody knows, so that the
            # answer reveals nothing of it (docs/security.md case 30).
            raise Rejected("not-found", UNKNOWN_RECORD) from None
        raise Rejected("validation", "The record exists with another kind or case.", "case_id")
    if row is None and m.base_version is not None:
        raise Rejected("not-found", UNKNOWN_RECORD)
    if row is None and legacy.needs_upgrade(m.kind, m.fields):
        m = msgspec.structs.replace(m, fields=legacy.upgrade(m.kind, m.fields))
    schema = KINDS[m.kind]
    checks.no_broken_text(m.fields)
    creating_case = m.kind == "case" and row is None
    flag = await authorise(batch, m.case_id, creating_case=creating_case)
    team = await case_team(batch, m.case_id)
    if m.kind != "case" and team is None:
        raise Rejected("not-found", "No such case.")
    if m.kind != "case":
        checks.case_not_deleted(batch, m.case_id)

    if row is None:
        validated, incoming = await writing.admit_new(
            batch, m.kind, m.case_id, m.fields, team=team, grace=flag is not None
        )
        seq = batch.next_seq()
        written = await batch.store.write(
            None,
            kind=m.kind,
            record_id=m.id,
            case_id=m.case_id,
            fields=validated,
            field_versions=dict.fromkeys(incoming, seq),
            seq=seq,
            actor=batch.principal.user_id,
            flag=flag,
        )
        batch.rows[m.id] = written
        batch.touch(m.case_id, m.id, m.kind)
        if m.kind == "household":
            batch.households[m.id] = (m.case_id, to_builtins(validated))
        if m.kind == "case":
            batch.created_cases.add(m.id)
        if m.kind == "visit":
            batch.notice_visit(m.id, to_builtins(validated))
        return MutationResult(mid=m.mid, status="applied", version=seq, flag=flag)

    current = (await batch.store.decrypt([row]))[0]
    checks.intact(batch, row.id)
    stored_fields = current.fields or {}
    if legacy.needs_upgrade(m.kind, m.fields):
        m = msgspec.structs.replace(m, fields=legacy.upgrade(m.kind, m.fields, stored_fields))
    incoming = writing.admit_change(
        batch, m.kind, current, m.fields, team=team, base_version=m.base_version, grace=flag is not None
    )
    if row.deleted:
        # Kept for a person to decide: only validated values of fields that may change (docs/security.md case 34).
        conflict_id = await _new_conflict(batch, current, None, None, incoming)
        return MutationResult(mid=m.mid, status="conflict", version=row.version, conflict_id=conflict_id)
    base = batch.chained_base(m.id, m.base_version, incoming.keys())
    # Fields someone else changed since the writer's base become conflicts, whatever the rules would say of them:
    # a rule broken only by that concurrent change (a closure request meeting the supervisor's closing) is the
    # people's to decide, and the rest of the write applies.
    held = _held_by_concurrency(m.kind, schema, stored_fields, current.field_versions, base, incoming)
    applying = {name: value for name, value in incoming.items() if name not in held}
    writing.admit_fields(batch, m.kind, applying, stored_fields, team)
    try:
        outcome = merge_put(
            stored_fields,
            current.field_versions,
            base,
            applying,
            set_fields=schema.SET_FIELDS,
            immutable_fields=schema.IMMUTABLE_FIELDS,
        )
    except AppendOnlyViolation as violation:
        raise Rejected(
            "append-only", f"{violation.field} cannot change; write a new record instead.", violation.field
        ) from None
    outcome = settle(outcome, stored_fields, applying, lambda fields: writing.breaks(m.kind, fields))
    outcome = msgspec.structs.replace(
        outcome,
        conflicts=(
            *outcome.conflicts,
            *(FieldConflict(name, stored_fields.get(name), incoming[name]) for name in held),
        ),
    )
    version = row.version
    if outcome.changed:
        fields = await writing.admit_result(batch, m.kind, m.case_id, outcome.fields, outcome.changed)
        version = await rewrite(batch, row, current, fields, outcome.changed, flag=flag)
        batch.touch(m.case_id, m.id, m.kind)
        if m.kind == "visit" and outcome.changed & {"assigned_worker_id", "planned_at", "status"}:
            batch.notice_visit(m.id, outcome.fields)
        previous, successor = stored_fields.get("assigned_worker_id"), outcome.fields.get("assigned_worker_id")
        if m.kind == "case" and "assigned_worker_id" in outcome.changed and previous and successor:
            await hand_over(batch, m.case_id, uuid.UUID(str(previous)), uuid.UUID(str(successor)))
    first_conflict = None
    for conflict in outcome.conflicts:
        conflict_id = await _new_conflict(batch, current, conflict.field, conflict.server_value, conflict.client_value)
        first_conflict = first_conflict or conflict_id
    if first_conflict is not None:
        return MutationResult(mid=m.mid, status="conflict", version=version, conflict_id=first_conflict, flag=flag)
    return MutationResult(mid=m.mid, status="applied", version=version, flag=flag)


def _held_by_concurrency(
    kind: str,
    schema: type[RecordFields],
    stored: dict[str, Any],
    field_versions: Mapping[str, int],
    base: int | None,
    incoming: dict[str, Any],
) -> list[str]:
    """The fields of a put with a base that another writer changed since (the merge makes them conflicts anyway),
    and, when that other writer closed the case, the closing fields the put would change along with its status
    (a worker's closure request or withdrawal meeting the supervisor's approval: the approval stands)."""
    if base is None:
        return []
    held = [
        name
        for name, value in incoming.items()
        if name not in schema.SET_FIELDS
        and name not in schema.IMMUTABLE_FIELDS
        and field_versions.get(name, 0) > base
        and not same_value(value, stored.get(name))
    ]
    if kind == "case" and "status" in held and stored.get("status") == "closed":
        held += [
            name
            for name in rules.CLOSING_FIELDS
            if name in incoming and name not in held and not same_value(incoming[name], stored.get(name))
        ]
    return held


async def _new_conflict(
    batch: Batch, current: StoredRecord, field_name: str | None, server_value: Any, client_value: Any
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


async def _delete(batch: Batch, m: DeleteMutation) -> MutationResult:
    if m.base_version is None:
        raise Rejected("validation", "A delete needs the base_version of the copy the device holds.", "base_version")
    row = batch.rows.get(m.id)
    if row is None or row.kind != m.kind or row.case_id != m.case_id:
        raise Rejected("not-found", "No such record.")
    if m.kind == "conflict":
        raise Rejected("validation", "Conflicts are resolved, not deleted.", "kind")
    if await authorise(batch, m.case_id) is not None:
        raise rules.grace_refusal()
    if m.kind == "case" and not batch.principal.is_supervisor:
        raise Rejected("forbidden", "Only a supervisor may delete a case.")
    if row.deleted:
        return MutationResult(mid=m.mid, status="applied", version=row.version)
    if m.kind == "visit" and not batch.principal.is_supervisor:
        # Deleting a visit the supervisor planned is cancelling it, which is the supervisor's (rules.check_visit_plan).
        planned = ((await batch.store.decrypt([row]))[0].fields or {}).get("planned_by")
        if planned is not None and uuid.UUID(str(planned)) in batch.supervisors:
            raise Rejected("forbidden", "This visit was planned by the supervisor; only they can cancel it.")
    if m.base_version < row.version:
        current = (await batch.store.decrypt([row]))[0]
        conflict_id = await _new_conflict(batch, current, None, current.fields, None)
        return MutationResult(mid=m.mid, status="conflict", version=row.version, conflict_id=conflict_id)
    seq = batch.next_seq()
    await batch.store.mark_deleted(row, seq=seq, actor=batch.principal.user_id)
    batch.touch(m.case_id, m.id, m.kind)
    await _close_conflicts_of(batch, row)
    return MutationResult(mid=m.mid, status="applied", version=seq)


async def _close_conflicts_of(batch: Batch, deleted: RecordRow) -> None:
    """A record's deletion closes its open field conflicts: their status becomes ``obsolete``."""
    candidates = await batch.store.select(
        Record.kind == "conflict",
        Record.case_id == deleted.case_id,
        Record.status == "open",
        Record.deleted.is_(False),
    )
    for conflict in await batch.store.decrypt(candidates):
        data = conflict.fields or {}
        if str(data.get("record_id")) == str(deleted.id) and data.get("field") is not None:
            row = batch.rows.get(conflict.id) or (await batch.store.rows([conflict.id]))[conflict.id]
            await rewrite(
                batch, row, conflict, writing.validated("conflict", {**data, "status": "obsolete"}), ["status"]
            )
            batch.touch(conflict.case_id, conflict.id, "conflict")


async def _resolve(batch: Batch, m: ResolveMutation) -> MutationResult:
    """Resolve a conflict with the chosen value (a field value, or ``keep``/``delete``)."""
    row = batch.rows.get(m.conflict_id)
    if row is None or row.kind != "conflict" or row.deleted:
        raise Rejected("not-found", "No such conflict.")
    if await authorise(batch, row.case_id) is not None:
        raise rules.grace_refusal()
    conflict = (await batch.store.decrypt([row]))[0]
    data = conflict.fields or {}
    if data.get("status") in ("resolved", "obsolete"):
        raise Rejected("validation", "The conflict is already closed.", "conflict_id")
    target = batch.rows.get(uuid.UUID(str(data["record_id"])))
    if target is None:
        target = (await batch.store.rows([uuid.UUID(str(data["record_id"]))])).get(uuid.UUID(str(data["record_id"])))
    if target is None:
        raise Rejected("not-found", "The record of this conflict no longer exists.")
    record = (await batch.store.decrypt([target]))[0]
    checks.intact(batch, target.id)
    team = await case_team(batch, record.case_id)
    field_name = data.get("field")
    if field_name is None:
        if m.value not in ("keep", "delete"):
            raise Rejected("validation", 'An edit-versus-delete conflict is resolved with "keep" or "delete".', "value")
        if m.value == "keep":
            offered = data.get("client_value") or {}
            writing.unchanged_immutable(record.kind, record.fields or {}, offered)
            restored = {**(record.fields or {}), **offered}
            fields = writing.validated(record.kind, restored)
            writing.admit_fields(batch, record.kind, to_builtins(fields), record.fields, team)
            await rewrite(batch, target, record, fields, data.get("client_value") or {})
        elif not target.deleted:
            await batch.store.mark_deleted(target, seq=batch.next_seq(), actor=batch.principal.user_id)
            await _close_conflicts_of(batch, target)
    else:
        if target.deleted:  # closed by the deletion (a conflict older than that rule): nothing is left to decide
            seq = await rewrite(
                batch, row, conflict, writing.validated("conflict", {**data, "status": "obsolete"}), ["status"]
            )
            batch.touch(row.case_id, row.id, "conflict")
            return MutationResult(mid=m.mid, status="applied", version=seq)
        await _not_stale(batch, row, conflict, record, field_name)
        merged = {**(record.fields or {}), field_name: m.value}
        fields = writing.validated(record.kind, merged)
        normalised = to_builtins(fields)
        writing.admit_fields(batch, record.kind, normalised, record.fields, team)
        if normalised.get(field_name) != (record.fields or {}).get(field_name):
            await rewrite(batch, target, record, fields, [field_name])
    resolution = {
        "status": "resolved",
        "resolution": m.value,
        "resolved_by": str(batch.principal.user_id),
        "resolved_at": utcnow().isoformat(),
    }
    seq = await rewrite(batch, row, conflict, writing.validated("conflict", {**data, **resolution}), resolution)
    batch.touch(row.case_id, row.id, "conflict")
    batch.touch(record.case_id, record.id, record.kind)
    return MutationResult(mid=m.mid, status="applied", version=seq)


async def _not_stale(
    batch: Batch, row: RecordRow, conflict: StoredRecord, record: StoredRecord, field_name: str
) -> None:
    """A resolve decides between the values the conflict shows; if the field changed again since, the decision
    would silently overwrite the newer value. Refuse it as ``stale`` and refresh the conflict to show the current
    value, so the person decides again with what is there now."""
    data = conflict.fields or {}
    seen = max(conflict.created_version, int(data.get("field_version") or 0))
    now = record.field_versions.get(field_name, 0)
    if now <= seen:
        return
    refreshed = {**data, "server_value": (record.fields or {}).get(field_name), "field_version": now}
    await rewrite(batch, row, conflict, writing.validated("conflict", refreshed), ["server_value", "field_version"])
    batch.touch(row.case_id, row.id, "conflict")
    raise Rejected(
        "stale", "The field changed again after this conflict was recorded; it now shows the current value.", field_name
    )
