"""Locks between server processes that share one database: several processes of one host (``--workers``), or
several hosts on one PostgreSQL.

- :func:`exclusive_start`: one process at a time runs the start-up work that writes (migrations, the first keys,
  the demo, the one-off upgrades). A second process waits, then finds the work done. On PostgreSQL it is a
  session-level advisory lock (the pattern Alembic's documentation gives for migrations run by many processes);
  on SQLite, whose processes share a host, a file lock beside the database.
- :func:`only_one`: a background pass (housekeeping, deadline reminders) runs in one process at a time; the others
  skip their turn. A session-level advisory lock tried, not waited for, on PostgreSQL; on SQLite the pass's write
  transactions already exclude each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.ownership import keep_owner

__all__ = ["exclusive_start", "lock_key", "only_one"]

START = "doorstep:start"


def lock_key(name: str) -> int:
    """The 64-bit advisory lock key of ``name`` (stable across processes and versions)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def exclusive_start(engine: AsyncEngine, lock_dir: Path) -> AsyncIterator[None]:
    """Hold the installation's start-up lock for the block (``lock_dir``: where SQLite's lock file lives)."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key(START)})
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(START)})
        return
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    fd = os.open(lock_dir / "start.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        keep_owner(fd, lock_dir / "start.lock")
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.asynccontextmanager
async def only_one(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Whether this process is the one to run the pass ``name`` now: true for one process at a time, until the
    block ends; the others get false and skip their turn. Always true on SQLite, where the pass's write
    transactions are exclusive anyway."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        key = {"key": lock_key(name)}
        taken = bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key))
        try:
            yield taken
        finally:
            if taken:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
