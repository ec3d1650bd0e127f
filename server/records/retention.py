"""Storage limitation: a closed case is erased a set number of years after its closing (``retention_years``,
default three; docs/operations.md "Retention").

Which cases are due is read from clear columns only, so nothing is decrypted to find them. A closed case's clear
moment is when the server recorded the supervisor's approval of the closure (server/records/store.py), never the
closing day a tablet wrote: a closing day moved years back erases nothing early (docs/security.md case 47).
Erasing is the same crypto-shredding as ``doorstep erase-case``: the case's data key, blobs, attachments and
history are destroyed and the case leaves every scope, so tablets purge it at their next sync. Before that, what
the reports of past years count of the case is kept as an anonymous line (:class:`~server.records.models.RetiredCase`:
team, case type, trigger, opening, first contact and closing days, outcome; no id of the case, no name, no free
text), so the figures of those years stay as they were.

A month ahead (:data:`NOTICE_DAYS`) the supervisor sees the cases due (``GET /api/retention``). Housekeeping records
the day it first announced each (:class:`~server.records.models.RetentionNotice`) and erases a case no earlier than
a month after that day, even when its period ended before (a shortened period, a server that was down), so no case
is erased unannounced. It erases what is due, one process at a time, and audits each pass; ``doorstep retention
--dry-run`` lists it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.db import begin_write
from server.records import clock
from server.records.fields import day_start
from server.records.keyring import Keyring
from server.records.models import Record, RetentionNotice, RetiredCase, RetiredContacts
from server.records.scope import refresh_membership
from server.records.store import RecordStore

__all__ = ["NOTICE_DAYS", "Due", "announce", "due", "erase_on", "run_retention"]

NOTICE_DAYS = 30
BATCH = 200


@dataclass(frozen=True, slots=True)
class Due:
    """A closed case due for erasure: the day its closure was approved, and the day it is erased (its period's end,
    or a month after it was first announced, whichever is later)."""

    case_id: uuid.UUID
    team_id: uuid.UUID | None
    closed_on: dt.date
    erase_on: dt.date
    announced_on: dt.date | None


def erase_on(closed_on: dt.date, years: int) -> dt.date:
    """The day a case closed on ``closed_on`` is erased (29 February: 28 February of that year)."""
    year = closed_on.year + years
    try:
        return closed_on.replace(year=year)
    except ValueError:
        return closed_on.replace(year=year, day=28)


async def due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    years: int,
    today: dt.date,
    within_days: int = 0,
    team_id: uuid.UUID | None = None,
) -> list[Due]:
    """Closed cases to be erased by ``today`` + ``within_days`` (of one team, or all), oldest first. A case not
    announced yet is erased a month after ``today`` at the earliest (it is announced now)."""
    if years <= 0:
        return []
    horizon = today + dt.timedelta(days=within_days)
    # A generous bound in SQL (closed about ``years`` before the horizon); erase_on decides to the day below.
    bound = dt.date(horizon.year - years, horizon.month, min(horizon.day, 28)) + dt.timedelta(days=4)
    query = (
        select(Record.case_id, Record.team_id, Record.at, RetentionNotice.announced_on)
        .outerjoin(RetentionNotice, RetentionNotice.case_id == Record.case_id)
        .where(
            Record.kind == "case",
            Record.status == "closed",
            Record.deleted.is_(False),
            Record.at < day_start(bound),
        )
    )
    if team_id is not None:
        query = query.where(Record.team_id == team_id)
    async with sessions() as db:
        rows = (await db.execute(query.order_by(Record.at, Record.case_id))).all()
    found = []
    notice = dt.timedelta(days=NOTICE_DAYS)
    for case_id, team, at, announced_on in rows:
        if at is None:
            continue
        closed_on = at.date()
        when = erase_on(closed_on, years)
        if when > horizon:
            continue
        when = max(when, (announced_on or today) + notice)
        found.append(Due(case_id=case_id, team_id=team, closed_on=closed_on, erase_on=when, announced_on=announced_on))
    return found


async def announce(sessions: async_sessionmaker[AsyncSession], *, years: int, today: dt.date) -> int:
    """Record ``today`` as the announcement of every case due within the notice period and not announced yet;
    returns how many were announced now. A reopened case's announcement is dropped (it starts again when the case
    is closed again)."""
    pending = [d for d in await due(sessions, years=years, today=today, within_days=NOTICE_DAYS) if not d.announced_on]
    async with sessions() as db:
        await begin_write(db)
        stale = select(Record.case_id).where(
            Record.kind == "case", Record.status == "closed", Record.deleted.is_(False)
        )
        await db.execute(delete(RetentionNotice).where(RetentionNotice.case_id.not_in(stale)))
        db.add_all(RetentionNotice(case_id=d.case_id, announced_on=today) for d in pending)
        await db.commit()
    return len(pending)


async def run_retention(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, *, years: int, today: dt.date
) -> list[uuid.UUID]:
    """Announce what falls due within the notice period, then erase every closed case due by ``today`` that was
    announced at least :data:`NOTICE_DAYS` before, keeping its anonymous line for the reports; returns their ids."""
    erased: list[uuid.UUID] = []
    await announce(sessions, years=years, today=today)
    pending = [d for d in await due(sessions, years=years, today=today) if d.erase_on <= today]
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        async with sessions() as db:
            await begin_write(db)
            ids = [d.case_id for d in batch]
            await _keep_anonymous_lines(db, keyring, ids, today)
            for case_id in ids:
                await keyring.shred(db, case_id)
            organisation_of = await clock.organisation_of_cases(db, ids)
            for organisation in sorted(set(organisation_of.values())):
                theirs = [case_id for case_id in ids if organisation_of.get(case_id) == organisation]
                await refresh_membership(db, theirs, await clock.allocate(db, organisation))
                await audit.append(
                    db,
                    action="case.retention",
                    outcome="ok",
                    actor_id=None,
                    record_ids=theirs,
                    organisation=organisation,
                    key=keyring.audit,
                )
            await db.commit()
        erased += ids
    return erased


async def _keep_anonymous_lines(db: AsyncSession, keyring: Keyring, case_ids: list[uuid.UUID], today: dt.date) -> None:
    """One anonymous line per case, and its contacts counted per team, channel and hour."""
    store = RecordStore(db, keyring)
    cases = await store.select(Record.kind == "case", Record.case_id.in_(case_ids))
    team_of = {case.case_id: case.team_id for case in cases}
    contacts = (
        await db.execute(
            select(Record.case_id, Record.status, Record.at, Record.minutes, Record.reached, Record.incoming).where(
                Record.kind == "contact", Record.case_id.in_(case_ids), Record.deleted.is_(False)
            )
        )
    ).all()
    counted: dict[tuple[uuid.UUID | None, str, dt.datetime, bool, bool], list[int]] = {}
    for case_id, channel, at, minutes, reached, incoming in contacts:
        if at is None:
            continue
        hour = at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        key = (team_of.get(case_id), str(channel), hour, reached is not False, incoming is True)
        totals = counted.setdefault(key, [0, 0, 0])
        totals[0] += 1
        if minutes and minutes > 0:
            totals[1] += minutes
            totals[2] += 1
    for (team_id, channel, hour, reached, incoming), (n, total, timed) in counted.items():
        db.add(
            RetiredContacts(
                id=uuid.uuid4(),
                team_id=team_id,
                channel=channel,
                hour=hour,
                contacts=n,
                minutes=total,
                timed=timed,
                reached=reached,
                incoming=incoming,
            )
        )
    for case in await store.decrypt(cases):
        fields = case.fields
        if fields is None:
            continue
        db.add(
            RetiredCase(
                id=uuid.uuid4(),  # not the case's id: nothing links the line back to the case
                team_id=uuid.UUID(str(fields["team_id"])) if fields.get("team_id") else None,
                type=str(fields.get("type") or ""),
                trigger=fields.get("trigger"),
                opened_on=_day(fields.get("opened_on")),
                first_contact_on=_day(fields.get("first_contact_on")),
                closed_on=_day(fields.get("closed_on")),
                outcome=fields.get("outcome"),
                retired_on=today,
                statistics={name: fields[name] for name in STATISTICS if fields.get(name) is not None},
            )
        )


# The case's statistics an anonymous line keeps (coarse categories, no person): docs/domain.md "Statistics".
STATISTICS = (
    "age_group",
    "gender",
    "household_type",
    "children",
    "income_status",
    "nationality_group",
    "housing_at_start",
    "housing_at_end",
    "trigger_on",
    "declined_reason",
)


def _day(value: object) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(str(value)[:10])
