"""Office reads of case data: the case list with filters and the case detail, scoped and audited."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.audit import AuditEntry
from server.auth.models import Organisation
from server.auth.schemas import Principal
from server.db import begin_write, utcnow
from server.problems import NotFound, RateLimited
from server.records import blind, deadlines, entitlement, search
from server.records.calendar import Calendar, CalendarOut, Region, region_of
from server.records.deadlines import DeadlineOut
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.scope import in_scope, scope_case_ids
from server.records.store import RecordStore, StoredRecord

_BERLIN = ZoneInfo("Europe/Berlin")

__all__ = [
    "CaseDetail",
    "CaseFilters",
    "CaseReads",
    "CaseSummary",
    "DuplicateAnswer",
    "DuplicateMatch",
    "DuplicateQuery",
    "RecordOut",
    "case_detail",
    "list_cases",
]


class RecordOut(msgspec.Struct, kw_only=True, frozen=True):
    """A record as clients receive it (the same shape as a pulled change)."""

    kind: str
    id: uuid.UUID
    case_id: uuid.UUID
    version: int
    deleted: bool
    fields: dict[str, Any] | None
    flag: str | None = None

    @classmethod
    def of(cls, record: StoredRecord) -> RecordOut:
        """Build from a decrypted record."""
        return cls(
            kind=record.kind,
            id=record.id,
            case_id=record.case_id,
            version=record.version,
            deleted=record.deleted,
            fields=None if record.deleted else record.fields,
            flag=record.flag,
        )


class CaseSummary(msgspec.Struct, kw_only=True, frozen=True):
    """One row of the case list."""

    id: uuid.UUID
    version: int
    title: str
    type: str
    status: str
    risk: str
    assigned_worker_id: uuid.UUID | None
    next_visit_at: dt.datetime | None
    overdue_visits: int


class CaseDetail(msgspec.Struct, kw_only=True, frozen=True):
    """A case with every live record that belongs to it, and the deadlines that follow from them."""

    case: RecordOut
    records: list[RecordOut]
    # The legal deadlines of the case (docs/legal.md), by due date; ``done`` when its generated action is done.
    deadlines: list[DeadlineOut] = msgspec.field(default_factory=list)
    # Records whose stored ciphertext failed its integrity check: left out of ``records`` (and the case's fields
    # are null when the case record itself is damaged) until an administrator restores them.
    damaged: list[uuid.UUID] = msgspec.field(default_factory=list)


class CaseFilters(msgspec.Struct, kw_only=True, frozen=True):
    """Filters of the case list; all optional. ``q`` searches names, address, phone and court references; it
    arrives in a POST body only (``POST /api/cases/search``), never in a URL that a log or a proxy could keep."""

    status: Literal["open", "closing_requested", "closed"] | None = None
    risk: Literal["low", "medium", "high", "acute"] | None = None
    overdue: bool | None = None
    q: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class DuplicateQuery(msgspec.Struct, kw_only=True):
    """``POST /api/cases/duplicates``: the address and tenants' names typed at intake."""

    street: Annotated[str, msgspec.Meta(max_length=200)] = ""
    house_number: Annotated[str, msgspec.Meta(max_length=20)] = ""
    postcode: Annotated[str, msgspec.Meta(max_length=10)] = ""
    names: Annotated[list[Annotated[str, msgspec.Meta(max_length=200)]], msgspec.Meta(max_length=30)] = msgspec.field(
        default_factory=list
    )


class DuplicateMatch(msgspec.Struct, kw_only=True, frozen=True):
    """An open case of the caller's team that may be the same household: who is responsible, and why it
    matched. ``case_id`` only when the case is in the caller's own scope."""

    reason: Literal["address", "tenant"]
    responsible_id: uuid.UUID | None
    case_id: uuid.UUID | None = None


class DuplicateAnswer(msgspec.Struct, kw_only=True, frozen=True):
    """The possible duplicates; empty when there are none."""

    matches: list[DuplicateMatch]


