"""Rewrite stored records in a newer form, once, at start.

Records are encrypted, so a schema change that moves values between fields, or a field every record must now
hold, cannot be an SQL migration: this runs after the migrations, decrypts the records concerned, changes them,
and writes them back as new versions in one transaction with the locks of their organisations' sync clocks, so
that every device pulls the new form. Audited as one entry per organisation. A record that does not validate
after the change is left as it was and reported (it never is lost).

- :func:`upgrade_stored`: legal events of an older schema version (:mod:`server.records.legacy`).
- :func:`open_days`: a case stored without the day it was opened gets one (its first contact, else the day it was
  stored), so no case counts as supported in every past year.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.db import begin_write
from server.records import clock, legacy
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.projection import NOT_READ
from server.records.schemas import SCHEMA_VERSION
from server.records.store import RecordRow, RecordStore, StoredRecord
from server.records.validation import ValidationIssue, validate_fields
from server.records.writing import LOCAL_TIME

__all__ = ["open_days", "upgrade_stored"]

log = logging.getLogger("doorstep.records")

# A change: the record's new fields, and the names of fields it no longer has; None leaves it as it is.
Change = Callable[[StoredRecord, RecordRow], tuple[dict[str, Any], frozenset[str]] | None]


async def upgrade_stored(sessions: async_sessionmaker[AsyncSession], keyring: Keyring) -> int:
    """Bring every live record of an older form to the current one; returns how many were rewritten."""

    def change(record: StoredRecord, _: RecordRow) -> tuple[dict[str, Any], frozenset[str]] | None:
        if record.fields is None or not legacy.needs_upgrade(record.kind, record.fields):
            return None
        return legacy.upgrade(record.kind, record.fields), legacy.LEGACY_FIELDS

    old = (Record.kind == "legal_event", Record.schema_version < SCHEMA_VERSION, Record.deleted.is_(False))
    return await _rewrite(sessions, keyring, old, change)


async def open_days(sessions: async_sessionmaker[AsyncSession], keyring: Keyring) -> int:
    """Give every case stored without ``opened_on`` its opening day: the first contact when recorded and earlier,
    else the local day the case was stored. Reads the cases migration 0021 marked; returns how many changed."""

    def change(record: StoredRecord, row: RecordRow) -> tuple[dict[str, Any], frozenset[str]] | None:
        fields = record.fields
        if fields is None or record.deleted or fields.get("opened_on"):
            return None
        stored = row.created_at.replace(tzinfo=row.created_at.tzinfo or dt.UTC).astimezone(LOCAL_TIME).date()
        first = fields.get("first_contact_on")
        day = min(stored, dt.date.fromisoformat(str(first)[:10])) if first else stored
        return {**fields, "opened_on": day.isoformat()}, frozenset()

    marked = (Record.kind == "case", Record.minutes == NOT_READ)
    changed = await _rewrite(sessions, keyring, marked, change)
    async with sessions() as db:
        await begin_write(db)
        await db.execute(update(Record).where(*marked).values(minutes=None))
        await db.commit()
    return changed


async def _rewrite(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, where: tuple[Any, ...], change: Change
) -> int:
    """Rewrite the records matching ``where`` that ``change`` changes, as new versions; returns how many."""
    async with sessions() as db:
        if (await db.scalar(select(Record.id).where(*where).limit(1))) is None:
            return 0
    async with sessions() as db:
        await begin_write(db)
        store = RecordStore(db, keyring)
        rows = {row.id: row for row in await store.select(*where)}
        organisation_of = await clock.organisation_of_cases(db, {row.case_id for row in rows.values()})
        # Every clock involved is locked before any record is written, in one order (as every writer does).
        seqs = {
            organisation: (await clock.lock(db, organisation)).seq
            for organisation in sorted(set(organisation_of.values()) | {clock.NO_ORGANISATION})
        }
        rewritten: dict[uuid.UUID, list[uuid.UUID]] = {}
        for record in await store.decrypt(rows.values()):
            changed = change(record, rows[record.id])
            if changed is None or record.fields is None:
                continue
            fields, dropped = changed
            try:
                validated = validate_fields(record.kind, fields)
            except ValidationIssue as issue:
                log.warning("record %s kept in its old form: %s", record.id, issue.detail)
                continue
            organisation = organisation_of.get(record.case_id, clock.NO_ORGANISATION)
            seqs[organisation] += 1
            seq = seqs[organisation]
            versions = {name: v for name, v in record.field_versions.items() if name not in dropped}
            versions.update(
                {name: seq for name in fields if name not in record.fields or fields[name] != record.fields[name]}
            )
            await store.write(
                rows[record.id],
                kind=record.kind,
                record_id=record.id,
                case_id=record.case_id,
                fields=validated,
                field_versions=versions,
                seq=seq,
                actor=None,
                flag=record.flag,
            )
            rewritten.setdefault(organisation, []).append(record.id)
        await store.flush()
        for organisation, ids in rewritten.items():
            owner = None if organisation == clock.NO_ORGANISATION else organisation
            await audit.append(
                db,
                action="record.upgrade",
                outcome="ok",
                actor_id=None,
                record_ids=ids,
                organisation=owner,
                key=keyring.audit,
            )
            await clock.advance(db, organisation, seqs[organisation])
        await db.commit()
    return sum(len(ids) for ids in rewritten.values())
