"""Alembic environment: uses the connection handed over by ``server.db.migrate`` or, from the command line,
an engine built from ``DOORSTEP_DATABASE_URL``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

import server.models  # noqa: F401 - registers every table on the metadata
from server.db import Base, create_engine
from server.settings import Settings

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or Settings.from_env().resolved_database_url
    asyncio.run(_run_from_url(url))
