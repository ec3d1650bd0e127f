"""Attachment upload and download of a 10 MiB file, against writing and reading the same bytes raw.

Uploads a 10 MiB file through the upload protocol (20 chunks of 512 KiB, each sealed with the case's data key and
written in its own transaction, the whole file verified against its SHA-256 at the end) and downloads it (every
chunk decrypted and the hash checked again), in process, so that the figure is the server's. The baseline writes
the same 20 chunks raw into a table of the same shape, one transaction each, and reads them back. On SQLite, and on
PostgreSQL when ``DOORSTEP_TEST_DATABASE_URL`` names a server (``make bench``).

    .venv/bin/python -m bench.attachments [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, Uuid, insert, select

from bench.report import print_table, write_section
from bench.sync import login, prepare, scratch_database, write_cases
from server.app import create_app
from server.db import create_engine, session_factory
from server.records.keyring import Keyring
from tests.support.app import running

SIZE = 10 * 1024 * 1024
CHUNK = 512 * 1024


async def make_case(url: str, settings: Any, users: dict[str, uuid.UUID]) -> uuid.UUID:
    engine = create_engine(url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    case_id = uuid.uuid4()
    fields = {
        "team_id": str(users["team"]),
        "assigned_worker_id": str(users["worker0"]),
        "type": "rent_arrears",
        "status": "open",
        "risk": "high",
        "title": "Mietrückstand Beispiel",
    }
    async with session_factory(engine)() as db:
        await write_cases(db, keyring, [("case", case_id, case_id, fields)])
    await engine.dispose()
    return case_id


async def through_the_server(settings: Any, case_id: uuid.UUID, rounds: int) -> tuple[list[float], list[float]]:
    app = create_app(settings)
    uploads, downloads = [], []
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client,
    ):
        device_id = (await login(client, "worker0"))["device_id"]
        for mid in range(1, rounds + 1):
            content = b"\xff\xd8\xff\xe0" + os.urandom(SIZE - 4)
            digest = hashlib.sha256(content).hexdigest()
            attachment_id = str(uuid.uuid4())
            url = f"/api/attachments/{attachment_id}/upload"
            start = time.perf_counter()
            declared = {"case_id": str(case_id), "size": SIZE, "sha256": digest, "content_type": "image/jpeg"}
            (await client.post(url, json=declared)).raise_for_status()
            for offset in range(0, SIZE, CHUNK):
                headers = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}
                (await client.patch(url, content=content[offset : offset + CHUNK], headers=headers)).raise_for_status()
            uploads.append(time.perf_counter() - start)
            record = {
                "op": "put",
                "mid": mid,
                "kind": "attachment",
                "id": attachment_id,
                "case_id": str(case_id),
                "base_version": None,
                "fields": {"title": "Scan", "content_type": "image/jpeg", "size": SIZE, "sha256": digest},
            }
            pushed = await client.post("/api/sync/push", json={"device_id": device_id, "mutations": [record]})
            pushed.raise_for_status()
            start = time.perf_counter()
            response = await client.get(f"/api/attachments/{attachment_id}")
            downloads.append(time.perf_counter() - start)
            assert response.content == content
    return uploads, downloads


async def raw(url: str, rounds: int) -> tuple[list[float], list[float]]:
    table = Table(
        "bench_raw_chunks",
        MetaData(),
        Column("attachment_id", Uuid, primary_key=True),
        Column("idx", Integer, primary_key=True),
        Column("blob", LargeBinary),
    )
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
    writes, reads = [], []
    for _ in range(rounds):
        content = os.urandom(SIZE)
        attachment_id = uuid.uuid4()
        start = time.perf_counter()
        for idx, offset in enumerate(range(0, SIZE, CHUNK)):
            async with engine.begin() as connection:
                row = {"attachment_id": attachment_id, "idx": idx, "blob": content[offset : offset + CHUNK]}
                await connection.execute(insert(table), [row])
        writes.append(time.perf_counter() - start)
        start = time.perf_counter()
        async with engine.connect() as connection:
            query = select(table.c.blob).where(table.c.attachment_id == attachment_id).order_by(table.c.idx)
            back = b"".join((await connection.execute(query)).scalars())
        reads.append(time.perf_counter() - start)
        assert back == content
    await engine.dispose()
    return writes, reads


async def run_backend(name: str, url: str, tmp: str, rounds: int) -> dict[str, Any]:
    settings, users = await prepare(url, tmp)
    case_id = await make_case(url, settings, users)
    uploads, downloads = await through_the_server(settings, case_id, rounds)
    writes, reads = await raw(url, rounds)
    mib = SIZE / (1024 * 1024)
    return {
        "backend": name,
        "upload": mib / statistics.median(uploads),
        "download": mib / statistics.median(downloads),
        "raw_write": mib / statistics.median(writes),
        "raw_read": mib / statistics.median(reads),
    }


async def main_async(rounds: int) -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(await run_backend("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", tmp, rounds))
    server_url = os.environ.get("DOORSTEP_TEST_DATABASE_URL")
    if server_url:
        url = await scratch_database(server_url, "bench_files")
        with tempfile.TemporaryDirectory() as tmp:
            results.append(await run_backend("PostgreSQL", url, tmp, rounds))
    headers = ["measure (10 MiB file, 512 KiB chunks)", *(r["backend"] for r in results)]
    rows = [
        ["upload through the API, MiB/s", *(f"{r['upload']:,.1f}" for r in results)],
        ["raw insert of the same chunks, MiB/s", *(f"{r['raw_write']:,.1f}" for r in results)],
        ["upload / raw insert", *(f"{r['upload'] / r['raw_write']:.0%}" for r in results)],
        ["download through the API, MiB/s", *(f"{r['download']:,.1f}" for r in results)],
        ["raw select of the same chunks, MiB/s", *(f"{r['raw_read']:,.1f}" for r in results)],
        ["download / raw select", *(f"{r['download'] / r['raw_read']:.0%}" for r in results)],
    ]
    table = print_table(headers, rows)
    write_section(
        "Attachments",
        "`python -m bench.attachments` (`make bench`), in process (no network), the median of "
        f"{rounds} rounds. The upload seals each chunk with the case's data key, writes it in its own transaction "
        "with the upload's row locked and an audit entry at the start and the end, and checks the whole file's "
        "SHA-256 after the last chunk (which decrypts every chunk once more); the download decrypts every chunk, "
        "checks the hash again and audits the read. The baseline writes and reads the same chunks raw, one "
        "transaction per chunk.\n\n" + table,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(main_async(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
