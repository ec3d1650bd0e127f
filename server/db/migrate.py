"""Alembic migrations, run on start and from the CLI.

The migration scripts live in ``migrations/`` (found by :mod:`server.resources`). :func:`migrate` runs them inside an
already running event loop by handing Alembic a synchronous connection (Alembic's own ``asyncio.run`` would
fail inside the app's lifespan).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from server.resources import MIGRATIONS_DIR

__all__ = ["MIGRATIONS_DIR", "alembic_config", "migrate"]


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
        await connection.run_sync(_upgrade)
