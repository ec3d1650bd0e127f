"""Fill a clear column added after records were stored: a contact's duration (``records.minutes``).

The migration that adds the column marks every stored contact with -1 ("not read yet"); this pass, at start and
before the app serves, reads those contacts' encrypted fields and writes the duration (or nothing, when none was
recorded). It changes no record's version: the devices hold the fields already, and only the server's clear
projection is new. A contact that does not decrypt gets no duration and is reported by the store.
"""

from __future__ import annotations

import logging

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import begin_write
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.store import RECORDS, RecordStore

__all__ = ["NOT_READ", "fill_minutes"]

log = logging.getLogger("doorstep.records")

NOT_READ = -1  # the mark migration 0013 puts on contacts stored before it
BATCH = 2000


async def fill_minutes(sessions: async_sessionmaker[AsyncSession], keyring: Keyring) -> int:
    """Give every contact marked :data:`NOT_READ` its duration; returns how many were read."""
    done = 0
    columns = (Record.id, Record.kind, Record.case_id, Record.schema_version, Record.blob)
    while True:
        async with sessions() as db:
            await begin_write(db)
            rows = (
                (
                    await db.execute(
                        select(*columns).where(Record.kind == "contact", Record.minutes == NOT_READ).limit(BATCH)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                await db.commit()
                break
            store = RecordStore(db, keyring)
            values = [
                {
                    "row_id": row["id"],
                    "value": int(fields["duration_minutes"]) if fields and fields.get("duration_minutes") else None,
                }
                for row, fields in zip(rows, await store.decrypt_fields(rows), strict=True)
            ]
            table = RECORDS
            await db.execute(
                update(table).where(table.c.id == bindparam("row_id")).values(minutes=bindparam("value")), values
            )
            await db.commit()
            done += len(rows)
    if done:
        log.info("read the duration of %d stored contacts", done)
    return done
