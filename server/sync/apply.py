"""Applying one mutation inside a write transaction: put, delete and resolve, and the conflicts they make.

:func:`apply` runs one mutation against a :class:`~server.sync.batch.Batch` and returns its result. A mutation
that cannot apply raises :class:`~server.sync.batch.Rejected` inside and comes back as a ``rejected`` result, so
the rest of the batch goes on. Protocol rules live here (base versions, the merge, conflicts as records);
domain rules (who may set what, referral consent, the reassignment grace) live in :mod:`server.records.rules`
and reach the device as the same per-mutation rejection.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from server.db import utcnow
from server.records import rules
from server.records.keyring import CaseShredded
from server.records.rules import RuleViolation
from server.records.schemas import KINDS, Conflict, RecordFields
from server.records.store import RecordRow, StoredRecord, ValidationIssue, to_builtins, validate_fields
from server.sync.batch import Batch, Rejected, authorise, case_team
from server.sync.merge import AppendOnlyViolation, merge_put
from server.sync.messages import DeleteMutation, Mutation, MutationError, MutationResult, PutMutation, ResolveMutation
from server.text import BROKEN_TEXT

__all__ = ["apply", "resolve"]

UNKNOWN_RECORD = "No such record; it may have been erased."


async def apply(batch: Batch, mutation: Mutation) -> MutationResult:
    """Apply one mutation; a rejection is returned as its result, never raised."""
    try:
        match mutation:
            case PutMutation():
                return await _put(batch, mutation)
            case DeleteMutation():
                return await _delete(batch, mutation)
            case ResolveMutation():
                return await resolve(batch, mutation)
    except Rejected as rejected:
        return MutationResult(mid=mutation.mid, status="rejected", error=rejected.error)
    except CaseShredded:
        return MutationResult(
            mid=mutation.mid,
            status="rejected",
            error=MutationError(code="not-found", detail="The case was erased."),
        )
    raise AssertionError("unreachable")


def _check_controlled(
    batch: Batch, kind: str, new: dict[str, Any], old: dict[str, Any] | None, team: uuid.UUID | None
) -> None:
    try:
        rules.check_controlled(batch.principal, batch.team_members, kind, new, old, team)
    except RuleViolation as violation:
        raise Rejected.from_rule(violation) from None


def _normalise(kind: str, candidate: dict[str, Any], names: Iterable[str]) -> tuple[RecordFields, dict[str, Any]]:
    """Validate ``candidate``; return the struct and the canonical values of ``names``."""
    try:
        validated = validate_fields(kind, candidate)
    except ValidationIssue as issue:
        raise Rejected("validation", issue.detail, issue.field) from None
    normalised = to_builtins(validated)
    return validated, {name: normalised.get(name) for name in names}


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
    schema = KINDS[m.kind]
    _no_broken_text(m.fields)
    creating_case = m.kind == "case" and row is None
    flag = await authorise(batch, m.case_id, creating_case=creating_case)
    team = await case_team(batch, m.case_id)
    if m.kind != "case" and team is None:
        raise Rejected("not-found", "No such case.")

    if row is None:
        if flag is not None:
            _grace(m, None, None)
        missing = sorted(schema.REQUIRED_ON_CREATE - m.fields.keys())
        if missing:
            raise Rejected("validation", f"A new {m.kind} needs the field {missing[0]}.", missing[0])
        validated, incoming = _normalise(m.kind, dict(m.fields), m.fields.keys())
        _check_controlled(batch, m.kind, incoming, None, team if m.kind != "case" else None)
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
    _intact(batch, row.id)
    stored_fields = current.fields or {}
    if flag is not None:
        _grace(m, row, stored_fields)
    if row.deleted:
        # Kept for a person to decide: only validated values of fields that may change (docs/security.md case 34).
        _, offered = _normalise(m.kind, {**stored_fields, **m.fields}, m.fields.keys())
        _unchanged_immutable(schema, stored_fields, offered)
        conflict_id = await _new_conflict(batch, current, None, None, offered)
        return MutationResult(mid=m.mid, status="conflict", version=row.version, conflict_id=conflict_id)
    _, incoming = _normalise(m.kind, {**stored_fields, **m.fields}, m.fields.keys())
    _check_controlled(batch, m.kind, incoming, stored_fields, team)
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
        raise Rejected(
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
    batch: Batch,
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


def _grace(m: PutMutation, row: RecordRow | None, stored: dict[str, Any] | None) -> None:
    """Only work done at the door is accepted during the reassignment grace."""
    status = m.fields.get("status", (stored or {}).get("status"))
    try:
        rules.check_grace_work(m.kind, creating=row is None, named=m.fields.keys(), status=status)
    except RuleViolation as violation:
        raise Rejected.from_rule(violation) from None


def _unchanged_immutable(schema: type[RecordFields], stored: dict[str, Any], offered: dict[str, Any]) -> None:
    """A field that cannot change after creation (a note's text) is refused like in any put."""
    for name in sorted(schema.IMMUTABLE_FIELDS & offered.keys()):
        if offered[name] != stored.get(name):
            raise Rejected("append-only", f"{name} cannot change; write a new record instead.", name)


def _intact(batch: Batch, record_id: uuid.UUID) -> None:
    """A record whose stored ciphertext is damaged cannot be merged into; it waits for its restore."""
    if record_id in batch.store.damaged:
        raise Rejected("validation", "The stored record is damaged and cannot be changed until it is restored.")


def _no_broken_text(fields: dict[str, Any]) -> None:
    """Half an emoji (replaced by ``BROKEN_TEXT`` on the way in) or a NUL character refuses this mutation alone."""
    for name, value in fields.items():
        text = msgspec.json.encode(value).decode()
        if BROKEN_TEXT in text:
            raise Rejected(
                "validation", "The text holds a broken character (half of an emoji?); please type it again.", name
            )
        if "\\u0000" in text:
            raise Rejected("validation", "Text may not contain NUL characters.", name)


def _validated(kind: str, fields: dict[str, Any]) -> Any:
    try:
        return validate_fields(kind, fields)
    except ValidationIssue as issue:
        raise Rejected("validation", issue.detail, issue.field) from None


async def _check_references(
    batch: Batch, kind: str, case_id: uuid.UUID, fields: dict[str, Any], *, creating: bool = False
) -> None:
    """Cross-record rules (today: a referral's consent), with the rows this batch already holds."""
    if kind != "referral":
        return
    consent_id = uuid.UUID(str(fields["consent_id"]))
    consent = batch.rows.get(consent_id) or (await batch.store.rows([consent_id])).get(consent_id)
    try:
        rules.check_referral_consent(
            consent.kind if consent else None,
            consent.case_id if consent else None,
            consent.deleted if consent else False,
            consent.status if consent else None,
            case_id,
            creating=creating,
        )
    except RuleViolation as violation:
        raise Rejected.from_rule(violation) from None


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
        raise Rejected.from_rule(rules.grace_refusal())
    if m.kind == "case" and not batch.principal.is_supervisor:
        raise Rejected("forbidden", "Only a supervisor may delete a case.")
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


async def resolve(batch: Batch, m: ResolveMutation) -> MutationResult:
    """Resolve a conflict with the chosen value (a field value, or ``keep``/``delete``)."""
    row = batch.rows.get(m.conflict_id)
    if row is None or row.kind != "conflict" or row.deleted:
        raise Rejected("not-found", "No such conflict.")
    if await authorise(batch, row.case_id) is not None:
        raise Rejected.from_rule(rules.grace_refusal())
    conflict = (await batch.store.decrypt([row]))[0]
    data = conflict.fields or {}
    if data.get("status") == "resolved":
        raise Rejected("validation", "The conflict is already resolved.", "conflict_id")
    target = batch.rows.get(uuid.UUID(str(data["record_id"])))
    if target is None:
        target = (await batch.store.rows([uuid.UUID(str(data["record_id"]))])).get(uuid.UUID(str(data["record_id"])))
    if target is None:
        raise Rejected("not-found", "The record of this conflict no longer exists.")
    record = (await batch.store.decrypt([target]))[0]
    _intact(batch, target.id)
    team = await case_team(batch, record.case_id)
    field_name = data.get("field")
    if field_name is None:
        if m.value not in ("keep", "delete"):
            raise Rejected("validation", 'An edit-versus-delete conflict is resolved with "keep" or "delete".', "value")
        if m.value == "keep":
            offered = data.get("client_value") or {}
            _unchanged_immutable(KINDS[record.kind], record.fields or {}, offered)
            restored = {**(record.fields or {}), **offered}
            fields = _validated(record.kind, restored)
            _check_controlled(batch, record.kind, to_builtins(fields), record.fields, team)
            await _rewrite(batch, target, record, fields, data.get("client_value") or {})
        elif not target.deleted:
            await batch.store.mark_deleted(target, seq=batch.next_seq(), actor=batch.principal.user_id)
    else:
        if target.deleted:
            raise Rejected(
                "validation", "The record was deleted; the field conflict can no longer apply.", "conflict_id"
            )
        merged = {**(record.fields or {}), field_name: m.value}
        fields = _validated(record.kind, merged)
        normalised = to_builtins(fields)
        _check_controlled(batch, record.kind, normalised, record.fields, team)
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
