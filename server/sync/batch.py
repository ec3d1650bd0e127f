"""One write transaction of sync: its state, the per-mutation rejection, and the scope question.

A push batch and an office resolve both run as a :class:`Batch`: the rows the transaction has read or written,
the ``seq`` numbers it hands out, what it must audit and which push messages it queues. Before a mutation
touches a case, :func:`authorise` answers whether the case is in the writer's scope, in scope only through the
reassignment grace (the record gets a flag), or not at all (``not-found``, exactly as for an unknown case).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Role
from server.auth.schemas import Principal
from server.db import utcnow
from server.db.engine import among_bound
from server.push import VISIT_ASSIGNED
from server.records import rules
from server.records.models import CaseKey, ScopeEvent, ScopeMember
from server.records.rules import RuleViolation
from server.records.scope import subject_of
from server.records.store import RECORDS, RecordRow, RecordStore
from server.sync.messages import ErrorCode, MutationError, MutationResult

__all__ = ["SCOPE_KINDS", "Batch", "Rejected", "authorise", "case_team", "in_scope", "read_named"]

# Kinds whose changes can move a case in or out of someone's scope (assignee, team, planned visits).
SCOPE_KINDS = frozenset({"case", "visit"})


class Rejected(Exception):
    """The mutation cannot apply; ``error`` is what the device is told."""

    def __init__(self, code: ErrorCode, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.error = MutationError(code=code, detail=detail, field=field)

    @classmethod
    def from_rule(cls, violation: RuleViolation) -> Rejected:
        """A broken domain rule, as the per-mutation rejection sync answers with."""
        return cls(violation.code, violation.detail, violation.field)


@dataclass
class Batch:
    """State of one write transaction: a push batch, or an office resolve."""

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
    # The supervisors of the writer's team: a visit one of them planned is theirs to move.
    supervisors: set[uuid.UUID] = field(default_factory=set)
    # Cases this batch created: in the creator's scope at once, though membership is refreshed at the end.
    created_cases: set[uuid.UUID] = field(default_factory=set)
    # Scope answers, looked up once per case and batch: in scope (None), accepted with a flag, or refused ("").
    scope_answers: dict[uuid.UUID, str | None] = field(default_factory=dict)
    # First results of the mutations processed now, in mid order, stored as one row at the end.
    log: list[MutationResult] = field(default_factory=list)
    # Push messages this batch calls for: (user, event, id), queued in the same transaction.
    notices: list[tuple[uuid.UUID, str, uuid.UUID]] = field(default_factory=list)
    # The device's puts applied in this batch (replays included): record id -> (base, fields named, new version).
    # A later put of the same record from the same base that names only those fields is the worker's own next
    # edit and continues from that version (see :meth:`chained_base`).
    own_puts: dict[uuid.UUID, tuple[int | None, frozenset[str], int]] = field(default_factory=dict)
    # Households written in this batch (record id -> case id, fields): their duplicate-check tokens are renewed.
    households: dict[uuid.UUID, tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=dict)

    def chained_base(self, record_id: uuid.UUID, base: int | None, names: Iterable[str]) -> int | None:
        """The base a put should merge from: the version of this device's own earlier put in the batch, if the
        put continues it (same base, no other fields), else its own base."""
        earlier = self.own_puts.get(record_id)
        if earlier is not None and earlier[0] == base and set(names) <= earlier[1]:
            return earlier[2]
        return base

    def remember_put(self, record_id: uuid.UUID, base: int | None, names: Iterable[str], version: int) -> None:
        """Note an applied put of this device, for :meth:`chained_base`."""
        self.own_puts[record_id] = (base, frozenset(names), version)

    def notice_visit(self, visit_id: uuid.UUID, fields: dict[str, Any]) -> None:
        """A planned visit assigned (or rescheduled) for someone other than the writer: tell their devices."""
        assignee = fields.get("assigned_worker_id")
        if fields.get("status") == "planned" and assignee and str(assignee) != str(self.principal.user_id):
            self.notices.append((uuid.UUID(str(assignee)), VISIT_ASSIGNED, visit_id))

    def next_seq(self) -> int:
        """The next sequence number of this transaction."""
        self.seq += 1
        return self.seq

    def touch(self, case_id: uuid.UUID, record_id: uuid.UUID, kind: str) -> None:
        """Note a written record: it is audited, and a case or visit may change who has the case in scope."""
        self.audit_records.setdefault(case_id, set()).add(record_id)
        if kind in SCOPE_KINDS:
            self.scope_changes.add(case_id)


async def authorise(batch: Batch, case_id: uuid.UUID, *, creating_case: bool = False) -> str | None:
    """Check the case is in scope; returns the flag for work accepted after a reassignment (rule 7)."""
    if creating_case or case_id in batch.created_cases:
        return None
    if case_id not in batch.scope_answers:
        batch.scope_answers[case_id] = await _scope_answer(batch, case_id)
    answer = batch.scope_answers[case_id]
    if answer == "":
        raise Rejected("not-found", "No such case.")
    return answer


async def read_named(store: RecordStore, ids: set[uuid.UUID]) -> dict[uuid.UUID, RecordRow]:
    """The rows of ``ids`` for a write, with the data key of each case among them in the same query (handed to
    the store).

    A push reads them while it holds its organisation's clock: one round trip there instead of two (alone, this
    measured no faster; docs/benchmarks.md). ``store`` is the transaction's new store, which has read nothing yet.
    """
    statement = _named_for_write(store.db.get_bind().dialect.name)
    connection = await store.db.connection()
    found = (await connection.execute(statement, {"ids": list(ids)})).mappings().all()
    store.hold_keys(
        (m["id"], m["key_dek_id"], m["key_wrapped"], m["key_kek_version"]) for m in found if m["key_dek_id"]
    )
    return {row.id: row for row in store.adopt(found)}


async def in_scope(
    db: AsyncSession, subjects: set[uuid.UUID], case_ids: set[uuid.UUID]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Which of ``case_ids`` each of ``subjects`` has in scope, as (subject, case) pairs: one query for the pushes
    of one transaction."""
    if not subjects or not case_ids:
        return set()
    statement = _members_among(db.get_bind().dialect.name)
    found = await (await db.connection()).execute(statement, {"subjects": list(subjects), "cases": list(case_ids)})
    return {(subject, case_id) for subject, case_id in found.all()}


