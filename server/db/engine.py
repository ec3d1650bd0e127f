"""Engine and session factory, with the SQLite pragmas the server depends on."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Executable, Row, any_, bindparam, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "among", "begin_write", "create_engine", "read_one", "session_factory"]

SQLITE_BUSY_TIMEOUT_MS = 15_000
WRITE_OPTION = "doorstep_write"
SINGLE_READ_OPTION = "doorstep_single_read"


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
    options = conn.get_execution_options()
    if options.get(WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif not options.get(SINGLE_READ_OPTION):
        conn.exec_driver_sql("BEGIN")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``url``, SQLite (aiosqlite) or PostgreSQL (asyncpg)."""
    if url.startswith("sqlite"):
        # Connections roll back their own open transactions when closed; the pool's extra reset would be one more
        # round trip through aiosqlite's thread on every request.
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, pool_reset_on_return=None
        )
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
            # Leave transaction control to SQLAlchemy's "begin" event below.
            dbapi_connection.isolation_level = None
            _sqlite_pragmas(dbapi_connection, connection_record)

        event.listen(sync_engine, "begin", _sqlite_begin)
        return engine
    # No pre-ping (a round trip on every checkout): connections are recycled after half an hour, and a request
    # that meets a connection the server dropped fails with a 5xx that clients retry.
    return create_async_engine(url, echo=echo, pool_recycle=1800, pool_size=10, max_overflow=20)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory whose objects stay usable after commit (the services return them)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_write(session: AsyncSession) -> None:
    """Start ``session``'s transaction as a writer.

    Call it first in a unit of work that will write. On SQLite it takes the write lock at ``BEGIN`` so that
    concurrent writers queue on ``busy_timeout`` instead of failing; on PostgreSQL it changes nothing.
    """
    await session.connection(execution_options={WRITE_OPTION: True})


async def read_one(engine: AsyncEngine, statement: Executable) -> Row[Any] | None:
    """Run one read-only statement on a pooled connection and return its first row.

    For the hot paths that need one consistent answer from one statement (the session check of every
    request, the empty-pull check): on SQLite it runs without an explicit ``BEGIN``, saving round trips; a
    single statement is atomic on its own.
    """
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{SINGLE_READ_OPTION: True})
        result = await connection.execute(statement)
        return result.first()


def among(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], values: Collection[Any], dialect: str
) -> ColumnElement[bool]:
    """``column IN values``, as one array parameter on PostgreSQL.

    A batch names up to hundreds of ids; an expanded ``IN`` with that many parameters makes PostgreSQL plan a
    new statement for every batch size, while ``= ANY(array)`` is one prepared statement.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(None, value=list(values), type_=ARRAY(column.type)))
    return column.in_(values)
