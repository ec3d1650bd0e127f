"""Who may see which case: the scope rules of docs/sync-protocol.md ("Records") and docs/security.md part 3.

* a worker: the cases assigned to them, plus the cases with an open (``planned``) visit assigned to them;
* a supervisor: every case of their team;
* an administrator: nothing, unless also a supervisor.

Every read and write path asks :func:`scope_case_ids` or :func:`in_scope`; an out-of-scope case is reported
as not found, so a response never reveals that it exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, delete, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Role
from server.auth.schemas import Principal
from server.db import utcnow
from server.records.models import Record, ScopeEvent, ScopeMember
from server.records.rules import REASSIGNMENT_GRACE

__all__ = ["case_subjects", "in_scope", "may_send_file", "refresh_membership", "scope_case_ids", "subject_of"]


def scope_case_ids(principal: Principal) -> Select[uuid.UUID]:
    """A query of the ids of the live cases in ``principal``'s scope (usable as a subquery)."""
    live_cases = select(Record.id).where(Record.kind == "case", Record.deleted.is_(False))
    if principal.role is Role.SUPERVISOR and principal.team_id is not None:
        return live_cases.where(Record.team_id == principal.team_id)
    if principal.role is Role.WORKER:
        visits = select(Record.case_id).where(
            Record.kind == "visit",
            Record.deleted.is_(False),
            Record.status == "planned",
            Record.assigned_worker_id == principal.user_id,
        )
        return live_cases.where(or_(Record.assigned_worker_id == principal.user_id, Record.id.in_(visits)))
    return live_cases.where(false())


async def in_scope(db: AsyncSession, principal: Principal, case_id: uuid.UUID) -> bool:
    """Whether ``case_id`` is a live case in ``principal``'s scope."""
    query = scope_case_ids(principal).where(Record.id == case_id)
    return (await db.scalar(query)) is not None


async def case_subjects(db: AsyncSession, case_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """For each live case: the subjects whose scope holds it (assigned worker, workers of planned visits, team)."""
    ids = set(case_ids)
    result: dict[uuid.UUID, set[uuid.UUID]] = {case_id: set() for case_id in ids}
    if not ids:
        return result
    cases = (
        await db.execute(
            select(Record.id, Record.team_id, Record.assigned_worker_id).where(
                Record.kind == "case", Record.deleted.is_(False), Record.id.in_(ids)
            )
        )
    ).all()
    live = set()
    for case_id, team_id, worker_id in cases:
        live.add(case_id)
        result[case_id].update(s for s in (team_id, worker_id) if s is not None)
    visits = (
        await db.execute(
            select(Record.case_id, Record.assigned_worker_id).where(
                Record.kind == "visit",
                Record.deleted.is_(False),
                Record.status == "planned",
                Record.assigned_worker_id.is_not(None),
                Record.case_id.in_(live),
            )
        )
    ).all()
    for case_id, worker_id in visits:
        if worker_id is not None:
            result[case_id].add(worker_id)
    return result


async def may_send_file(db: AsyncSession, principal: Principal, case_id: uuid.UUID, attachment_id: uuid.UUID) -> bool:
    """Whether ``principal`` may send the bytes of an attachment of ``case_id``: in scope, or, within rule 7's grace
    after the case left their scope, for an attachment record they wrote themselves (a photo taken at the door
    before the tablet heard of the handover), so that the record never waits for a file nobody can send."""
    if await in_scope(db, principal, case_id):
        return True
    record = await db.get(Record, attachment_id)
    if record is None or record.kind != "attachment" or record.case_id != case_id or record.deleted:
        return False
    if record.created_by != principal.user_id or principal.role is not Role.WORKER:
        return False
    left = await db.scalar(
        select(ScopeEvent.at)
        .where(ScopeEvent.subject == principal.user_id, ScopeEvent.case_id == case_id, ScopeEvent.entered.is_(False))
        .order_by(ScopeEvent.seq.desc())
        .limit(1)
    )
    return left is not None and utcnow() - left <= REASSIGNMENT_GRACE


async def refresh_membership(db: AsyncSession, case_ids: Iterable[uuid.UUID], seq: int) -> list[ScopeEvent]:
    """Bring ``scope_members`` up to date for ``case_ids`` after a write at ``seq``; returns the changes.

    Runs in the writer's transaction (after a flush), so membership and records commit together.
    """
    ids = set(case_ids)
    if not ids:
        return []
    await db.flush()
    wanted = await case_subjects(db, ids)
    current: dict[uuid.UUID, set[uuid.UUID]] = {case_id: set() for case_id in ids}
    for subject, case_id in (
        await db.execute(select(ScopeMember.subject, ScopeMember.case_id).where(ScopeMember.case_id.in_(ids)))
    ).all():
        current[case_id].add(subject)
    events = []
    for case_id in ids:
        for subject in wanted[case_id] - current[case_id]:
            db.add(ScopeMember(subject=subject, case_id=case_id, entered_seq=seq))
            events.append(ScopeEvent(subject=subject, case_id=case_id, seq=seq, entered=True))
        left = current[case_id] - wanted[case_id]
        if left:
            await db.execute(delete(ScopeMember).where(ScopeMember.case_id == case_id, ScopeMember.subject.in_(left)))
            events.extend(ScopeEvent(subject=s, case_id=case_id, seq=seq, entered=False) for s in left)
    db.add_all(events)
    return events


def subject_of(principal: Principal) -> uuid.UUID | None:
    """The scope subject a principal pulls as: their user id (worker) or their team id (supervisor)."""
    if principal.role is Role.SUPERVISOR:
        return principal.team_id
    if principal.role is Role.WORKER:
        return principal.user_id
    return None
