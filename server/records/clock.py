"""The sync clock: the one row that hands out ``seq`` numbers and remembers the tombstone horizon.

Every writer of records takes the clock's row lock first (:func:`lock`) and holds it until commit. That
serialises writers, so ``seq`` order is commit order on PostgreSQL too: a reader that has seen ``seq`` S can
never later find a committed change with a lower ``seq`` (guarantee 3 of ``docs/sync-protocol.md``). Readers
take no lock; they read the committed position with :func:`read`.

This module is the only code that touches the ``sync_clock`` row; stores, sync, housekeeping and the CLI call
it rather than writing SQL against the table.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from server.records.models import SyncClock

__all__ = ["ClockReading", "advance", "allocate", "lock", "raise_horizon", "read"]

_ROW = SyncClock.id == 1


class ClockReading(NamedTuple):
    """The committed position: the last ``seq`` handed out, and the tombstone horizon."""

    seq: int
    horizon: int


async def lock(db: AsyncSession) -> ClockReading:
    """Take the clock's row lock (held until commit) and read it. Call first in every writing transaction."""
    row = (
        await db.execute(
            update(SyncClock).where(_ROW).values(seq=SyncClock.seq).returning(SyncClock.seq, SyncClock.horizon)
        )
    ).one()
    return ClockReading(int(row.seq), int(row.horizon))


async def advance(db: AsyncSession, seq: int) -> None:
    """Record ``seq`` as the last one handed out; the caller holds the lock and counted up from :func:`lock`."""
    await db.execute(update(SyncClock).where(_ROW).values(seq=seq))


async def allocate(db: AsyncSession, count: int = 1) -> int:
    """Lock the clock and reserve ``count`` consecutive numbers in one statement; returns the first."""
    last = (
        await db.execute(update(SyncClock).where(_ROW).values(seq=SyncClock.seq + count).returning(SyncClock.seq))
    ).scalar_one()
    return int(last) - count + 1


async def raise_horizon(db: AsyncSession, horizon: int) -> None:
    """Move the tombstone horizon up to ``horizon`` (never down); the caller holds the lock."""
    await db.execute(update(SyncClock).where(_ROW, SyncClock.horizon < horizon).values(horizon=horizon))


async def read(source: AsyncSession | AsyncConnection | AsyncEngine) -> ClockReading:
    """The committed position, without a lock. In a session it is read in that session's snapshot."""
    query = select(SyncClock.seq, SyncClock.horizon).where(_ROW)
    if isinstance(source, AsyncEngine):
        async with source.connect() as connection:
            row = (await connection.execute(query)).one()
    else:
        row = (await source.execute(query)).one()
    return ClockReading(int(row.seq), int(row.horizon))
