"""Domain rules about who may write what, independent of how the write arrives.

Sync (a mutation from a tablet) and the office API call these rules; a broken rule raises :class:`RuleViolation`,
which sync turns into a per-mutation rejection and the office API into a problem response. The rules:

- the assignment fields (``assigned_worker_id``, ``team_id``) are controlled: only a supervisor of the case's team
  sets or changes them (``docs/security.md``, case 8);
- a worker takes on a new case only for themselves in their own team; a supervisor for any worker of the team;
- closing: a worker requests it (``closing_requested``), only the team's supervisor sets ``closed``; reopening a
  closed case needs a reason;
- a visit a supervisor planned is the supervisor's to move or cancel; the outcome is the worker's;
- the fields naming a record's creator (a note's author, a visit's planner) are the writer, set by the server;
- a new referral needs the tenant's consent on file for the same case, and that consent must be in force;
- the reassignment grace: work done at the door before a case was moved to a colleague is still accepted, with a
  flag, for :data:`REASSIGNMENT_GRACE` (rule 7 of ``docs/sync-protocol.md``): new notes and contacts, a visit's
  outcome and assessment answers, and nothing else. It can never change who the case belongs to nor bring the case
  back into the old worker's scope (``docs/security.md`` case 25).

To add a rule: write a function here that raises :class:`RuleViolation` naming the field, and call it from
:mod:`server.records.writing`, the one place every write of a record passes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from typing import Any, Literal, Protocol

from server.auth.schemas import Principal

__all__ = [
    "CONTROLLED_FIELDS",
    "FLAG_REASSIGNED",
    "REASSIGNMENT_GRACE",
    "RuleViolation",
    "check_case_status",
    "check_controlled",
    "check_grace_work",
    "check_referral_consent",
    "check_visit_plan",
    "check_writer_fields",
    "grace_refusal",
    "within_reassignment_grace",
]

RuleCode = Literal["forbidden", "validation", "append-only"]
REASSIGNMENT_GRACE = dt.timedelta(days=30)
FLAG_REASSIGNED = "accepted-after-reassignment"
# Fields only a supervisor of the case's team may set or change.
CONTROLLED_FIELDS = ("assigned_worker_id", "team_id")
# What counts as a visit's outcome: the fields a worker fills in at the door.
VISIT_OUTCOME_FIELDS = frozenset({"status", "visited_at", "card_left", "duration_minutes"})


class RuleViolation(Exception):
    """A write breaks a domain rule. ``code`` is ``forbidden`` (not this user's to change), ``validation`` (not a
    value this record can hold) or ``append-only`` (a field that never changes after creation)."""

    def __init__(self, code: RuleCode, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.code: RuleCode = code
        self.detail = detail
        self.field = field


class ScopeMove(Protocol):
    """One entry or exit of a case in a worker's scope, as the scope log records it."""

    @property
    def seq(self) -> int: ...

    @property
    def entered(self) -> bool: ...

    @property
    def at(self) -> dt.datetime: ...


def check_controlled(
    principal: Principal,
    team_members: Collection[uuid.UUID],
    kind: str,
    new: dict[str, Any],
    old: dict[str, Any] | None,
    case_team: uuid.UUID | None,
) -> None:
    """Only a supervisor of the case's team may set or change the assignment fields.

    ``new`` holds the canonical values the write sets, ``old`` the stored fields (None for a new record), and
    ``team_members`` the ids of the supervisor's team. Sending a field's unchanged value is not a change, and a
    worker may create a visit assigned to themselves or to nobody.
    """
    if kind == "case" and old is None and not principal.is_supervisor:
        _check_own_intake(principal, new)
        return
    for name in CONTROLLED_FIELDS:
        if name not in new:
            continue
        value = new[name]
        if old is not None and value == old.get(name):
            continue
        if kind == "visit" and name == "assigned_worker_id" and old is None and value in (None, str(principal.user_id)):
            continue
        if not principal.is_supervisor or (case_team is not None and case_team != principal.team_id):
            raise RuleViolation("forbidden", f"Only the team's supervisor may set {name}.", name)
        if name == "team_id" and value != str(principal.team_id):
            raise RuleViolation("forbidden", "A case can only be given to the supervisor's own team.", name)
        if name == "assigned_worker_id" and value is not None and uuid.UUID(str(value)) not in team_members:
            raise RuleViolation("validation", "The assigned worker is not a member of this team.", name)


