"""Encrypted record store against raw SQLAlchemy Core on the same rows and database, in one run.

Writes and reads 20,000 one-kilobyte records (notes) through :class:`RecordStore` (validation, AES-GCM with
associated data, clear projection) and the same rows, in a table of the same shape, with Core ``executemany``
and a plain ``select``. The ratio is the figure; the targets are 30 % of the raw insert rate and 40 % of the
raw select rate on SQLite.

    .venv/bin/python -m bench.records [--records N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select

from bench.baseline import records_shaped_table
from bench.report import print_table, write_section
from server.auth.models import Organisation
from server.db import begin_write, create_engine, migrate, session_factory, utcnow
from server.records.bulk import write_all
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.store import RecordStore
from server.settings import Settings

# The baseline table has the records table's exact shape and indexes, so the ratio measures what the store
# adds (validation, encryption, clear projection) and not a narrower table.
RAW = records_shaped_table("bench_raw")
BATCH = 1000


def note_text(i: int) -> str:
    return (f"Hausbesuch {i}: Mieterin hat die Kontoauszüge gezeigt, Ratenzahlung besprochen. " * 12)[:1000]


async def run(records: int, url: str, data_dir: str) -> dict[str, float]:
    engine = create_engine(url)
    await migrate(engine)
    settings = Settings(data_dir=data_dir, database_url=url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    sessions = session_factory(engine)
    cases = [uuid.uuid4() for _ in range(max(1, records // 40))]
    payload = [(uuid.uuid4(), cases[i % len(cases)], note_text(i)) for i in range(records)]

    async with engine.begin() as connection:
        await connection.run_sync(RAW.metadata.create_all)
    now = utcnow()
    start = time.perf_counter()
    for chunk in range(0, records, BATCH):
        async with engine.begin() as connection:
            await connection.execute(
                insert(RAW),
                [
                    {
                        "id": rid,
                        "kind": "note",
                        "case_id": cid,
                        "version": i,
                        "created_version": i,
                        "deleted": False,
                        "schema_version": 1,
                        "blob": text.encode(),
                        "field_versions": {"text": i},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, (rid, cid, text) in enumerate(payload[chunk : chunk + BATCH], start=chunk)
                ],
            )
    raw_insert = records / (time.perf_counter() - start)

    start = time.perf_counter()
    for chunk in range(0, records, BATCH):
        async with sessions() as db:
            await begin_write(db)
            store = RecordStore(db, keyring)
            organisation = await db.scalar(select(Organisation.id).limit(1))
            part = payload[chunk : chunk + BATCH]
            await write_all(store, organisation, [("note", rid, cid, {"text": text}) for rid, cid, text in part])
            await store.commit()
    store_insert = records / (time.perf_counter() - start)

    start = time.perf_counter()
    read = 0
    async with engine.connect() as connection:
        for chunk in range(0, records, BATCH):
            ids = [p[0] for p in payload[chunk : chunk + BATCH]]
            rows = (await connection.execute(select(RAW).where(RAW.c.id.in_(ids)))).all()
            read += sum(len(r.blob) for r in rows)
    raw_select = records / (time.perf_counter() - start)

    start = time.perf_counter()
    decrypted = 0
    async with sessions() as db:
        store = RecordStore(db, keyring)
        for chunk in range(0, records, BATCH):
            ids = [p[0] for p in payload[chunk : chunk + BATCH]]
            rows = await store.select(Record.id.in_(ids))
            decrypted += len(await store.decrypt(rows))
    store_select = records / (time.perf_counter() - start)
    assert decrypted == records
    assert read > 0
    await engine.dispose()
    return {
        "raw_insert": raw_insert,
        "store_insert": store_insert,
        "raw_select": raw_select,
        "store_select": store_select,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--database-url", default=os.environ.get("DOORSTEP_BENCH_DATABASE_URL", ""))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        result = asyncio.run(run(args.records, url, tmp))
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    rows = [
        [
            "insert",
            f"{result['raw_insert']:,.0f}",
            f"{result['store_insert']:,.0f}",
            f"{result['store_insert'] / result['raw_insert']:.0%}",
            "30 %",
        ],
        [
            "select",
            f"{result['raw_select']:,.0f}",
            f"{result['store_select']:,.0f}",
            f"{result['store_select'] / result['raw_select']:.0%}",
            "40 %",
        ],
    ]
    print(f"{args.records:,} records of ~1 KB on {backend}, batches of {BATCH}")
    table = print_table(["operation", "raw Core rows/s", "encrypted store records/s", "ratio", "target"], rows)
    write_section(
        f"Record store ({backend})",
        f"`python -m bench.records`: {args.records:,} notes of about 1 KB, batches of {BATCH}, through the "
        "encrypted store (validation, AES-256-GCM with associated data, clear projection) beside raw "
        "SQLAlchemy Core `executemany`/`select` of the same rows in a table of the records' exact shape and "
        "indexes, on the same database.\n\n" + table,
    )


if __name__ == "__main__":
    main()
