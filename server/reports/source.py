"""What a report reads, read once: the cases of some teams with their history, and the records of the kinds the
figures count, decrypted in memory. The management's report reads every team over both its periods in one go and
counts each team, the total and the year before from it (:meth:`Source.of`), instead of reading the same rows
twelve times.

Contacts are counted by the database from their clear columns (channel, moment, duration): none is decrypted.
The other rows are narrowed by their clear columns before anything is decrypted: applications by their decision
and its date, agreements by their start, referrals by the day they were sent, actions by their due day. Only
mediations (whose sessions' days are inside the blob) are read whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.records import history
from server.records.history import ARREARS, Entry, is_case_state
from server.records.keyring import Keyring
from server.records.models import Record, RetiredCase
from server.records.standing import installment_state
from server.records.store import RecordStore
from server.reports.contacts import Contacts, cases_of, count_contacts
from server.reports.periods import Course, course, day_of
from server.reports.schema import CONSULTING_CHANNELS

__all__ = ["TOLD", "Reach", "Source", "load"]

# Kinds read with their fields, each narrowed by its clear moment (a date-only field is stored as midnight UTC, so
# a day's margin either side keeps every local day of the period).
FIELD_KINDS = ("benefit_application", "installment_agreement", "mediation", "referral", "action")
MARGIN = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Reach:
    """One contact of a case the team was told about (the outreach figure): when, how, whether it reached the
    tenant, and who got in touch."""

    at: dt.datetime
    channel: str
    reached: bool
    incoming: bool


@dataclass(frozen=True)
class Source:
    """Decrypted cases (those that decrypt), their team and history, the contacts in the read window counted by
    team, channel and day (and, for the anonymised case list, by case), and the other records by kind as
    ``(case id, fields)``."""

    zone: ZoneInfo
    cases: dict[uuid.UUID, dict[str, Any]]
    team_of: dict[uuid.UUID, uuid.UUID | None]
    histories: dict[uuid.UUID, list[Entry]]
    contacts: list[Contacts]
    records: dict[str, list[tuple[uuid.UUID, dict[str, Any]]]] = field(default_factory=dict)
    by_case: dict[uuid.UUID, Counter[str]] = field(default_factory=dict)  # channel counts, when asked for
    # Every contact, in order, of the cases the team was told about (a court's notice, a landlord's referral).
    reach: dict[uuid.UUID, list[Reach]] = field(default_factory=dict)
    # Each case's first contact that reached the tenant (a moment): a consultation, or the tenant getting in touch;
    # a letter the team sent reaches nobody by itself.
    first_reached: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    _courses: dict[uuid.UUID, Course] = field(default_factory=dict)
    _courses_until: dict[tuple[uuid.UUID, dt.datetime], Course] = field(default_factory=dict)
    _latest: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    _standing: dict[tuple[int, dt.date], str] = field(default_factory=dict)

    def course(self, case_id: uuid.UUID) -> Course:
        """The case's course as recorded up to now (computed once per read)."""
        known = self._courses.get(case_id)
        if known is None:
            known = self._courses[case_id] = course(self.histories.get(case_id, []), self.cases[case_id], self.zone)
        return known

    def course_until(self, case_id: uuid.UUID, until: dt.datetime) -> Course:
        """The case's course as it had been recorded before ``until``."""
        entries = self.histories.get(case_id, [])
        if entries:
            latest = self._latest.get(case_id)
            if latest is None:
                latest = self._latest[case_id] = max(e.recorded_at for e in entries)
            if latest < until:
                return self.course(case_id)
        key = (case_id, until)
        known = self._courses_until.get(key)
        if known is None:
            known = self._courses_until[key] = course(entries, self.cases[case_id], self.zone, until=until)
        return known

    def arrears(self, case_id: uuid.UUID) -> list[tuple[dt.datetime, int]]:
        """The rent arrears its assessment recorded, in the order recorded (entries that cleared the figure left
        out)."""
        entries = [e for e in self.histories.get(case_id, []) if not is_case_state(e.state)]
        entries.sort(key=lambda e: (e.recorded_at, e.seq))
        return [(e.recorded_at, int(e.state[ARREARS])) for e in entries if e.state.get(ARREARS) is not None]

    def standing(self, fields: dict[str, Any], on: dt.date) -> str:
        """An installment agreement's standing on ``on`` (computed once per read: the team's report and the
        total count the same agreements)."""
        key = (id(fields), on)
        known = self._standing.get(key)
        if known is None:
            known = self._standing[key] = installment_state(fields, on)
        return known

    def of(self, team_ids: Iterable[uuid.UUID]) -> Source:
        """The part that belongs to ``team_ids``' cases."""
        teams = set(team_ids)
        if teams >= {t for t in self.team_of.values() if t is not None}:
            return self
        keep = {case_id for case_id, team in self.team_of.items() if team in teams}
        return Source(
            zone=self.zone,
            cases={c: f for c, f in self.cases.items() if c in keep},
            team_of={c: t for c, t in self.team_of.items() if c in keep},
            histories={c: h for c, h in self.histories.items() if c in keep},
            contacts=[c for c in self.contacts if c.team_id in teams],
            records={kind: [r for r in rows if r[0] in keep] for kind, rows in self.records.items()},
            by_case={c: n for c, n in self.by_case.items() if c in keep},
            reach={c: r for c, r in self.reach.items() if c in keep},
            first_reached={c: at for c, at in self.first_reached.items() if c in keep},
            _courses=self._courses,
            _courses_until=self._courses_until,
            _latest=self._latest,
            _standing=self._standing,
        )

    def kind(self, name: str) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        return self.records.get(name, [])

    def first_contact(self, case_id: uuid.UUID) -> dt.date | None:
        """The case's first contact (Erstkontakt): the day recorded on the case, or the local day of its first
        contact that reached the tenant, whichever is earlier."""
        recorded = day_of(self.cases[case_id].get("first_contact_on"))
        reached = self.first_reached.get(case_id)
        days = [d for d in (recorded, reached and reached.astimezone(self.zone).date()) if d is not None]
        return min(days) if days else None


