"""Right of access (Art. 15 GDPR): everything the team holds about a household, for its supervisor to hand over.

Starting from one case, the export gathers every case of the supervisor's team that names the same household,
with every live record of those cases (decrypted) and each case's recorded course (status, outcome and dates, and
the arrears its assessment recorded, as the reports use them). Attachments are listed with their description;
their bytes are downloaded one by one as usual. The export is audited (``household.disclosure``, naming every
record), and the tablet turns it into a printable page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.auth.schemas import Principal
from server.db import begin_write, utcnow
from server.problems import NotFound
from server.records import history
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.scope import in_scope, scope_case_ids
from server.records.service import RecordOut
from server.records.store import RecordStore, StoredRecord

__all__ = ["CaseRecords", "Disclosure", "HistoryEntry", "household_disclosure"]


class HistoryEntry(msgspec.Struct, kw_only=True, frozen=True):
    recorded_at: dt.datetime
    state: dict[str, Any]


class CaseRecords(msgspec.Struct, kw_only=True, frozen=True):
    case: RecordOut
    records: list[RecordOut]
    history: list[HistoryEntry]


class Disclosure(msgspec.Struct, kw_only=True, frozen=True):
    """What the team holds about one household, as of ``generated_at``."""

    generated_at: dt.datetime
    household_id: uuid.UUID | None
    cases: list[CaseRecords]


async def household_disclosure(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, principal: Principal, case_id: uuid.UUID
) -> Disclosure:
    """The export for the household of ``case_id`` (in the caller's scope, else ``404``, audited as denied)."""
    async with sessions() as db:
        await begin_write(db)
        store = RecordStore(db, keyring)
        allowed = await in_scope(db, principal, case_id)
        found: list[tuple[StoredRecord, list[StoredRecord]]] = []
        household_id: uuid.UUID | None = None
        histories: dict[uuid.UUID, list[history.Entry]] = {}
        if allowed:
            household_id, case_ids = await _cases_of_household(db, store, principal, case_id)
            rows = await store.select(
                Record.case_id.in_(case_ids), Record.deleted.is_(False), order_by=(Record.kind, Record.version)
            )
            records = await store.decrypt(rows)
            for case in (r for r in records if r.kind == "case"):
                found.append((case, [r for r in records if r.case_id == case.case_id and r.kind != "case"]))
            histories = await history.read(db, await store.data_keys(case_ids), case_ids)
        every = [r.id for case, records in found for r in (case, *records)]
        await audit.append(
            db,
            action="household.disclosure",
            outcome="ok" if allowed else "denied",
            actor_id=principal.user_id,
            device_id=principal.device_id,
            case_id=case_id,
            record_ids=every,
            organisation=principal.organisation_id,
            key=keyring.audit,
        )
        await db.commit()
    if not allowed:
        raise NotFound("No such case.")
    found.sort(key=lambda item: (str((item[0].fields or {}).get("opened_on") or ""), str(item[0].case_id)))
    return Disclosure(
        generated_at=utcnow(),
        household_id=household_id,
        cases=[
            CaseRecords(
                case=RecordOut.of(case),
                records=[RecordOut.of(r) for r in records if r.fields is not None],
                history=[
                    HistoryEntry(recorded_at=e.recorded_at, state=e.state) for e in histories.get(case.case_id, [])
                ],
            )
            for case, records in found
        ],
    )


async def _cases_of_household(
    db: AsyncSession, store: RecordStore, principal: Principal, case_id: uuid.UUID
) -> tuple[uuid.UUID | None, list[uuid.UUID]]:
    """The household the case names, and every case in the caller's scope that names it (the case itself when it
    names none)."""
    [case] = await store.decrypt(await store.select(Record.id == case_id, Record.kind == "case"))
    named = (case.fields or {}).get("household_id")
    if not named:
        return None, [case_id]
    household_id = uuid.UUID(str(named))
    candidates = await store.select(Record.kind == "case", Record.case_id.in_(scope_case_ids(principal)))
    same = [c.case_id for c in await store.decrypt(candidates) if str((c.fields or {}).get("household_id")) == named]
    return household_id, sorted(set(same) | {case_id})
