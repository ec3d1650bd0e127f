"""Engine and session factory, with the SQLite pragmas the server depends on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "begin_write", "create_engine", "session_factory"]

SQLITE_BUSY_TIMEOUT_MS = 15_000
WRITE_OPTION = "doorstep_write"


def _sqlite_pragmas(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes a second writer wait instead of failing;
    # foreign_keys is off by default in SQLite and every relation here relies on it.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: an acknowledged push survives a power cut too, not only a crash of the process (guarantee 1).
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that reads first and writes later fails at once with "database is locked" when
    # another writer committed in between; busy_timeout cannot help it. Write transactions therefore ask for
    # the write lock at BEGIN (see :func:`begin_write`), while read-only ones stay deferred and concurrent.
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``url``, SQLite (aiosqlite) or PostgreSQL (asyncpg)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
            # Leave transaction control to SQLAlchemy's "begin" event below.
            dbapi_connection.isolation_level = None
            _sqlite_pragmas(dbapi_connection, connection_record)

        event.listen(sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory whose objects stay usable after commit (the services return them)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_write(session: AsyncSession) -> None:
    """Start ``session``'s transaction as a writer.

    Call it first in a unit of work that will write. On SQLite it takes the write lock at ``BEGIN`` so that
    concurrent writers queue on ``busy_timeout`` instead of failing; on PostgreSQL it changes nothing.
    """
    await session.connection(execution_options={WRITE_OPTION: True})