def _check_own_intake(principal: Principal, new: dict[str, Any]) -> None:
    """A worker takes on a new case only for themselves, in their own team."""
    if principal.team_id is None or new.get("team_id") != str(principal.team_id):
        raise RuleViolation("forbidden", "A worker takes on cases only in their own team.", "team_id")
    if new.get("assigned_worker_id") != str(principal.user_id):
        raise RuleViolation(
            "forbidden",
            "A worker takes on a case only for themselves; the supervisor assigns cases to colleagues.",
            "assigned_worker_id",
        )


CLOSURE_BY_SUPERVISOR = "Only the team's supervisor approves a closure; request it instead (status closing_requested)."
CLOSING_BY_SUPERVISOR = "A closed case's closing is the supervisor's to change; reopen the case with a reason first."
# What the supervisor's approval settles: after it, a worker changes none of these except by reopening the case.
CLOSING_FIELDS = ("outcome", "closed_on", "closing_note")
# What a worker may change on a visit their supervisor planned: the outcome fields, nothing of the plan.
PLAN_FIELDS = frozenset({"planned_at", "assigned_worker_id"})


def check_case_status(principal: Principal, new: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Closing follows the approval: a worker requests it, only the supervisor of the team sets ``closed``.

    ``new`` holds the canonical values the write sets, ``old`` the stored fields (None for a new case). A case
    reopened from ``closed`` needs a reason. The caller has already checked the case is in the writer's scope, so a
    supervisor here is the case team's.
    """
    status = new.get("status")
    before = None if old is None else old.get("status")
    if old is not None and before == "closed" and not principal.is_supervisor:
        _check_closing_kept(new, old)
    if status is None or status == before:
        return
    if status == "closed" and not principal.is_supervisor:
        raise RuleViolation("forbidden", CLOSURE_BY_SUPERVISOR, "status")
    if before == "closed" and status != "closed":
        reason = new.get("reopen_reason", (old or {}).get("reopen_reason", ""))
        if not str(reason or "").strip():
            raise RuleViolation(
                "validation", "Reopening a closed case needs a reason (reopen_reason).", "reopen_reason"
            )


def _check_closing_kept(new: dict[str, Any], old: dict[str, Any]) -> None:
    """A worker's write to a closed case leaves its closing as the supervisor approved it: the outcome (the board's
    figures) and the closing day stay, and so does the note. Reopening (the documented path, with a reason) may clear
    them, nothing else (docs/security.md case 47)."""
    reopening = new.get("status") not in (None, "closed")
    for name in CLOSING_FIELDS:
        if name not in new or new[name] == old.get(name):
            continue
        if reopening and new[name] in (None, ""):
            continue
        raise RuleViolation("forbidden", CLOSING_BY_SUPERVISOR, name)


def check_visit_plan(
    principal: Principal, new: dict[str, Any], old: dict[str, Any] | None, supervisors: Collection[uuid.UUID]
) -> None:
    """A worker plans and moves their own visits (and those a colleague planned before a handover); a visit a
    supervisor planned stays the supervisor's to move or cancel. ``supervisors`` are the ids of the team's
    supervisors. Recording the outcome (done, not at home) is always the assigned worker's.
    """
    if old is None or principal.is_supervisor:
        return
    planner = old.get("planned_by")
    if planner is None or uuid.UUID(str(planner)) not in supervisors:
        return
    moved = [name for name in sorted(PLAN_FIELDS & new.keys()) if not _same_plan(name, new[name], old.get(name))]
    if new.get("status") == "cancelled" and old.get("status") != "cancelled":
        moved.append("status")
    if moved:
        raise RuleViolation(
            "forbidden", "This visit was planned by the supervisor; only they can move or cancel it.", moved[0]
        )


def _same_plan(name: str, new: Any, old: Any) -> bool:
    """Whether a plan field is unchanged in meaning: the same planned instant written in another UTC offset
    (``10:00+01:00`` and ``09:00Z``) is no move (docs/sync-protocol.md, "meaning, not spelling")."""
    if name == "planned_at" and isinstance(new, str) and isinstance(old, str):
        try:
            return _instant(new) == _instant(old)
        except ValueError:
            return new == old
    return bool(new == old)


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_writer_fields(principal: Principal, names: Collection[str], new: dict[str, Any]) -> dict[str, str]:
    """The fields that name a record's creator: given, they must name the writer; missing, they are filled in."""
    filled = {}
    for name in sorted(names):
        value = new.get(name)
        if value is not None and value != str(principal.user_id):
            raise RuleViolation("forbidden", f"{name} names the user who writes the record.", name)
        filled[name] = str(principal.user_id)
    return filled


