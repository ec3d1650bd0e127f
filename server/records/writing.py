"""The rules one write of a record must pass, whichever way it arrives: one place, one exception.

A write is checked in two steps around the merge (which is sync's: base versions and conflicts):

- :func:`admit_new` checks a new record whole: required fields, the kind's schema, the fields naming the writer,
  moments that cannot lie in the future, who may set what (:mod:`server.records.rules`) and the records it names
  (a referral's consent, an attachment's record, a case's household). It returns what to store.
- :func:`admit_change` checks what a write to an existing record offers before the merge; :func:`admit_fields`
  checks the fields that will apply (who may set what); :func:`admit_result` the merged record (its kind's schema,
  the records it names) and returns what to store.

Every broken rule raises :class:`~server.records.rules.RuleViolation`, naming the field; sync answers it as the
per-mutation rejection. The reassignment grace is checked here too: a write accepted only through it passes
``grace=True``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from server.auth.schemas import Principal
from server.db import utcnow
from server.records import rules
from server.records.rules import RuleViolation
from server.records.schemas import KINDS, RecordFields
from server.records.store import RecordRow, RecordStore, StoredRecord
from server.records.validation import ValidationIssue, to_builtins, validate_fields

__all__ = [
    "CLOCK_TOLERANCE",
    "WriteContext",
    "admit_change",
    "admit_fields",
    "admit_new",
    "admit_result",
    "breaks",
    "unchanged_immutable",
    "validated",
]

# How far a device's clock may run ahead before a moment it records is refused.
CLOCK_TOLERANCE = dt.timedelta(minutes=5)
# The day a case is opened on when its intake does not say: today where the teams work (Germany and Austria share
# one civil time).
LOCAL_TIME = ZoneInfo("Europe/Berlin")


class WriteContext(Protocol):
    """What the rules need to know of the transaction a write runs in (sync's batch is one)."""

    principal: Principal
    # The writer's team (a supervisor assigns only to these) and its supervisors (whose planned visits stay theirs).
    team_members: set[uuid.UUID]
    supervisors: set[uuid.UUID]
    # Rows the transaction has read or written, before the store is asked.
    rows: dict[uuid.UUID, RecordRow]
    store: RecordStore


async def admit_new(
    ctx: WriteContext,
    kind: str,
    case_id: uuid.UUID,
    fields: Mapping[str, Any],
    *,
    team: uuid.UUID | None,
    grace: bool = False,
) -> tuple[RecordFields, dict[str, Any]]:
    """A new record's validated fields and the canonical values of the fields it names (the writer's fields
    included), or :class:`RuleViolation`. ``team`` is the case's team (None while a case is being created)."""
    if grace:
        rules.check_grace_work(kind, creating=True, named=fields.keys())
    if kind == "case" and not fields.get("opened_on"):
        # Every case has the day it was opened: the reports count a case from it (docs/domain.md "Figures").
        fields = {**fields, "opened_on": utcnow().astimezone(LOCAL_TIME).date().isoformat()}
    schema = KINDS[kind]
    missing = sorted(schema.REQUIRED_ON_CREATE - fields.keys())
    if missing:
        raise RuleViolation("validation", f"A new {kind} needs the field {missing[0]}.", missing[0])
    record, named = _normalise(kind, fields, fields.keys())
    if schema.WRITER_FIELDS:
        filled = rules.check_writer_fields(ctx.principal, schema.WRITER_FIELDS, named)
        offered = {**named, **filled}
        record, named = _normalise(kind, {**fields, **offered}, offered.keys())
    _not_in_the_future(schema, named)
    admit_fields(ctx, kind, named, None, team if kind != "case" else None)
    await _check_references(ctx, kind, case_id, named, creating=True)
    return record, named


def admit_change(
    ctx: WriteContext,
    kind: str,
    current: StoredRecord,
    offered: Mapping[str, Any],
    *,
    team: uuid.UUID | None,
    base_version: int | None,
    grace: bool = False,
) -> dict[str, Any]:
    """The canonical values a write to ``current`` offers, before the merge; or :class:`RuleViolation`.

    A worker's write that carries the assignment as they last pulled it, after a supervisor changed it, does not
    try to change it: that field is dropped and the rest goes on. A deleted record's offer is only checked against
    its schema and the fields that never change (a person decides what becomes of it).
    """
    stored = current.fields or {}
    if grace:
        status = offered.get("status", stored.get("status"))
        rules.check_grace_work(kind, creating=False, named=offered.keys(), status=status)
    _, incoming = _normalise(kind, {**stored, **offered}, offered.keys())
    if kind == "case" and "opened_on" in incoming and incoming["opened_on"] is None:
        raise RuleViolation("validation", "A case keeps the day it was opened; it cannot be removed.", "opened_on")
    if current.deleted:
        unchanged_immutable(kind, stored, incoming)
        return incoming
    _not_in_the_future(KINDS[kind], incoming)
    principal = ctx.principal
    if base_version is None or (principal.is_supervisor and team == principal.team_id):
        return incoming
    stale = {
        name
        for name in rules.CONTROLLED_FIELDS
        if name in incoming and current.field_versions.get(name, 0) > base_version
    }
    return {name: value for name, value in incoming.items() if name not in stale}


def admit_fields(
    ctx: WriteContext, kind: str, new: dict[str, Any], old: dict[str, Any] | None, team: uuid.UUID | None
) -> None:
    """Who may set what: the assignment fields, a case's closure, a visit's plan (:mod:`server.records.rules`).
    ``new`` holds the canonical values the write sets, ``old`` the stored fields (None for a new record)."""
    rules.check_controlled(ctx.principal, ctx.team_members, kind, new, old, team)
    if kind == "case":
        rules.check_case_status(ctx.principal, new, old)
    if kind == "visit":
        rules.check_visit_plan(ctx.principal, new, old, ctx.supervisors)


async def admit_result(
    ctx: WriteContext, kind: str, case_id: uuid.UUID, fields: dict[str, Any], changed: Collection[str]
) -> RecordFields:
    """The merged record, checked against its kind's schema and the records it names; ``changed`` names the fields
    the write changes."""
    await _check_references(ctx, kind, case_id, fields, changed=changed)
    return validated(kind, fields)


def unchanged_immutable(kind: str, stored: Mapping[str, Any], offered: Mapping[str, Any]) -> None:
    """A field that cannot change after creation (a note's text) is refused like in any put."""
    for name in sorted(KINDS[kind].IMMUTABLE_FIELDS & offered.keys()):
        if offered[name] != stored.get(name):
            raise RuleViolation("append-only", f"{name} cannot change; write a new record instead.", name)


def validated(kind: str, fields: Mapping[str, Any]) -> RecordFields:
    """The record's fields, checked against its kind's schema and rules."""
    try:
        return validate_fields(kind, fields)
    except ValidationIssue as issue:
        raise RuleViolation("validation", issue.detail, issue.field) from None


def breaks(kind: str, fields: Mapping[str, Any]) -> str | None:
    """The field a complete record fails its kind's rules on (the kind's name if the rule names none), or None."""
    try:
        validate_fields(kind, fields)
    except ValidationIssue as issue:
        return issue.field or kind
    return None


def _normalise(kind: str, candidate: Mapping[str, Any], names: Iterable[str]) -> tuple[RecordFields, dict[str, Any]]:
    """Validate ``candidate``; return the struct and the canonical values of ``names``."""
    record = validated(kind, candidate)
    canonical = to_builtins(record)
    return record, {name: canonical.get(name) for name in names}


def _not_in_the_future(schema: type[RecordFields], incoming: Mapping[str, Any]) -> None:
    """A visit made or a contact held cannot lie in the future: a tablet whose clock runs ahead is told so."""
    latest = utcnow() + CLOCK_TOLERANCE
    for name in sorted(schema.PAST_MOMENTS & incoming.keys()):
        value = incoming[name]
        if value and dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) > latest:
            raise RuleViolation(
                "validation", "This moment lies in the future; check the date and time set on the tablet.", name
            )


