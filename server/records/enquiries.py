"""Anonymous enquiries and short counselling without a case (docs/domain.md "Anonymous enquiries"): a call or a
question at the office, counted by channel, topic, time and referral. Every field is a choice or a number, so no
name or story about a person can be written into one.

``PUT /api/enquiries/{id}`` records one; the id is chosen by the device, so an enquiry sent twice (a lost answer,
a retry after a reconnect) is recorded once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.models import Role
from server.auth.schemas import Principal
from server.db import begin_write, utcnow
from server.problems import Conflict, Forbidden, ValidationFailed
from server.records.models import Enquiry
from server.records.schemas import Channel

__all__ = ["REFERRALS", "TOPICS", "Enquiries", "EnquiryIn", "EnquiryOut", "ReferredTo", "Topic", "count_enquiries"]

Topic = Literal["rent_arrears", "notice_or_eviction", "benefits", "energy", "neighbours", "other"]
ReferredTo = Literal[
    "none", "debt_counselling", "jobcenter", "social_services", "housing_office", "legal_advice", "other"
]
TOPICS: tuple[str, ...] = get_args(Topic)
REFERRALS: tuple[str, ...] = get_args(ReferredTo)


class EnquiryIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    on: dt.date
    channel: Channel
    topic: Topic
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=600)] | None = None
    referred_to: ReferredTo = "none"


class EnquiryOut(EnquiryIn, kw_only=True):
    id: uuid.UUID
    team_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Enquiries:
    """Recording enquiries, for handlers through dependency injection."""

    sessions: async_sessionmaker[AsyncSession]

    async def record(self, principal: Principal, enquiry_id: uuid.UUID, data: EnquiryIn) -> tuple[EnquiryOut, bool]:
        """Record an enquiry for the caller's team: ``True`` when new, ``False`` when this id was recorded before
        with the same content (a retry); another content under that id is a conflict."""
        if principal.role not in (Role.WORKER, Role.SUPERVISOR) or principal.team_id is None:
            raise Forbidden("Enquiries are recorded by a team's members.")
        if data.on > utcnow().date() + dt.timedelta(days=1):  # a day's grace: it may be tomorrow east of UTC
            raise ValidationFailed("An enquiry cannot lie in the future.", field="on")
        wanted = EnquiryOut(id=enquiry_id, team_id=principal.team_id, **msgspec.structs.asdict(data))
        async with self.sessions() as db:
            await begin_write(db)
            row = await db.get(Enquiry, enquiry_id)
            if row is not None:
                if _out(row) != wanted:
                    raise Conflict("Another enquiry was recorded under this id.")
                return wanted, False
            db.add(Enquiry(**msgspec.structs.asdict(wanted), recorded_by=principal.user_id))
            await db.commit()
        return wanted, True


def _out(row: Enquiry) -> EnquiryOut:
    return EnquiryOut(
        id=row.id,
        team_id=row.team_id,
        on=row.on,
        channel=row.channel,  # type: ignore[arg-type]
        topic=row.topic,  # type: ignore[arg-type]
        duration_minutes=row.duration_minutes,
        referred_to=row.referred_to,  # type: ignore[arg-type]
    )


async def count_enquiries(
    db: AsyncSession, team_ids: list[uuid.UUID], start: dt.date, end: dt.date
) -> dict[str, dict[str, int]]:
    """The enquiries of ``team_ids`` on ``start``..``end``: by channel, by topic, by referral, and the total and the
    minutes recorded."""
    result: dict[str, dict[str, int]] = {"channel": {}, "topic": {}, "referred_to": {}}
    period = (Enquiry.team_id.in_(team_ids), Enquiry.on >= start, Enquiry.on <= end)
    for name in ("channel", "topic", "referred_to"):
        column = getattr(Enquiry, name)
        rows = (await db.execute(select(column, func.count()).where(*period).group_by(column))).all()
        result[name] = {str(value): int(n) for value, n in sorted(rows, key=lambda r: (-r[1], str(r[0])))}
    total, minutes = (await db.execute(select(func.count(), func.sum(Enquiry.duration_minutes)).where(*period))).one()
    result["total"] = {"enquiries": int(total), "minutes": int(minutes or 0)}
    return result