GRACE_ONLY = (
    "The case was handed to a colleague; only notes, contacts, legal events, documents, a visit's outcome and "
    "assessment answers are accepted."
)


def check_grace_work(kind: str, *, creating: bool, named: Collection[str], status: str | None = None) -> None:
    """Refuse what is not work done at the door, for a case that left the writer's scope during the grace.

    Accepted: a new note, a new contact, a new legal event or document, a visit's outcome (only outcome fields, and
    the visit no longer planned, so that it cannot bring the case back into scope), assessment answers. Refused:
    deletes, resolves, new or re-assigned visits, and every other change. ``named`` are the fields the write sets,
    ``status`` a visit's status as it would be stored.
    """
    controlled = [name for name in CONTROLLED_FIELDS if name in named]
    # Written at the door: a note, a contact, and what the tenant showed there (a court letter as a legal event, its
    # photo as an attachment), so that a deadline is never silently lost to an unnoticed handover.
    if kind in ("note", "contact", "legal_event", "attachment") and creating:
        return
    if kind == "assessment":
        return
    if kind == "visit" and not creating:
        other = sorted(set(named) - VISIT_OUTCOME_FIELDS)
        if not other and status != "planned":
            return
        raise RuleViolation("forbidden", GRACE_ONLY, (controlled or other or ["status"])[0])
    raise RuleViolation("forbidden", GRACE_ONLY, next(iter(controlled or sorted(named)), None))


def grace_refusal() -> RuleViolation:
    """Deletes and resolves are never work done at the door: refused during the reassignment grace."""
    return RuleViolation("forbidden", GRACE_ONLY)


def within_reassignment_grace(moves: Sequence[ScopeMove], cursor_seq: int, now: dt.datetime) -> bool:
    """Whether a worker who synced up to ``cursor_seq`` may still write to a case that left their scope.

    True when the case was in their scope at that cursor and left it afterwards, less than the grace ago:
    the device did the work before it could know of the move. ``moves`` are the scope log's entries for this
    worker and case in ``seq`` order.
    """
    at_cursor = [move for move in moves if move.seq <= cursor_seq]
    left = [move for move in moves if move.seq > cursor_seq and not move.entered]
    return bool(at_cursor and at_cursor[-1].entered and left and now - left[-1].at <= REASSIGNMENT_GRACE)


def check_referral_consent(
    consent_kind: str | None,
    consent_case_id: uuid.UUID | None,
    consent_deleted: bool,
    consent_status: str | None,
    case_id: uuid.UUID,
    *,
    creating: bool,
    valid_until: dt.date | None = None,
    today: dt.date | None = None,
) -> None:
    """A referral needs the tenant's consent on file for its case; a new one needs a consent in force.

    The consent's clear metadata is enough (kind, case, deleted, status); pass Nones for a consent that does not
    exist. A referral made earlier keeps its history when the consent is withdrawn later (the app marks it).
    """
    if consent_kind != "consent" or consent_case_id != case_id or consent_deleted:
        raise RuleViolation(
            "validation", "A referral needs the tenant's consent on file for this case; record it first.", "consent_id"
        )
    if creating and consent_status == "withdrawn":
        raise RuleViolation(
            "validation",
            "The tenant has withdrawn this consent; a new referral needs a consent that is in force.",
            "consent_id",
        )
    if creating and valid_until is not None and today is not None and valid_until < today:
        raise RuleViolation(
            "validation",
            "This consent has expired; a new referral needs a consent that is in force.",
            "consent_id",
        )
