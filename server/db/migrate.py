"""Alembic migrations, run on start and from the CLI.

The migration scripts live in ``migrations/`` (found by :mod:`server.resources`). :func:`migrate` runs them inside an
already running event loop by handing Alembic a synchronous connection (Alembic's own ``asyncio.run`` would
fail inside the app's lifespan).
"""

from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.locks import lock_key
from server.resources import MIGRATIONS_DIR

__all__ = ["MIGRATIONS_DIR", "alembic_config", "at_head", "migrate"]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the project's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` up to ``revision``."""

    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes started at once take turns (Alembic would race creating its version table); the lock ends
            # with this transaction, after the next process can only find the database at head.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("doorstep:migrate")})
        await connection.run_sync(_upgrade)


@functools.cache
def _heads() -> frozenset[str]:
    """The newest migrations this code knows (read from the scripts once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def at_head(engine: AsyncEngine) -> bool:
    """Whether the database behind ``engine`` is at the newest migration.

    Read straight from Alembic's version table: ``/ready`` asks this at every probe, and Alembic's own reader
    logs two lines each time."""
    async with engine.connect() as connection:
        try:
            current = set((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
        except ProgrammingError:  # PostgreSQL: no such table (a database never migrated)
            return False
        except OperationalError as exc:  # SQLite says the same this way; anything else is not a missing table
            if "no such table" not in str(exc.orig):
                raise
            return False
    return current == _heads()
