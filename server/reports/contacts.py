"""The contacts a report counts, counted by the database from their clear columns (channel, moment, duration,
reach): per team, channel, reach and local day, never decrypted. Contacts of erased cases count from their anonymous
hourly lines."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy import case as case_when
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from server.records.models import Record, RetiredContacts

__all__ = ["Contacts", "cases_of", "count_contacts"]


@dataclass(frozen=True, slots=True)
class Contacts:
    """The contacts of one team on one local day by one channel and reach, counted in the database."""

    team_id: uuid.UUID | None
    channel: str
    day: dt.date  # in the report's time zone
    contacts: int
    minutes: int  # the durations recorded
    timed: int  # contacts with a duration
    reached: bool = True  # the tenant was reached (else an attempt)
    incoming: bool = False  # the tenant got in touch (else the team did)


async def count_contacts(
    sessions: async_sessionmaker[AsyncSession],
    team_ids: list[uuid.UUID],
    since: dt.datetime,
    until: dt.datetime,
    zone: ZoneInfo,
    *,
    by_case: bool,
) -> tuple[list[Contacts], dict[uuid.UUID, Counter[str]]]:
    """Contacts of ``team_ids``' live cases in ``since``..``until``, counted by the database per team, channel and
    UTC hour (an hour lies within one local day in every zone with whole-hour offsets), then added up per local
    day here; with ``by_case``, also per case and channel. Nothing is decrypted: channel, moment and duration are
    clear columns."""
    async with sessions() as db:
        postgres = (await db.connection()).dialect.name == "postgresql"
        rows = (await db.execute(_contacts_query(team_ids, since, until, postgres=postgres))).all()
        retired = (
            await db.execute(
                select(
                    RetiredContacts.team_id,
                    RetiredContacts.channel,
                    RetiredContacts.hour,
                    RetiredContacts.contacts,
                    RetiredContacts.minutes,
                    RetiredContacts.timed,
                    RetiredContacts.reached,
                    RetiredContacts.incoming,
                ).where(
                    RetiredContacts.team_id.in_(team_ids), RetiredContacts.hour >= since, RetiredContacts.hour < until
                )
            )
        ).all()
        per_case: dict[uuid.UUID, Counter[str]] = {}
        if by_case:
            query = (
                select(Record.case_id, Record.status, func.count())
                .where(
                    Record.case_id.in_(cases_of(team_ids)),
                    Record.deleted.is_(False),
                    Record.kind == "contact",
                    Record.at >= since,
                    Record.at < until,
                )
                .group_by(Record.case_id, Record.status)
            )
            for case_id, channel, n in (await db.execute(query)).all():
                per_case.setdefault(case_id, Counter())[str(channel)] += int(n)
    days: dict[tuple[uuid.UUID | None, str, dt.date, bool, bool], list[int]] = {}
    hours = [(team, channel, _hour(at_hour), n, m, t, r, i) for team, channel, at_hour, n, m, t, r, i in rows]
    for team_id, channel, moment, n, minutes, with_minutes, reached, incoming in [*hours, *retired]:
        day = moment.astimezone(zone).date()
        totals = days.setdefault((team_id, str(channel), day, reached is not False, incoming is True), [0, 0, 0])
        totals[0] += int(n)
        totals[1] += int(minutes or 0)
        totals[2] += int(with_minutes or 0)
    counted = [
        Contacts(
            team_id=team,
            channel=channel,
            day=day,
            contacts=n,
            minutes=minutes,
            timed=timed_n,
            reached=reached,
            incoming=incoming,
        )
        for (team, channel, day, reached, incoming), (n, minutes, timed_n) in days.items()
    ]
    return counted, per_case


def _hour(text: object) -> dt.datetime:
    """The database's "YYYY-MM-DD HH" as that hour in UTC."""
    value = str(text)
    return dt.datetime(int(value[:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), tzinfo=dt.UTC)


def _contacts_query(team_ids: list[uuid.UUID], since: dt.datetime, until: dt.datetime, *, postgres: bool) -> Any:
    contact, case = aliased(Record), aliased(Record)
    hour = (
        func.to_char(func.timezone("UTC", contact.at), "YYYY-MM-DD HH24")
        if postgres
        else func.strftime("%Y-%m-%d %H", contact.at)
    )
    timed = case_when((contact.minutes > 0, 1), else_=0)
    query = (
        select(
            case.team_id,
            contact.status,
            hour,
            func.count(),
            func.sum(case_when((contact.minutes > 0, contact.minutes), else_=0)),
            func.sum(timed),
            contact.reached,
            contact.incoming,
        )
        .join(case, and_(case.id == contact.case_id, case.kind == "case"))
        .where(
            contact.kind == "contact",
            contact.deleted.is_(False),
            contact.at >= since,
            contact.at < until,
            case.team_id.in_(team_ids),
            case.deleted.is_(False),
        )
        .group_by(case.team_id, contact.status, hour, contact.reached, contact.incoming)
    )
    return query


def cases_of(team_ids: list[uuid.UUID]) -> Any:
    """The teams' cases as a subquery: thousands of bound ids cost more than the database's own lookup."""
    return select(Record.case_id).where(Record.kind == "case", Record.team_id.in_(team_ids)).scalar_subquery()