async def list_cases(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, principal: Principal, filters: CaseFilters
) -> list[CaseSummary]:
    """The caller's cases, newest change first, with their next and overdue visits; audited as one read.

    ``filters.q`` is matched against the decrypted household and court references (:mod:`server.records.search`).
    """
    now = utcnow()
    async with sessions() as db:
        await begin_write(db)
        store = RecordStore(db, keyring)
        scope = scope_case_ids(principal).subquery()
        conditions: list[ColumnElement[bool]] = [Record.id.in_(select(scope.c.id))]
        if filters.status is not None:
            conditions.append(Record.status == filters.status)
        rows = await store.select(*conditions, order_by=Record.version.desc())
        visits = (
            await db.execute(
                select(Record.case_id, Record.at)
                .where(
                    Record.kind == "visit",
                    Record.deleted.is_(False),
                    Record.status == "planned",
                    Record.case_id.in_([r.id for r in rows]),
                )
                .order_by(Record.at)
            )
        ).all()
        next_visit: dict[uuid.UUID, dt.datetime] = {}
        overdue: dict[uuid.UUID, int] = {}
        for case_id, at in visits:
            if at is None:
                continue
            if at < now:
                overdue[case_id] = overdue.get(case_id, 0) + 1
            else:
                next_visit.setdefault(case_id, at)
        confirmed, mismatched = await entitlement.confirmed(db, keyring, principal, [r.id for r in rows])
        await entitlement.audit_mismatches(db, keyring, principal, mismatched)
        rows = [r for r in rows if r.id in confirmed]
        found = None if not filters.q else await search.matching(store, [r.id for r in rows], filters.q)
        summaries = []
        for record in await store.decrypt(rows):
            if found is not None and record.id not in found:
                continue
            if record.id in store.damaged:
                continue  # reported by the case's detail and the log
            fields = record.fields or {}
            summary = CaseSummary(
                id=record.id,
                version=record.version,
                title=str(fields.get("title", "")),
                type=str(fields.get("type", "")),
                status=str(fields.get("status", "")),
                risk=str(fields.get("risk", "")),
                assigned_worker_id=_uuid_or_none(fields.get("assigned_worker_id")),
                next_visit_at=next_visit.get(record.id),
                overdue_visits=overdue.get(record.id, 0),
            )
            if filters.risk is not None and summary.risk != filters.risk:
                continue
            if filters.overdue is not None and (summary.overdue_visits > 0) != filters.overdue:
                continue
            summaries.append(summary)
        await audit.append(
            db,
            action="case.list",
            outcome="ok",
            actor_id=principal.user_id,
            device_id=principal.device_id,
            record_ids=[s.id for s in summaries],
            organisation=principal.organisation_id,
            key=keyring.audit,
        )
        await db.commit()
    return summaries


