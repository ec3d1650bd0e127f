"""The database plumbing: SQLite pragmas take effect, and the migrations match the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

import server.models  # noqa: F401 - every table on the metadata
from server.db import Base, create_engine
from server.db.engine import SQLITE_BUSY_TIMEOUT_MS


async def test_sqlite_pragmas_are_set_on_every_connection(tmp_path: Path) -> None:
    # Checked on an SQLite file of its own, so that the PostgreSQL run checks it too.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        for _ in range(2):  # a second pooled connection gets them too
            async with engine.connect() as connection:
                assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
                assert (await connection.scalar(text("PRAGMA busy_timeout"))) == SQLITE_BUSY_TIMEOUT_MS
                assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
                assert (await connection.scalar(text("PRAGMA synchronous"))) == 2  # FULL
    finally:
        await engine.dispose()


async def test_migrations_produce_exactly_the_models(database_url: str) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
