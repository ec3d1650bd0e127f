"""Fill the clear columns added after records were stored: a contact's duration (``records.minutes``) and its
reach (``records.reached``, ``records.incoming``).

The migrations that add the columns mark every stored contact with -1 in ``minutes`` ("not read yet"); this pass,
at start and before the app serves, reads those contacts' encrypted fields and writes the duration (or nothing,
when none was recorded) and the reach. It changes no record's version: the devices hold the fields already, and
only the server's clear projection is new. A contact that does not decrypt gets no duration and is reported by the
store.
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

NOT_READ = -1  # the mark migrations 0013 and 0021 put on contacts stored before them
BATCH = 2000


async def fill_minutes(sessions: async_sessionmaker[AsyncSession], keyring: Keyring) -> int:
    """Give every contact marked :data:`NOT_READ` its duration and reach; returns how many were read."""
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
                    "is_reached": None if fields is None else bool(fields.get("reached", True)),
                    "is_incoming": None if fields is None else fields.get("direction") == "incoming",
                }
                for row, fields in zip(rows, await store.decrypt_fields(rows), strict=True)
            ]
            table = RECORDS
            await db.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(minutes=bindparam("value"), reached=bindparam("is_reached"), incoming=bindparam("is_incoming")),
                values,
            )
            await db.commit()
            done += len(rows)
    if done:
        log.info("read the duration and reach of %d stored contacts", done)
    return done
