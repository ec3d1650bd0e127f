"""The figures the board asks for (docs/domain.md), for one team and one period, computed from the records.

Everything goes through the scope rules (a supervisor reports on their own team) and every report read is
audited. Counting uses the clear columns where they suffice (a contact's channel and moment); amounts, dates
inside cases and mediation sessions are decrypted here, in memory, and never stored in clear.

Period: ``start`` to ``end``, both inclusive calendar days in the organisation's time zone (a contact at
00:30 on 1 January in Berlin belongs to the new year even though it is 23:30 UTC on 31 December).
"""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.auth.models import Role, Team
from server.auth.schemas import Principal
from server.db import begin_write, utcnow
from server.problems import Forbidden, ValidationFailed
from server.records.appointments import count_appointments
from server.records.calendar import region_of
from server.records.enquiries import count_enquiries
from server.records.keyring import Keyring
from server.records.schemas import CaseOutcome
from server.reports.counts import Counts, count
from server.reports.figures import sections
from server.reports.funder import funder_figures
from server.reports.periods import day_of
from server.reports.schema import (
    AVOIDED_OUTCOMES,
    BENEFIT_KINDS,
    CHANNELS,
    CONSULTING_CHANNELS,
    DEFINITIONS,
    INSTALLMENT_STATES,
    KEPT_OUTCOMES,
    OUTCOMES,
    OUTREACH,
    WRITTEN_CHANNELS,
    CaseLine,
    MoneyRow,
    MonthRow,
    Report,
)
from server.reports.source import Source, load
from server.reports.statistics import statistics_sections

__all__ = ["Report", "Reports", "Window", "audit_read", "compute", "tally", "team_report", "window_of"]

MAX_DAYS = 3 * 366
# Report periods are bounded, so date arithmetic in any time zone stays in range (docs/security.md case 36).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date
    zone: ZoneInfo

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)

    @property
    def until(self) -> dt.datetime:  # exclusive
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=self.zone).astimezone(dt.UTC)