async def _row(ctx: WriteContext, record_id: uuid.UUID) -> RecordRow | None:
    return ctx.rows.get(record_id) or (await ctx.store.rows([record_id])).get(record_id)


async def _check_references(
    ctx: WriteContext,
    kind: str,
    case_id: uuid.UUID,
    fields: Mapping[str, Any],
    *,
    creating: bool = False,
    changed: Collection[str] = (),
) -> None:
    """Cross-record rules (a referral's consent, an attachment's record, a case's household)."""
    if kind == "case":
        if fields.get("household_id") and (creating or "household_id" in changed):
            await _check_household(ctx, case_id, fields)
    elif kind == "attachment":
        if creating and fields.get("parent_id"):
            await _check_parent(ctx, case_id, fields)
    elif kind == "referral":
        await _check_consent(ctx, case_id, fields, creating=creating)


async def _check_consent(ctx: WriteContext, case_id: uuid.UUID, fields: Mapping[str, Any], *, creating: bool) -> None:
    """A referral needs the tenant's consent on file for its case; a new one needs a consent in force."""
    consent = await _row(ctx, uuid.UUID(str(fields["consent_id"])))
    valid_until = None
    if creating and consent is not None and consent.kind == "consent" and not consent.deleted:
        stored = (await ctx.store.decrypt([consent]))[0].fields or {}
        valid_until = dt.date.fromisoformat(stored["valid_until"]) if stored.get("valid_until") else None
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


async def _check_household(ctx: WriteContext, case_id: uuid.UUID, fields: Mapping[str, Any]) -> None:
    """A case names a household of its own, or, linked by the team's supervisor, the household of another case of
    the same team (two cases of one household); never another team's, and never by a worker's hand, since the right
    of access hands out every case that names a household (docs/security.md case 51). A household not written yet
    is the case's own: the intake sends the case before its household."""
    household = await _row(ctx, uuid.UUID(str(fields["household_id"])))
    if household is None or household.case_id == case_id:
        return
    if household.kind != "household" or household.deleted:
        raise RuleViolation("validation", "household_id names no household.", "household_id")
    owner = await _row(ctx, household.case_id)
    same_team = owner is not None and str(owner.team_id) == str(fields.get("team_id"))
    if not (ctx.principal.is_supervisor and same_team):
        raise RuleViolation(
            "forbidden", "Only the team's supervisor links a case to the household of another case.", "household_id"
        )


async def _check_parent(ctx: WriteContext, case_id: uuid.UUID, fields: Mapping[str, Any]) -> None:
    """An attachment belongs to a live record of its own case, of the kind it names."""
    parent = await _row(ctx, uuid.UUID(str(fields["parent_id"])))
    if parent is None or parent.deleted or parent.case_id != case_id or parent.kind != fields.get("parent_kind"):
        raise RuleViolation("validation", "The attachment names no record of this kind in this case.", "parent_id")
