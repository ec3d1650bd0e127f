"""The history of a case's status, outcome and dates, and of the rent arrears its assessment records
(docs/domain.md "Figures for the board").

``RecordStore.write`` appends an entry whenever one of the tracked fields of a case changes, and an arrears entry
(``{"arrears_cents": n}``) whenever the assessment's rent and service-charge arrears change, in the same
transaction as the change. Reports read the entries to compute a period from what had been recorded: a closure
stays in the period it happened in after the case is reopened, and an outcome corrected later is used and named
as a correction. A case older than its history reads as one entry: its state when the report runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.crypto import DecryptionError, associated_data, open_blob, seal
from server.db import utcnow
from server.records.keyring import DataKey
from server.records.models import CaseHistory

__all__ = ["ARREARS", "TRACKED", "Entry", "arrears_of", "entry", "is_case_state", "read", "tracked"]

TRACKED = ("status", "outcome", "opened_on", "closed_on", "first_contact_on")
ARREARS = "arrears_cents"
_COLUMN = "state"
_VERSION = 1


class Entry(msgspec.Struct, kw_only=True, frozen=True):
    """A case's tracked fields as they were from ``recorded_at`` on."""

    recorded_at: dt.datetime
    seq: int
    state: dict[str, Any]


def tracked(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: fields.get(name) for name in TRACKED}


def is_case_state(state: Mapping[str, Any]) -> bool:
    """An entry of the case's own fields (not of its assessment's arrears)."""
    return "status" in state


def arrears_of(assessment: Mapping[str, Any]) -> dict[str, Any]:
    """The arrears entry of an assessment's fields: rent, service-charge and Nutzungsentschädigung arrears, None
    when none is recorded (court and lawyer costs are not arrears)."""
    section = assessment.get("arrears") or {}
    names = ("rent_arrears_cents", "service_charge_arrears_cents", "use_compensation_arrears_cents")
    parts = [section.get(name) for name in names]
    known = [int(part) for part in parts if part is not None]
    return {ARREARS: sum(known) if known else None}


def entry(
    key: DataKey, *, case_id: uuid.UUID, team_id: uuid.UUID | None, seq: int, state: dict[str, Any]
) -> CaseHistory:
    """A new history row holding ``state``, sealed under the case's data key."""
    entry_id = uuid.uuid4()
    aad = associated_data("case_history", entry_id, case_id, _COLUMN, _VERSION, key.dek_id)
    blob = seal(key.key, msgspec.json.encode(state), aad, kek_version=key.kek_version, dek_id=key.dek_id)
    return CaseHistory(id=entry_id, case_id=case_id, team_id=team_id, seq=seq, recorded_at=utcnow(), blob=blob)


async def read(
    db: AsyncSession, keys: Mapping[uuid.UUID, DataKey], case_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Entry]]:
    """Each case's entries in the order they were recorded, opened with ``keys`` (the cases' data keys); a case
    without a key, or an entry that does not decrypt, has none."""
    ids = list(case_ids)
    if not ids:
        return {}
    columns = (CaseHistory.id, CaseHistory.case_id, CaseHistory.seq, CaseHistory.recorded_at, CaseHistory.blob)
    rows = (
        await (await db.connection()).execute(
            select(*columns).where(CaseHistory.case_id.in_(ids)).order_by(CaseHistory.seq, CaseHistory.recorded_at)
        )
    ).all()
    found: dict[uuid.UUID, list[Entry]] = {}
    for row in rows:
        key = keys.get(row.case_id)
        if key is None:
            continue
        aad = associated_data("case_history", row.id, row.case_id, _COLUMN, _VERSION, key.dek_id)
        try:
            state = msgspec.json.decode(open_blob(key.key, row.blob, aad))
        except (DecryptionError, msgspec.DecodeError):
            continue
        found.setdefault(row.case_id, []).append(Entry(recorded_at=row.recorded_at, seq=row.seq, state=state))
    return found
