"""Rewrite stored records of an older schema version in the current form, once, at start.

Records are encrypted, so a schema change that moves values between fields cannot be an SQL migration: this runs
after the migrations, decrypts the old records, translates them (:mod:`server.records.legacy`), and writes them back
as new versions in one transaction with the locks of their organisations' sync clocks, so that every device
pulls the new form. Audited as one entry per organisation. A record that does not validate after translation is
left as it was and reported (it never is lost).
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.db import begin_write
from server.records import clock, legacy
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.schemas import SCHEMA_VERSION
from server.records.store import RecordStore
from server.records.validation import ValidationIssue, validate_fields

__all__ = ["upgrade_stored"]

log = logging.getLogger("doorstep.records")


async def upgrade_stored(sessions: async_sessionmaker[AsyncSession], keyring: Keyring) -> int:
    """Bring every live record of an older form to the current one; returns how many were rewritten."""
    old = select(Record.id).where(
        Record.kind == "legal_event", Record.schema_version < SCHEMA_VERSION, Record.deleted.is_(False)
    )
    async with sessions() as db:
        if (await db.scalar(old.limit(1))) is None:
            return 0
    async with sessions() as db:
        await begin_write(db)
        store = RecordStore(db, keyring)
        rows = {
            row.id: row
            for row in await store.select(
                Record.kind == "legal_event", Record.schema_version < SCHEMA_VERSION, Record.deleted.is_(False)
            )
        }
        organisation_of = await clock.organisation_of_cases(db, {row.case_id for row in rows.values()})
        # Every clock involved is locked before any record is written, in one order (as every writer does).
        seqs = {
            organisation: (await clock.lock(db, organisation)).seq
            for organisation in sorted(set(organisation_of.values()) | {clock.NO_ORGANISATION})
        }
        rewritten: dict[uuid.UUID, list[uuid.UUID]] = {}
        for record in await store.decrypt(rows.values()):
            if record.fields is None or not legacy.needs_upgrade(record.kind, record.fields):
                continue
            fields = legacy.upgrade(record.kind, record.fields)
            try:
                validated = validate_fields(record.kind, fields)
            except ValidationIssue as issue:
                log.warning("record %s kept in its old form: %s", record.id, issue.detail)
                continue
            organisation = organisation_of.get(record.case_id, clock.NO_ORGANISATION)
            seqs[organisation] += 1
            seq = seqs[organisation]
            versions = {name: v for name, v in record.field_versions.items() if name not in legacy.LEGACY_FIELDS}
            versions.update(dict.fromkeys(set(fields) - set(record.fields), seq))
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
