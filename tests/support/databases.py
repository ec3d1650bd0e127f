"""Test databases: the backend of this run, and the SQL that makes and empties PostgreSQL test databases."""

from __future__ import annotations

import os

from sqlalchemy import text

from server.db import Base, create_engine, migrate

__all__ = ["admin_sql", "migrate_url", "postgres_url", "truncate_all"]

# Rows that migrations seed: reset, not emptied (the clocks and chain heads are made on first use).
_COUNTERS: dict[str, str] = {}


def postgres_url() -> str | None:
    """The PostgreSQL server database of this run (``DOORSTEP_TEST_DATABASE_URL``), or None for SQLite."""
    return os.environ.get("DOORSTEP_TEST_DATABASE_URL") or None


async def migrate_url(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def admin_sql(url: str, statement: str) -> None:
    """Run one statement outside a transaction (``CREATE DATABASE`` and the like)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def truncate_all(url: str) -> None:
    """Empty every table of a PostgreSQL test database and reset its counters, keeping the schema."""
    engine = create_engine(url)
    try:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name not in _COUNTERS)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            for statement in _COUNTERS.values():
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
