"""A referral's course as its referrer may see it: received, contact attempted, in counselling, closed; read from
the clear columns of its case and the case's contacts, never from their content."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.intake.fields import Stage
from server.intake.models import Referral
from server.records.models import Record

__all__ = ["stage_of", "stages"]

CONSULTING = ("phone", "in_person", "home_visit")


def stage_of(
    referral: Referral, case_status: str | None, contacts: Sequence[tuple[dt.datetime, bool, bool, str]]
) -> Stage:
    """The course a referrer may see: received (not yet taken on), contact attempted (the team tried), in
    counselling (the tenant was reached), closed (the case closed, or the referral declined). ``contacts`` are the
    case's ``(moment, reached, incoming, channel)`` since the referral."""
    if referral.status == "declined" or case_status == "closed":
        return "closed"
    if referral.status != "accepted":
        return "received"
    if any(reached and (incoming or channel in CONSULTING) for _, reached, incoming, channel in contacts):
        return "in_counselling"
    return "contact_attempted" if contacts else "received"


async def stages(db: AsyncSession, rows: Sequence[Referral]) -> dict[uuid.UUID, Stage]:
    """Each referral's course, from its case's clear status and the contacts since it was received."""
    case_ids = [row.case_id for row in rows if row.case_id is not None]
    statuses: dict[uuid.UUID, str | None] = {}
    contacts: dict[uuid.UUID, list[tuple[dt.datetime, bool, bool, str]]] = {}
    if case_ids:
        for case_id, status in (
            await db.execute(select(Record.id, Record.status).where(Record.id.in_(case_ids), Record.kind == "case"))
        ).all():
            statuses[case_id] = status
        found = select(Record.case_id, Record.at, Record.reached, Record.incoming, Record.status).where(
            Record.case_id.in_(case_ids), Record.kind == "contact", Record.deleted.is_(False)
        )
        for case_id, at, reached, incoming, channel in (await db.execute(found)).all():
            if at is not None:
                contacts.setdefault(case_id, []).append((at, reached is not False, incoming is True, str(channel)))
    stages: dict[uuid.UUID, Stage] = {}
    for row in rows:
        since = (
            [c for c in contacts.get(row.case_id, []) if _aware(c[0]) >= _aware(row.received_at)] if row.case_id else []
        )
        stages[row.id] = stage_of(row, statuses.get(row.case_id) if row.case_id else None, since)
    return stages


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
