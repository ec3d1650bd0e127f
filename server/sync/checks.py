"""The checks one write must pass before it touches a record, each raising the per-mutation rejection.

Protocol checks (a value that breaks the kind's schema, a field written once, broken text, a damaged record, a
deleted case) and the domain rules of :mod:`server.records.rules` as they apply to a sync write (controlled
fields, the reassignment grace, referral consent). :mod:`server.sync.apply` calls them in order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable
from typing import Any

import msgspec

from server.db import utcnow
from server.records import rules
from server.records.rules import RuleViolation
from server.records.schemas import RecordFields
from server.records.store import RecordRow, StoredRecord
from server.records.validation import ValidationIssue, to_builtins, validate_fields
from server.sync.batch import Batch, Rejected
from server.sync.messages import PutMutation
from server.text import BROKEN_TEXT

__all__ = [
    "breaks",
    "case_not_deleted",
    "check_controlled",
    "check_references",
    "grace",
    "intact",
    "no_broken_text",
    "normalise",
    "not_in_the_future",
    "unchanged_immutable",
    "validated",
    "without_resent_assignment",
    "writer_fields",
]


def check_controlled(
    batch: Batch, kind: str, new: dict[str, Any], old: dict[str, Any] | None, team: uuid.UUID | None
) -> None:
    """Who may set what: the assignment fields, a case's closure, a visit's plan (:mod:`server.records.rules`)."""
    try:
        rules.check_controlled(batch.principal, batch.team_members, kind, new, old, team)
        if kind == "case":
            rules.check_case_status(batch.principal, new, old)
        if kind == "visit":
            rules.check_visit_plan(batch.principal, new, old, batch.supervisors)
    except RuleViolation as violation:
        raise Rejected.from_rule(violation) from None


def writer_fields(batch: Batch, schema: type[RecordFields], fields: dict[str, Any]) -> dict[str, Any]:
    """A new record's fields with the ones naming its creator set to the writer (a different user is refused)."""
    if not schema.WRITER_FIELDS:
        return fields
    try:
        filled = rules.check_writer_fields(batch.principal, schema.WRITER_FIELDS, fields)
    except RuleViolation as violation:
        raise Rejected.from_rule(violation) from None
    return {**fields, **filled}


def normalise(kind: str, candidate: dict[str, Any], names: Iterable[str]) -> tuple[RecordFields, dict[str, Any]]:
    """Validate ``candidate``; return the struct and the canonical values of ``names``."""
    try:
        validated = validate_fields(kind, candidate)
    except ValidationIssue as issue:
        raise Rejected("validation", issue.detail, issue.field) from None
    normalised = to_builtins(validated)
    return validated, {name: normalised.get(name) for name in names}


def grace(m: PutMutation, row: RecordRow | None, stored: dict[str, Any] | None) -> None:
    """Only work done at the door is accepted during the reassignment grace."""
    status = m.fields.get("status", (stored or {}).get("status"))
    try:
        rules.check_grace_work(m.kind, creating=row is None, named=m.fields.keys(), status=status)
    except RuleViolation as violation:
        raise Rejected.from_rule(violation) from None


def unchanged_immutable(schema: type[RecordFields], stored: dict[str, Any], offered: dict[str, Any]) -> None:
    """A field that cannot change after creation (a note's text) is refused like in any put."""
    for name in sorted(schema.IMMUTABLE_FIELDS & offered.keys()):
        if offered[name] != stored.get(name):
            raise Rejected("append-only", f"{name} cannot change; write a new record instead.", name)


def without_resent_assignment(
    batch: Batch, m: PutMutation, incoming: dict[str, Any], current: StoredRecord, team: uuid.UUID | None
) -> dict[str, Any]:
    """A worker's put that carries the assignment as they last pulled it, after a supervisor changed it: that is
    not an attempt to change it, so the field is dropped and the rest of the put goes on."""
    principal = batch.principal
    if m.base_version is None or (principal.is_supervisor and team == principal.team_id):
        return incoming
    stale = {
        name
        for name in rules.CONTROLLED_FIELDS
        if name in incoming and current.field_versions.get(name, 0) > m.base_version
    }
    return {name: value for name, value in incoming.items() if name not in stale}


def case_not_deleted(batch: Batch, case_id: uuid.UUID) -> None:
    """Work for a deleted case is refused, never acknowledged and then unreachable: the device keeps it as refused
    work and the worker is told (until the case is restored, when it can be sent again)."""
    case = batch.rows.get(case_id)
    if case is not None and case.deleted:
        raise Rejected("not-found", "The case was deleted; this change cannot be kept unless the case is restored.")


def intact(batch: Batch, record_id: uuid.UUID) -> None:
    """A record whose stored ciphertext is damaged cannot be merged into; it waits for its restore."""
    if record_id in batch.store.damaged:
        raise Rejected("validation", "The stored record is damaged and cannot be changed until it is restored.")


