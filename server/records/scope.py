"""Who may see which case: the scope rules of SYNC-PROTOCOL.md ("Records") and SECURITY.md part 3, in one place.

* a worker: the cases assigned to them, plus the cases with an open (``planned``) visit assigned to them;
* a supervisor: every case of their team;
* an administrator: nothing, unless also a supervisor.

Every read and write path asks :func:`scope_case_ids` or :func:`in_scope`; an out-of-scope case is reported
as not found, so a response never reveals that it exists.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Role
from server.auth.schemas import Principal
from server.records.models import Record

__all__ = ["case_team", "in_scope", "scope_case_ids"]


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


async def case_team(db: AsyncSession, case_id: uuid.UUID) -> uuid.UUID | None:
    """The team a case belongs to (clear column), or None if there is no such case."""
    return await db.scalar(select(Record.team_id).where(Record.id == case_id, Record.kind == "case"))