async def load(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    team_ids: list[uuid.UUID],
    since: dt.datetime,
    until: dt.datetime,
    zone: ZoneInfo,
    *,
    by_case: bool = False,
) -> Source:
    """Everything the reports of ``team_ids`` count for moments ``since``..``until`` (``until`` exclusive), days
    taken in ``zone``; ``by_case`` adds each case's contacts by channel (for the anonymised case list).

    The contacts are counted on a connection of their own while this one reads and decrypts: the database works
    while Python decrypts."""
    counting = asyncio.create_task(count_contacts(sessions, team_ids, since, until, zone, by_case=by_case))
    try:
        async with sessions() as db:
            store = RecordStore(db, keyring)
            read = await _read(db, store, team_ids, since, until)
    except BaseException:
        counting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await counting
        raise
    contacts, per_case = await counting
    cases, team_of, histories, records, reach, first_reached = read
    return Source(
        zone=zone,
        cases=cases,
        team_of=team_of,
        histories=histories,
        contacts=contacts,
        records=records,
        by_case=per_case,
        reach=reach,
        first_reached=first_reached,
    )


_Read = tuple[
    dict[uuid.UUID, dict[str, Any]],
    dict[uuid.UUID, uuid.UUID | None],
    dict[uuid.UUID, list[Entry]],
    dict[str, list[tuple[uuid.UUID, dict[str, Any]]]],
    dict[uuid.UUID, list[Reach]],
    dict[uuid.UUID, dt.datetime],
]

# The triggers by which the team is told about a household it has not heard from (the outreach figure).
TOLD = frozenset({"court_notice", "receivables"})