def no_broken_text(fields: dict[str, Any]) -> None:
    """Half an emoji (replaced by ``BROKEN_TEXT`` on the way in) or a NUL character refuses this mutation alone."""
    for name, value in fields.items():
        text = msgspec.json.encode(value).decode()
        if BROKEN_TEXT in text:
            raise Rejected(
                "validation", "The text holds a broken character (half of an emoji?); please type it again.", name
            )
        if "\\u0000" in text:
            raise Rejected("validation", "Text may not contain NUL characters.", name)


def breaks(kind: str, fields: dict[str, Any]) -> str | None:
    """The field a complete record fails its kind's rules on (the kind's name if the rule names none), or None."""
    try:
        validate_fields(kind, fields)
    except ValidationIssue as issue:
        return issue.field or kind
    return None


def validated(kind: str, fields: dict[str, Any]) -> Any:
    """The record's fields, checked against its kind's schema and rules."""
    try:
        return validate_fields(kind, fields)
    except ValidationIssue as issue:
        raise Rejected("validation", issue.detail, issue.field) from None


async def check_references(
    batch: Batch,
    kind: str,
    case_id: uuid.UUID,
    fields: dict[str, Any],
    *,
    creating: bool = False,
    changed: Collection[str] = (),
) -> None:
    """Cross-record rules (a referral's consent, an attachment's record, a case's household), with the rows this
    batch already holds. ``changed`` names the fields an update changes."""
    if kind == "case":
        if fields.get("household_id") and (creating or "household_id" in changed):
            await _check_household(batch, case_id, fields)
        return
    if kind == "attachment":
        if creating:
            await _check_parent(batch, case_id, fields)
        return
    if kind != "referral":
        return
    consent_id = uuid.UUID(str(fields["consent_id"]))
    consent = batch.rows.get(consent_id) or (await batch.store.rows([consent_id])).get(consent_id)
    valid_until = None
    if creating and consent is not None and consent.kind == "consent" and not consent.deleted:
        stored = (await batch.store.decrypt([consent]))[0].fields or {}
        valid_until = dt.date.fromisoformat(stored["valid_until"]) if stored.get("valid_until") else None
    try:
        rules.check_referral_consent(
            consent.kind if consent else None,
            consent.case_id if consent else None,
            consent.deleted if consent else False,
            consent.status if consent else None,
            case_id,
            creating=creating,
            valid_until=valid_until,
            today=utcnow().date(),
        )
    except RuleViolation as violation:
        raise Rejected.from_rule(violation) from None


async def _check_household(batch: Batch, case_id: uuid.UUID, fields: dict[str, Any]) -> None:
    """A case names a household of its own, or, linked by the team's supervisor, the household of another case of
    the same team (two cases of one household); never another team's, and never by a worker's hand, since the right
    of access hands out every case that names a household (docs/security.md case 51). A household not written yet
    is the case's own: the intake sends the case before its household."""
    household_id = uuid.UUID(str(fields["household_id"]))
    household = batch.rows.get(household_id) or (await batch.store.rows([household_id])).get(household_id)
    if household is None or household.case_id == case_id:
        return
    if household.kind != "household" or household.deleted:
        raise Rejected("validation", "household_id names no household.", "household_id")
    owner = batch.rows.get(household.case_id) or (await batch.store.rows([household.case_id])).get(household.case_id)
    same_team = owner is not None and str(owner.team_id) == str(fields.get("team_id"))
    if not (batch.principal.is_supervisor and same_team):
        raise Rejected(
            "forbidden", "Only the team's supervisor links a case to the household of another case.", "household_id"
        )


async def _check_parent(batch: Batch, case_id: uuid.UUID, fields: dict[str, Any]) -> None:
    """An attachment belongs to a live record of its own case, of the kind it names."""
    if not fields.get("parent_id"):
        return
    parent_id = uuid.UUID(str(fields["parent_id"]))
    parent = batch.rows.get(parent_id) or (await batch.store.rows([parent_id])).get(parent_id)
    if parent is None or parent.deleted or parent.case_id != case_id or parent.kind != fields.get("parent_kind"):
        raise Rejected("validation", "The attachment names no record of this kind in this case.", "parent_id")


# How far a device's clock may run ahead before a moment it records is refused.
CLOCK_TOLERANCE = dt.timedelta(minutes=5)


def not_in_the_future(schema: type[RecordFields], incoming: dict[str, Any]) -> None:
    """A visit made or a contact held cannot lie in the future: a tablet whose clock runs ahead is told so."""
    latest = utcnow() + CLOCK_TOLERANCE
    for name in sorted(schema.PAST_MOMENTS & incoming.keys()):
        value = incoming[name]
        if value and dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) > latest:
            raise Rejected(
                "validation", "This moment lies in the future; check the date and time set on the tablet.", name
            )
