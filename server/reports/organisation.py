"""The organisation's figures for its management (Leitung): every team and the total, each with the same period of
the year before beside it. Figures only: the management never reads a case (the case, sync and attachment routes
refuse the role)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.models import Organisation, Role, Team
from server.auth.schemas import Principal
from server.db import utcnow
from server.problems import Forbidden
from server.records.appointments import count_appointments
from server.records.calendar import region_of
from server.records.enquiries import count_enquiries
from server.records.keyring import Keyring
from server.reports.counts import Counts, count
from server.reports.schema import Report, Section
from server.reports.service import Window, audit_read, report_of, window_of
from server.reports.source import load

__all__ = ["OrganisationReport", "TeamFigures", "organisation_report"]


class TeamFigures(msgspec.Struct, kw_only=True, frozen=True):
    """One team's (or the whole organisation's) report, its lines carrying the year before's values."""

    team_id: uuid.UUID | None
    name: str
    report: Report


class OrganisationReport(msgspec.Struct, kw_only=True, frozen=True):
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    generated_at: dt.datetime
    total: TeamFigures
    teams: list[TeamFigures]


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (29 February: the 28th)."""
    return day.replace(year=day.year - 1, day=min(day.day, 28) if (day.month, day.day) == (2, 29) else day.day)


def beside(current: list[Section], previous: list[Section]) -> list[Section]:
    """``current`` with each line's value of the year before (the line with the same section and key) as
    ``previous``."""
    before = {(s.key, f.key): f.text for s in previous for f in s.figures}
    return [
        msgspec.structs.replace(
            s, figures=[msgspec.structs.replace(f, previous=before.get((s.key, f.key), "–")) for f in s.figures]
        )
        for s in current
    ]


async def organisation_report(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    principal: Principal,
    *,
    start: dt.date,
    end: dt.date,
    time_zone: str,
) -> OrganisationReport:
    """Every team of the caller's organisation and the total, for ``start``..``end`` and the year before; a
    manager's only. The read is audited."""
    if principal.role is not Role.MANAGER or principal.team_id is None:
        raise Forbidden("This is for the organisation's management.")
    window = window_of(start, end, time_zone)
    previous = Window(year_before(start), year_before(end), window.zone)
    async with sessions() as db:
        organisation_id = await db.scalar(select(Team.organisation_id).where(Team.id == principal.team_id))
        name = await db.scalar(select(Organisation.name).where(Organisation.id == organisation_id)) or ""
        country = (await region_of(db, organisation_id)).country
        teams = (
            await db.execute(
                select(Team.id, Team.name).where(Team.organisation_id == organisation_id).order_by(Team.name)
            )
        ).all()
    now = utcnow()
    team_ids = [team_id for team_id, _ in teams]
    # One read for every team and both periods; each team, the total and the year before are counted from it.
    source = await load(sessions, keyring, team_ids, previous.since, window.until, window.zone)
    async with sessions() as db:
        asked = {
            (tuple(ids), period.start): await count_enquiries(db, ids, period.start, period.end)
            | {"appointments": await count_appointments(db, ids, period.since, period.until)}
            for ids in [team_ids, *([t] for t in team_ids)]
            for period in (window, previous)
        }

    today = now.astimezone(window.zone).date()
    counted: dict[tuple[uuid.UUID, dt.date], Counts] = {}
    for team_id in team_ids:
        part = source.of([team_id])
        for period in (window, previous):
            counted[(team_id, period.start)] = count(part, period.start, period.end, period.until, today)

    def counts_of(ids: list[uuid.UUID], period: Window) -> Counts:
        if len(ids) == 1:
            return counted[(ids[0], period.start)]
        total = Counts()  # the total is the sum of the teams' counts: no second pass over every case
        for team_id in ids:
            total.add(counted[(team_id, period.start)])
        return total

    def figures(ids: list[uuid.UUID], team_id: uuid.UUID | None, label: str) -> TeamFigures:
        current, before = (
            report_of(
                counts_of(ids, period), asked[(tuple(ids), period.start)], team_id, label, period, now, None, country
            )
            for period in (window, previous)
        )
        report = msgspec.structs.replace(current, sections=beside(current.sections, before.sections))
        return TeamFigures(team_id=team_id, name=label, report=report)

    result = OrganisationReport(
        start=start,
        end=end,
        previous_start=previous.start,
        previous_end=previous.end,
        generated_at=now,
        teams=[figures([team_id], team_id, team_name) for team_id, team_name in teams],
        total=figures(team_ids, None, f"Gesamt: {name}" if name else "Gesamt"),
    )
    await audit_read(sessions, keyring, principal, window, what="report.org")
    return result
