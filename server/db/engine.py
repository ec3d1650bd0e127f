"""Engine and session factory, with the SQLite pragmas the server depends on."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import ARRAY, ColumnElement, Executable, Row, any_, bindparam, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.pool import ConnectionPoolEntry

from server.ownership import keep_owner

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "DatabaseFileExposed",
    "among_bound",
    "begin_write",
    "create_engine",
    "guard_sqlite_file",
    "read_one",
    "scrub_deleted",
    "session_factory",
]

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


class DatabaseFileExposed(ValueError):
    """The SQLite file can be read by other users of the machine; the server refuses to use it."""


def guard_sqlite_file(url: str) -> None:
    """Create the SQLite file (and its directory) private to this user, and refuse one others can read.

    The records inside are encrypted, but ids, dates, assignments and the audit trail are not (docs/security.md
    part 1), so the file is kept like the key file: directory 0700, file 0600 (case 31). SQLite gives its WAL and
    shared-memory files the database file's mode.
    """
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path)
    if not file.parent.exists():
        file.parent.mkdir(parents=True, mode=0o700)
    if not file.exists():
        fd = os.open(file, os.O_CREAT | os.O_WRONLY, 0o600)
        keep_owner(fd, file)
        os.close(fd)
    mode = stat.S_IMODE(file.stat().st_mode)
    if mode & 0o077:
        raise DatabaseFileExposed(
            f"The database {file} can be read by other users (mode {mode:o}); run `chmod 600` on it "
            "(and on its -wal and -shm files) and start again."
        )


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# JSON columns (field versions, the audit's record ids) are written and read by msgspec, not the standard
# library's json: every push and pull writes them, and msgspec does it several times faster.
_JSON = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}


def create_engine(url: str, *, echo: bool = False, connections: int = 30) -> AsyncEngine:
    """Create the async engine for ``url``, SQLite (aiosqlite) or PostgreSQL (asyncpg).

    On PostgreSQL the pool opens up to ``connections`` and keeps each one it opened. A pool that closed what it
    opened beyond a smaller core, as it did, paid for a burst of requests with new connections, each one a process
    forked by the server and every statement prepared again on it: a quarter of the CPU of an empty pull in a
    burst of twenty devices (docs/benchmarks.md).
    """
    if url.startswith("sqlite"):
        guard_sqlite_file(url)
        # Connections roll back their own open transactions when closed; the pool's extra reset would be one more
        # round trip through aiosqlite's thread on every request.
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_reset_on_return=None,
            **_JSON,
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
    return create_async_engine(url, echo=echo, pool_recycle=1800, pool_size=connections, max_overflow=0, **_JSON)


async def scrub_deleted(engine: AsyncEngine, tables: Collection[str]) -> bool:
    """Make the bytes of rows deleted from ``tables`` unrecoverable from the database's own files.

    A deleted row lingers: in SQLite's write-ahead log and free space, in PostgreSQL's dead tuples. The writer that
    deleted should have run with SQLite's ``secure_delete`` on (which zeroes what it frees); this then moves every
    page out of the log into the database file and empties the log (SQLite), or rewrites each table into a new
    file (PostgreSQL ``VACUUM FULL``: for small tables only, it locks the table while it runs). Returns whether
    the log could be emptied (readers holding an old snapshot can delay it; try again later).
    """
    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            for _ in range(20):
                answer = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
                busy = int(answer[0])  # 1 when a reader kept the log from being emptied
                if not busy:
                    return True
                await asyncio.sleep(0.25)
        return False
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await connection.exec_driver_sql(f'VACUUM FULL "{table}"')
    return True


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory whose objects stay usable after commit (the services return them)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_write(session: AsyncSession) -> None:
    """Start ``session``'s transaction as a writer.

    Call it first in a unit of work that will write. On SQLite it takes the write lock at ``BEGIN`` so that
    concurrent writers queue on ``busy_timeout`` instead of failing; on PostgreSQL it changes nothing.
    """
    await session.connection(execution_options={WRITE_OPTION: True})


async def read_one(
    engine: AsyncEngine, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> Row[Any] | None:
    """Run one read-only statement on a pooled connection and return its first row.

    For the hot paths that need one consistent answer from one statement (the session check of every
    request, the empty-pull check): it runs without an explicit transaction (``BEGIN`` and its end), saving
    round trips; a single statement is atomic on its own.
    """
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # No BEGIN before and no ROLLBACK after: two round trips fewer on every request.
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            connection = await connection.execution_options(**{SINGLE_READ_OPTION: True})
        result = await connection.execute(statement, parameters)
        return result.first()


def among_bound(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], name: str, dialect: str
) -> ColumnElement[bool]:
    """``column IN :name``, the values bound at execution (a list), for a statement built once and executed many
    times: no parameter is built per value on each call.

    On PostgreSQL it is one array parameter (``= ANY``): an expanded ``IN`` of hundreds of ids would make the
    server plan a new statement for every batch size.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