@functools.cache
def _members_among(dialect: str) -> Select[uuid.UUID, uuid.UUID]:
    """The (subject, case) pairs of ``:subjects`` and ``:cases`` in scope: built once, as every push asks it."""
    return select(ScopeMember.subject, ScopeMember.case_id).where(
        among_bound(ScopeMember.subject, "subjects", dialect), among_bound(ScopeMember.case_id, "cases", dialect)
    )


@functools.cache
def _named_for_write(dialect: str) -> Select[Any]:
    """Rows of ``:ids`` with a case's data key: built once, as every push asks it. Only a case's own row has the
    case's id, so other rows find none."""
    keys = cast("Table", CaseKey.__table__)
    return (
        select(
            RECORDS,
            keys.c.dek_id.label("key_dek_id"),
            keys.c.wrapped.label("key_wrapped"),
            keys.c.kek_version.label("key_kek_version"),
        )
        .select_from(RECORDS.outerjoin(keys, keys.c.case_id == RECORDS.c.id))
        .where(among_bound(RECORDS.c.id, "ids", dialect))
    )


async def _scope_answer(batch: Batch, case_id: uuid.UUID) -> str | None:
    db, principal = batch.db, batch.principal
    subject = subject_of(principal)
    if subject is None:
        return ""
    if await db.get(ScopeMember, (subject, case_id)) is not None:
        return None
    case = batch.rows.get(case_id) or (await batch.store.rows([case_id])).get(case_id)
    if case is None or case.deleted:
        # Deleted or erased: no grace keeps work on it; the tablet hears "not found", as for any unknown case, and
        # stops waiting (docs/sync-protocol.md rule 7).
        return ""
    if principal.role is Role.WORKER and batch.cursor_seq is not None:
        moves = (
            await db.execute(
                select(ScopeEvent.seq, ScopeEvent.entered, ScopeEvent.at)
                .where(ScopeEvent.subject == subject, ScopeEvent.case_id == case_id)
                .order_by(ScopeEvent.seq)
            )
        ).all()
        if rules.within_reassignment_grace(moves, batch.cursor_seq, utcnow()):
            return rules.FLAG_REASSIGNED
    return ""


async def case_team(batch: Batch, case_id: uuid.UUID) -> uuid.UUID | None:
    """The team of the case (None for an unknown id or a record that is no case), kept in the batch."""
    row = batch.rows.get(case_id)
    if row is None:
        row = (await batch.store.rows([case_id])).get(case_id)
        if row is not None:
            batch.rows[case_id] = row
    return None if row is None or row.kind != "case" else row.team_id
