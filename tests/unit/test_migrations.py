"""Migrations that move data keep it: the stored push results survive 0005 (one row per batch) both ways."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import msgspec
from sqlalchemy import Connection, text

from server.db import create_engine, migrate
from server.db.migrate import alembic_config
from tests.support.databases import admin_sql, postgres_url


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
