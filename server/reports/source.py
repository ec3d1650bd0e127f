"""What a report reads, read once: the cases of some teams with their history, and the records of the kinds the
figures count, decrypted in memory. The management's report reads every team over both its periods in one go and
counts each team, the total and the year before from it (:meth:`Source.of`), instead of reading the same rows
twelve times.

Rows are narrowed by their clear columns before anything is decrypted: contacts by their moment, applications by
their decision and its date, agreements by their start, referrals by the day they were sent, actions by their due
day. Only mediations (whose sessions' days are inside the blob) are read whole.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.records import history
from server.records.history import Entry
from server.records.models import Record
from server.records.store import RecordStore

__all__ = ["Contact", "Source", "load"]

# Kinds read with their fields, each narrowed by its clear moment (a date-only field is stored as midnight UTC, so
# a day's margin either side keeps every local day of the period).
FIELD_KINDS = ("benefit_application", "installment_agreement", "mediation", "referral", "action")
MARGIN = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Contact:
    case_id: uuid.UUID
    channel: str
    at: dt.datetime  # aware, UTC
    minutes: int | None


@dataclass(frozen=True)
class Source:
    """Decrypted cases (those that decrypt), their team and history, the contacts in the read window, and the
    other records by kind as ``(case id, fields)``."""

    cases: dict[uuid.UUID, dict[str, Any]]
    team_of: dict[uuid.UUID, uuid.UUID | None]
    histories: dict[uuid.UUID, list[Entry]]
    contacts: list[Contact]
    records: dict[str, list[tuple[uuid.UUID, dict[str, Any]]]] = field(default_factory=dict)

    def of(self, team_ids: Iterable[uuid.UUID]) -> Source:
        """The part that belongs to ``team_ids``' cases."""
        teams = set(team_ids)
        if teams >= {t for t in self.team_of.values() if t is not None}:
            return self
        keep = {case_id for case_id, team in self.team_of.items() if team in teams}
        return Source(
            cases={c: f for c, f in self.cases.items() if c in keep},
            team_of={c: t for c, t in self.team_of.items() if c in keep},
            histories={c: h for c, h in self.histories.items() if c in keep},
            contacts=[c for c in self.contacts if c.case_id in keep],
            records={kind: [r for r in rows if r[0] in keep] for kind, rows in self.records.items()},
        )

    def kind(self, name: str) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        return self.records.get(name, [])


async def load(
    db: AsyncSession, store: RecordStore, team_ids: list[uuid.UUID], since: dt.datetime, until: dt.datetime
) -> Source:
    """Everything the reports of ``team_ids`` count for moments ``since``..``until`` (``until`` exclusive)."""
    columns = (Record.id, Record.kind, Record.case_id, Record.schema_version, Record.blob)
    case_rows = (
        (
            await db.execute(
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

    live = and_(Record.case_id.in_(case_ids), Record.deleted.is_(False))
    contact_rows = (
        (
            await db.execute(
                select(*columns, Record.status, Record.at).where(
                    live, Record.kind == "contact", Record.at >= since, Record.at < until
                )
            )
        )
        .mappings()
        .all()
    )
    contacts = [
        Contact(
            case_id=row["case_id"],
            channel=str(row["status"]),
            at=row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=dt.UTC),
            minutes=int(fields["duration_minutes"]) if fields and fields.get("duration_minutes") else None,
        )
        for row, fields in zip(contact_rows, await store.decrypt_fields(contact_rows), strict=True)
    ]

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
    rows = (await db.execute(select(*columns).where(live, wanted))).mappings().all()
    records: dict[str, list[tuple[uuid.UUID, dict[str, Any]]]] = {kind: [] for kind in FIELD_KINDS}
    for row, fields in zip(rows, await store.decrypt_fields(rows), strict=True):
        if fields is not None:
            records[row["kind"]].append((row["case_id"], fields))
    return Source(cases=cases, team_of=team_of, histories=histories, contacts=contacts, records=records)