def _uuid_or_none(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


async def case_detail(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    principal: Principal,
    case_id: uuid.UUID,
    zone: ZoneInfo = _BERLIN,
) -> CaseDetail:
    """The case and its live records, decrypted, with its deadlines. Out of scope is ``404`` and is audited as a
    denial."""
    async with sessions() as db:
        await begin_write(db)
        region = await region_of(db, principal.organisation_id)
        allowed = await in_scope(db, principal, case_id)
        if allowed:  # the columns' scope, confirmed by the case's sealed fields (docs/security.md case 59)
            confirmed, mismatched = await entitlement.confirmed(db, keyring, principal, [case_id])
            await entitlement.audit_mismatches(db, keyring, principal, mismatched)
            allowed = case_id in confirmed or case_id not in mismatched  # a damaged case shows what it can
        records = []
        damaged: list[uuid.UUID] = []
        if allowed:
            store = RecordStore(db, keyring)
            rows = await store.select(
                Record.case_id == case_id, Record.deleted.is_(False), order_by=(Record.kind, Record.version)
            )
            records = await store.decrypt(rows)
            damaged = sorted(store.damaged)
            if damaged:
                await audit.append(
                    db,
                    action="record.integrity",
                    outcome="damaged",
                    actor_id=principal.user_id,
                    device_id=principal.device_id,
                    case_id=case_id,
                    record_ids=damaged,
                    organisation=principal.organisation_id,
                    key=keyring.audit,
                )
        await audit.append(
            db,
            action="case.read",
            outcome="ok" if allowed else "denied",
            actor_id=principal.user_id,
            device_id=principal.device_id,
            case_id=case_id,
            record_ids=[r.id for r in records],
            organisation=principal.organisation_id,
            key=keyring.audit,
        )
        await db.commit()
    if not allowed:
        raise NotFound("No such case.")
    case = next(r for r in records if r.kind == "case")
    broken = {r.id for r in records if r.fields is None and not r.deleted and r.id in damaged}
    return CaseDetail(
        case=RecordOut.of(case),
        records=[RecordOut.of(r) for r in records if r.kind != "case" and r.id not in broken],
        damaged=sorted(broken),
        deadlines=case_deadlines(region, case.fields or {}, records, zone),
    )


def case_deadlines(
    region: Region, case: dict[str, Any], records: list[StoredRecord], zone: ZoneInfo
) -> list[DeadlineOut]:
    """The deadlines of one case from its records; one is done when the action it generated is done."""

    def of(kind: str) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        return [(r.id, r.fields) for r in records if r.kind == kind and r.fields is not None and not r.deleted]

    done = {r.id for r in records if r.kind == "action" and (r.fields or {}).get("status") == "done"}
    found = deadlines.compute(
        region.country,
        Calendar(region),
        case,
        of("legal_event"),
        of("benefit_application"),
        utcnow().astimezone(zone).date(),
        lambda text: dt.datetime.fromisoformat(text).astimezone(zone).date(),
    )
    return [d.out(deadlines.action_id(d) in done) for d in found]


@dataclass(frozen=True, slots=True)
class CaseReads:
    """The office's case reads for one app, as handlers receive them through dependency injection."""

    sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring
    time_zone: str = "Europe/Berlin"
    # The duplicate check's limit per user (Settings.duplicate_checks_per_window).
    duplicate_checks: int = 30
    duplicate_window: dt.timedelta = dt.timedelta(minutes=10)

    async def list(self, principal: Principal, filters: CaseFilters) -> list[CaseSummary]:
        """The caller's cases; see :func:`list_cases`."""
        return await list_cases(self.sessions, self.keyring, principal, filters)

    async def detail(self, principal: Principal, case_id: uuid.UUID) -> CaseDetail:
        """One case in the caller's scope; see :func:`case_detail`."""
        return await case_detail(self.sessions, self.keyring, principal, case_id, ZoneInfo(self.time_zone))

    async def calendar(self, principal: Principal) -> CalendarOut:
        """The caller's organisation's region and its public holidays around today, for the tablet's deadlines."""
        async with self.sessions() as db:
            region = await region_of(db, principal.organisation_id)
            organisation = await db.get(Organisation, principal.organisation_id) if principal.organisation_id else None
        listing = Calendar(region).listing(utcnow().astimezone(ZoneInfo(self.time_zone)).date())
        return msgspec.structs.replace(listing, organisation=organisation.name if organisation else None)

    async def _within_limit(self, db: AsyncSession, principal: Principal) -> None:
        """Refuse a check beyond the user's limit in the window (counted from the audit log, so across processes)."""
        since = utcnow() - self.duplicate_window
        count, oldest = (
            await db.execute(
                select(func.count(), func.min(AuditEntry.at)).where(
                    AuditEntry.actor_id == principal.user_id,
                    AuditEntry.action == "case.duplicate_check",
                    AuditEntry.outcome == "ok",
                    AuditEntry.at > since,
                )
            )
        ).one()
        if count >= self.duplicate_checks:
            retry = int(((oldest or since) + self.duplicate_window - utcnow()).total_seconds()) + 1
            raise RateLimited(
                "Too many duplicate checks in a short time; the next is possible in a few minutes.",
                retry_after=max(retry, 1),
            )

    async def duplicates(self, principal: Principal, query: DuplicateQuery) -> DuplicateAnswer:
        """Open cases of the caller's team that may be this household (the blind index, docs/security.md case 42).

        Audited without the values asked, naming every case the answer revealed (a case outside the caller's scope
        is named to them by its worker only); at most :attr:`duplicate_checks` per user in :attr:`duplicate_window`
        (docs/security.md case 56).
        """
        asked = blind.tokens(self.keyring.index, query.street, query.house_number, query.postcode, query.names)
        if principal.team_id is None:
            raise NotFound("No team to check against.")
        async with self.sessions() as db:
            await begin_write(db)
            await self._within_limit(db, principal)
            matches = await blind.find(db, principal.team_id, asked)
            mine = set((await db.scalars(scope_case_ids(principal))).all()) if matches else set()
            await audit.append(
                db,
                action="case.duplicate_check",
                outcome="ok",
                actor_id=principal.user_id,
                device_id=principal.device_id,
                record_ids=sorted({m.case_id for m in matches}),
                organisation=principal.organisation_id,
                key=self.keyring.audit,
            )
            await db.commit()
        return DuplicateAnswer(
            matches=[
                DuplicateMatch(
                    reason="address" if m.reason == "address" else "tenant",
                    responsible_id=m.assigned_worker_id,
                    case_id=m.case_id if m.case_id in mine else None,
                )
                for m in matches
            ]
        )
