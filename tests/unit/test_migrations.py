"""Migrations that move data keep it: the stored push results survive 0005 (one row per batch) both ways, and
the clock positions and audit entries survive 0015 (one clock and one chain per organisation) both ways."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import Connection, text

from server.audit import AuditEntry, entry_hash, verify_chain
from server.audit.models import GENESIS
from server.db import create_engine, migrate, session_factory
from server.db.migrate import alembic_config
from server.records import clock
from tests.support.databases import admin_sql, postgres_url

pytestmark = [pytest.mark.database]  # a database of its own, on the run's backend


async def test_stored_results_survive_the_batch_layout_migration_and_its_downgrade(tmp_path: Path) -> None:
    server = postgres_url()
    if server:
        name = f"doorstep_migration_{uuid.uuid4().hex[:8]}"
        await admin_sql(server, f'CREATE DATABASE "{name}"')
        url = server.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
    engine = create_engine(url)
    device = uuid.uuid4()
    result = {"mid": 7, "status": "applied", "version": 42}
    try:
        await migrate(engine, "0004")
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO mutation_log (device_id, mid, result, created_at) VALUES (:d, 7, :r, :t)"),
                {
                    "d": device if server else device.hex,
                    "r": msgspec.json.encode(result),
                    "t": dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC) if server else "2026-11-01 10:00:00.000000",
                },
            )
        await migrate(engine, "head")
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT first_mid, last_mid, results FROM mutation_log"))).one()
        assert (row.first_mid, row.last_mid) == (7, 7)
        assert msgspec.json.decode(bytes(row.results)) == [result]

        def downgrade(connection: Connection) -> None:
            from alembic import command

            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")

        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
        async with engine.connect() as connection:
            back = (await connection.execute(text("SELECT mid, result FROM mutation_log"))).one()
        assert back.mid == 7
        assert msgspec.json.decode(bytes(back.result)) == result
    finally:
        await engine.dispose()
        if server:
            await admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_splitting_the_clock_and_the_audit_chain_keeps_positions_entries_and_the_guard(tmp_path: Path) -> None:
    """0015: every organisation's clock starts where the single clock stood (so every cursor stays valid), the
    entries written so far stay one verifiable chain, the log stays append-only, and the downgrade puts both back."""
    server = postgres_url()
    if server:
        name = f"doorstep_migration_{uuid.uuid4().hex[:8]}"
        await admin_sql(server, f'CREATE DATABASE "{name}"')
        url = server.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'split.db'}"
    engine = create_engine(url)
    organisation = uuid.uuid4()
    at = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
    entry = AuditEntry(
        chain="",
        seq=1,
        at=at,
        actor_id=None,
        device_id=None,
        action="case.read",
        case_id=None,
        record_ids=[],
        outcome="ok",
        prev_hash=GENESIS,
        hash="",
    )
    entry.hash = entry_hash(GENESIS, entry, None)
    try:
        await migrate(engine, "0014")
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO organisations (id, name, created_at) VALUES (:id, 'Wohnbau', :at)"),
                {"id": organisation if server else organisation.hex, "at": at if server else "2026-11-01 10:00:00"},
            )
            await connection.execute(text("UPDATE sync_clock SET seq = 42, horizon = 7"))
            await connection.execute(
                text(
                    "INSERT INTO audit_log (seq, at, action, record_ids, outcome, prev_hash, hash) "
                    "VALUES (1, :at, 'case.read', '[]', 'ok', :prev, :hash)"
                ),
                {"at": at if server else "2026-11-01 10:00:00.000000", "prev": GENESIS, "hash": entry.hash},
            )
            await connection.execute(text("UPDATE audit_head SET seq = 1, hash = :hash"), {"hash": entry.hash})
        await migrate(engine, "head")
        async with session_factory(engine)() as db:
            assert await clock.read(db, organisation) == (42, 7)
            report = await verify_chain(db, None)
            assert (report.ok, report.entries, report.head_hash) == (True, 1, entry.hash)
        async with engine.connect() as connection:
            with pytest.raises(Exception, match="append-only"):
                await connection.execute(text("UPDATE audit_log SET outcome = 'denied'"))

        def downgrade(connection: Connection) -> None:
            from alembic import command

            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0014")

        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
        async with engine.connect() as connection:
            assert tuple((await connection.execute(text("SELECT seq, horizon FROM sync_clock"))).one()) == (42, 7)
            assert tuple((await connection.execute(text("SELECT seq, hash FROM audit_head"))).one()) == (1, entry.hash)
            with pytest.raises(Exception, match="append-only"):
                await connection.execute(text("DELETE FROM audit_log"))
    finally:
        await engine.dispose()
        if server:
            await admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