def _months(window: Window) -> list[str]:
    months, year, month = [], window.start.year, window.start.month
    while (year, month) <= (window.end.year, window.end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


async def team_report(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    principal: Principal,
    *,
    start: dt.date,
    end: dt.date,
    time_zone: str,
    with_cases: bool = False,
    now: dt.datetime | None = None,
) -> Report:
    """The report of the caller's team for ``start``..``end``; a supervisor's only. The read is audited."""
    if principal.role is not Role.SUPERVISOR or principal.team_id is None:
        raise Forbidden("Reports are for team supervisors.")
    window = window_of(start, end, time_zone)
    async with sessions() as db:
        team_name = await db.scalar(select(Team.name).where(Team.id == principal.team_id)) or ""
        country = (await region_of(db, principal.organisation_id)).country
    report = await compute(
        sessions, keyring, [principal.team_id], principal.team_id, team_name, window, now, with_cases, country
    )
    await audit_read(sessions, keyring, principal, window)
    return report


def window_of(start: dt.date, end: dt.date, time_zone: str) -> Window:
    """The period ``start``..``end`` in ``time_zone``, checked: within 2000 to 2100, in order, three years at most."""
    for name, day in (("start", start), ("end", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationFailed("A report covers days from 2000 to 2100.", field=name)
    if end < start:
        raise ValidationFailed("The period ends before it starts.", field="end")
    if (end - start).days > MAX_DAYS:
        raise ValidationFailed("A report covers at most three years.", field="end")
    return Window(start, end, ZoneInfo(time_zone))


async def compute(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    team_ids: list[uuid.UUID],
    team_id: uuid.UUID | None,
    team_name: str,
    window: Window,
    now: dt.datetime | None = None,
    with_cases: bool = False,
    country: str = "DE",
) -> Report:
    """The figures of the cases of ``team_ids`` in ``window`` (not audited: the callers audit the read), in the
    words of ``country``."""
    source = await load(sessions, keyring, team_ids, window.since, window.until, window.zone, by_case=with_cases)
    async with sessions() as db:
        enquiries = await count_enquiries(db, team_ids, window.start, window.end)
        enquiries["appointments"] = await count_appointments(db, team_ids, window.since, window.until)
    return tally(source, enquiries, team_id, team_name, window, now or utcnow(), with_cases, country)


def tally(
    source: Source,
    enquiries: dict[str, dict[str, int]],
    team_id: uuid.UUID | None,
    team_name: str,
    window: Window,
    now: dt.datetime,
    with_cases: bool = False,
    country: str = "DE",
) -> Report:
    """The report of the cases in ``source`` for ``window``, counted in memory (``source`` may reach further)."""
    today = now.astimezone(window.zone).date()
    counts = count(source, window.start, window.end, window.until, today)
    return report_of(counts, enquiries, team_id, team_name, window, now, source if with_cases else None, country)


def report_of(
    counts: Counts,
    enquiries: dict[str, dict[str, int]],
    team_id: uuid.UUID | None,
    team_name: str,
    window: Window,
    now: dt.datetime,
    listed: Source | None = None,
    country: str = "DE",
) -> Report:
    """The report of ``counts`` (one team's, or several teams' added up); with the anonymised list of ``listed``'s
    cases when given."""
    c = counts
    closed_total = sum(c.outcomes.values())
    reached = closed_total - c.outcomes[CaseOutcome.NO_CONTACT]
    kept = sum(n for outcome, n in c.outcomes.items() if outcome in KEPT_OUTCOMES)
    avoided = sum(n for outcome, n in c.outcomes.items() if outcome in AVOIDED_OUTCOMES)
    months = [
        MonthRow(
            month=month,
            closed=c.closed_by_month[month],
            kept=c.kept_by_month[month],
            kept_rate=_share(c.kept_by_month[month], c.closed_by_month[month]),
            contacts=c.contacts_by_month[month],
        )
        for month in _months(window)
    ]
    money = c.money
    report = Report(
        team_id=team_id,
        team_name=team_name,
        start=window.start,
        end=window.end,
        generated_at=now,
        time_zone=window.zone.key,
        households_supported=len(c.households),
        cases_supported=c.supported,
        new_cases=c.new,
        closed_cases=closed_total,
        closed_reached=reached,
        corrections=c.corrections,
        outcomes={outcome: c.outcomes[outcome] for outcome in OUTCOMES},
        tenancy_kept=kept,
        homelessness_avoided=avoided,
        kept_rate=_share(kept, closed_total),
        kept_rate_reached=_share(kept, reached),
        avoided_rate=_share(avoided, closed_total),
        avoided_rate_reached=_share(avoided, reached),
        contacts={channel: c.contacts[channel] for channel in CHANNELS},
        contacts_total=sum(c.contacts.values()),
        consultations={channel: c.consultations[channel] for channel in CONSULTING_CHANNELS},
        attempts={channel: c.attempts[channel] for channel in CHANNELS},
        written={channel: c.written[channel] for channel in WRITTEN_CHANNELS},
        first_contacts=c.first_contacts,
        outreach={key: c.outreach[key] for key in OUTREACH},
        mediations_held=c.mediations_held,
        mediations_resolved=c.mediations_resolved,
        mediation_households=c.mediation_households,
        money=[
            MoneyRow(
                kind=kind,
                applications=money[kind]["applications"],
                grant_cents=money[kind]["grant"],
                loan_cents=money[kind]["loan"],
                unspecified_cents=money[kind]["unspecified"],
                monthly_cents=money[kind]["monthly"],
                monthly_total_cents=money[kind]["over_months"],
            )
            for kind in BENEFIT_KINDS
            if kind in money
        ],
        money_grant_cents=sum(entry["grant"] for entry in money.values()),
        money_loan_cents=sum(entry["loan"] for entry in money.values()),
        money_unspecified_cents=sum(entry["unspecified"] for entry in money.values()),
        money_monthly_cents=sum(entry["monthly"] for entry in money.values()),
        median_days_to_closure=float(statistics.median(c.days)) if c.days else None,
        installments={state: c.installments[state] for state in INSTALLMENT_STATES},
        months=months,
        funder=funder_figures(c, enquiries),
        definitions=DEFINITIONS,
        cases=_case_lines(listed, c) if listed is not None else [],
        country=country,
    )
    return msgspec.structs.replace(
        report,
        sections=sections(report),
        statistics=statistics_sections(c.statistics, c.trigger_days, country),
    )


def _case_lines(source: Source, counts: Counts) -> list[CaseLine]:
    """The anonymised list: one line per case, numbered in the order opened, with no name, address or free text."""
    lines: list[CaseLine] = []
    listed = [(case_id, fields) for case_id, fields in source.cases.items() if not fields.get("retired")]
    ordered = sorted(listed, key=lambda item: (str(item[1].get("opened_on") or ""), str(item[0])))
    for number, (case_id, fields) in enumerate(ordered, start=1):
        opened = day_of(fields.get("opened_on"))
        closed = day_of(fields.get("closed_on")) if fields.get("status") == "closed" else None
        began = day_of(fields.get("first_contact_on")) or opened
        channels = source.by_case.get(case_id, Counter())
        lines.append(
            CaseLine(
                number=number,
                type=str(fields["type"]),
                risk=str(fields["risk"]),
                phase=fields.get("phase"),
                status=str(fields["status"]),
                opened_month=opened.isoformat()[:7] if opened else None,
                closed_on=closed.isoformat() if closed else None,
                outcome=fields.get("outcome") if closed else None,
                days_to_closure=(closed - began).days if closed and began else None,
                contacts=sum(channels.values()),
                home_visits=channels["home_visit"],
                granted_cents=counts.granted_by_case[case_id],
            )
        )
    return lines


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


async def audit_read(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    principal: Principal,
    window: Window,
    what: str = "report.read",
) -> None:
    """Write ``<what>:<start>..<end>`` to the audit log (``report.read``, ``report.org`` for the organisation)."""
    async with sessions() as db:
        await begin_write(db)
        await audit.append(
            db,
            action=f"{what}:{window.start.isoformat()}..{window.end.isoformat()}",  # 40 characters at most
            outcome="allowed",
            actor_id=principal.user_id,
            device_id=principal.device_id,
            organisation=principal.organisation_id,
            key=keyring.audit,
        )
        await db.commit()


@dataclass(frozen=True, slots=True)
class Reports:
    """Reports for one app, as handlers receive them through dependency injection."""

    sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring
    time_zone: str

    async def team_report(
        self, principal: Principal, start: dt.date, end: dt.date, *, with_cases: bool = False
    ) -> Report:
        """The caller's team's report for ``start``..``end``; see :func:`team_report`."""
        return await team_report(
            self.sessions,
            self.keyring,
            principal,
            start=start,
            end=end,
            time_zone=self.time_zone,
            with_cases=with_cases,
        )