async def _read(
    db: AsyncSession, store: RecordStore, team_ids: list[uuid.UUID], since: dt.datetime, until: dt.datetime
) -> _Read:
    """The teams' cases, their history and the records of :data:`FIELD_KINDS`, decrypted."""
    columns = (Record.id, Record.kind, Record.case_id, Record.schema_version, Record.blob)
    case_rows = (
        (
            await (await db.connection()).execute(
                select(*columns, Record.team_id).where(
                    Record.kind == "case", Record.team_id.in_(team_ids), Record.deleted.is_(False)
                )
            )
        )
        .mappings()
        .all()
    )
    case_ids = [row["case_id"] for row in case_rows]
    cases: dict[uuid.UUID, dict[str, Any]] = {}
    for row, fields in zip(case_rows, await store.decrypt_fields(case_rows), strict=True):
        if fields is not None:
            cases[row["case_id"]] = fields
    team_of = {row["case_id"]: row["team_id"] for row in case_rows}
    histories = await history.read(db, await store.data_keys(case_ids), case_ids)
    # Cases erased at the end of their retention period count as their anonymous lines (no history, one
    # household each, not in the anonymised list).
    for line in (await db.scalars(select(RetiredCase).where(RetiredCase.team_id.in_(team_ids)))).all():
        cases[line.id] = {
            "type": line.type,
            "trigger": line.trigger,
            "status": "closed",
            "outcome": line.outcome,
            "opened_on": line.opened_on and line.opened_on.isoformat(),
            "first_contact_on": line.first_contact_on and line.first_contact_on.isoformat(),
            "closed_on": line.closed_on and line.closed_on.isoformat(),
            "retired": True,
            **(line.statistics or {}),
        }
        team_of[line.id] = line.team_id

    # The teams' cases as a subquery: thousands of bound ids cost more than the database's own lookup.
    live = and_(Record.case_id.in_(cases_of(team_ids)), Record.deleted.is_(False))
    early, late = since - MARGIN, until + MARGIN
    within = and_(Record.at >= early, Record.at < late)
    wanted = or_(
        and_(
            Record.kind == "benefit_application",
            Record.status.in_(("granted", "partly_granted")),
            or_(Record.at.is_(None), within),
        ),
        and_(Record.kind == "installment_agreement", or_(Record.at.is_(None), Record.at < late)),
        Record.kind == "mediation",
        and_(Record.kind.in_(("referral", "action")), within),
    )
    rows = (await (await db.connection()).execute(select(*columns).where(live, wanted))).mappings().all()
    records: dict[str, list[tuple[uuid.UUID, dict[str, Any]]]] = {kind: [] for kind in FIELD_KINDS}
    for row, fields in zip(rows, await store.decrypt_fields(rows), strict=True):
        if fields is not None:
            records[row["kind"]].append((row["case_id"], fields))
    told = [case_id for case_id, fields in cases.items() if fields.get("trigger") in TOLD and not fields.get("retired")]
    reach: dict[uuid.UUID, list[Reach]] = {}
    if told:
        contacts = await db.execute(
            select(Record.case_id, Record.at, Record.status, Record.reached, Record.incoming)
            .where(Record.kind == "contact", Record.case_id.in_(told), Record.deleted.is_(False))
            .order_by(Record.at)
        )
        for case_id, at, channel, reached, incoming in contacts.all():
            if at is not None:
                reach.setdefault(case_id, []).append(Reach(at, str(channel), reached is not False, incoming is True))
    first = await db.execute(
        select(Record.case_id, func.min(Record.at))
        .where(
            Record.kind == "contact",
            Record.case_id.in_(cases_of(team_ids)),
            Record.deleted.is_(False),
            Record.reached.is_not(False),
            or_(Record.status.in_(CONSULTING_CHANNELS), Record.incoming.is_(True)),
        )
        .group_by(Record.case_id)
    )
    first_reached = {case_id: _moment(at) for case_id, at in first.all() if at is not None}
    return cases, team_of, histories, records, reach, first_reached


def _moment(value: Any) -> dt.datetime:
    """A moment the database returns from an aggregate (SQLite: text, without its zone) as UTC."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
