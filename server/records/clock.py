"""The sync clocks: one row per organisation that hands out ``seq`` numbers and remembers the tombstone horizon.

Every writer of an organisation's records takes its clock's row lock (:func:`lock`) before it reads a record it will
change, and holds it until commit. That serialises the organisation's writers, so ``seq`` order is commit order on
PostgreSQL too: a reader that has seen ``seq`` S can never later find a committed change with a lower ``seq``
(guarantee 3 of ``docs/sync-protocol.md``). Readers take no lock; they read the committed position with
:func:`read`. A worker only ever holds records of their own organisation, so the numbers of two organisations never
meet, and their writers never wait for each other.

A clock's row is made on first use, starting at the highest position of any clock so that no cursor issued
anywhere can be ahead of it. Writers that belong to no organisation use :data:`NO_ORGANISATION`.

This module is the only code that touches the ``sync_clocks`` table; stores, sync, housekeeping and the CLI call
it rather than writing SQL against it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import NamedTuple, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from server.auth.models import Team, User
from server.db import read_one
from server.records.models import Record, SyncClock

__all__ = [
    "NO_ORGANISATION",
    "ClockReading",
    "Seen",
    "advance",
    "allocate",
    "jump_all",
    "lock",
    "organisation_of_cases",
    "organisations",
    "raise_horizon",
    "read",
]

NO_ORGANISATION = uuid.UUID(int=0)

# Built once: every pull reads a clock and every push locks and advances one, and building a statement cost
# more than running it. (A bound name differs from the column it sets.)
_CLOCKS = cast("Table", SyncClock.__table__)
_THIS = _CLOCKS.c.organisation_id == bindparam("organisation")
_READ = select(_CLOCKS.c.seq, _CLOCKS.c.horizon).where(_THIS)
_LOCK = update(_CLOCKS).where(_THIS).values(seq=_CLOCKS.c.seq).returning(_CLOCKS.c.seq, _CLOCKS.c.horizon)
_ADVANCE = update(_CLOCKS).where(_THIS).values(seq=bindparam("to_seq"))


class ClockReading(NamedTuple):
    """The committed position: the last ``seq`` handed out, and the tombstone horizon."""

    seq: int
    horizon: int


class Seen:
    """How far each organisation's clock has been seen to move in this process: by the pulls it served and the
    pushes it committed.

    A clock only moves on, and a push notes it after its commit, so this is a lower bound of the committed
    position. A pull whose cursor is below it has news, and opens its snapshot without asking the clock first: one
    round trip less for every pull in a busy organisation. Being behind costs that round trip. Were it ever ahead (a
    database restored under a running server), a pull would open a snapshot for nothing: what a pull sends never
    depends on it, since the snapshot reads the clock itself.
    """

    __slots__ = ("_seq",)

    def __init__(self) -> None:
        self._seq: dict[uuid.UUID | None, int] = {}

    def note(self, organisation: uuid.UUID | None, seq: int) -> None:
        """The organisation's clock stood at ``seq`` or beyond, committed."""
        if seq > self._seq.get(organisation, 0):
            self._seq[organisation] = seq

    def beyond(self, organisation: uuid.UUID | None, seq: int) -> bool:
        """Whether the organisation's clock has been seen past ``seq``."""
        return self._seq.get(organisation, 0) > seq


def _row(organisation: uuid.UUID | None) -> ColumnElement[bool]:
    return SyncClock.organisation_id == (organisation or NO_ORGANISATION)


async def _make(db: AsyncSession, organisation: uuid.UUID | None) -> None:
    """Make the organisation's clock if it has none yet (two writers racing here both go on safely)."""
    highest = select(func.coalesce(func.max(SyncClock.seq), 0)).scalar_subquery()
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(SyncClock).from_select(
        ["organisation_id", "seq", "horizon"],
        select(literal(organisation or NO_ORGANISATION, SyncClock.organisation_id.type), highest, highest),
    )
    await db.execute(statement.on_conflict_do_nothing(index_elements=["organisation_id"]))


async def lock(db: AsyncSession, organisation: uuid.UUID | None) -> ClockReading:
    """Take the organisation's clock lock (held until commit) and read it. Call it in every writing transaction
    before reading what the transaction will change."""
    values = {"organisation": organisation or NO_ORGANISATION}
    # Core statements on the session's connection: the ORM's execution adds a third to each, and every write
    # takes the clock.
    connection = await db.connection()
    row = (await connection.execute(_LOCK, values)).first()
    if row is None:
        await _make(db, organisation)
        row = (await connection.execute(_LOCK, values)).one()
    return ClockReading(int(row.seq), int(row.horizon))


async def advance(db: AsyncSession, organisation: uuid.UUID | None, seq: int) -> None:
    """Record ``seq`` as the last one handed out; the caller holds the lock and counted up from :func:`lock`."""
    connection = await db.connection()
    await connection.execute(_ADVANCE, {"organisation": organisation or NO_ORGANISATION, "to_seq": seq})


async def allocate(db: AsyncSession, organisation: uuid.UUID | None, count: int = 1) -> int:
    """Lock the organisation's clock and reserve ``count`` consecutive numbers in one statement; returns the
    first."""
    statement = update(SyncClock).where(_row(organisation)).values(seq=SyncClock.seq + count).returning(SyncClock.seq)
    last = (await db.execute(statement)).scalar()
    if last is None:
        await _make(db, organisation)
        last = (await db.execute(statement)).scalar_one()
    return int(last) - count + 1


async def raise_horizon(db: AsyncSession, organisation: uuid.UUID | None, horizon: int) -> None:
    """Move the tombstone horizon up to ``horizon`` (never down); the caller holds the lock."""
    await db.execute(update(SyncClock).where(_row(organisation), SyncClock.horizon < horizon).values(horizon=horizon))


async def jump_all(db: AsyncSession, count: int) -> int:
    """Move every clock to ``count`` past the highest of them, with the horizon there too (a restore: every
    cursor issued before is then expired); returns the new position, the same for all."""
    highest = int(await db.scalar(select(func.coalesce(func.max(SyncClock.seq), 0))) or 0)
    seq = highest + count
    await db.execute(update(SyncClock).values(seq=seq, horizon=seq))
    return seq


async def read(source: AsyncSession | AsyncConnection | AsyncEngine, organisation: uuid.UUID | None) -> ClockReading:
    """The committed position, without a lock; in a session it is read in that session's snapshot. A clock not
    made yet stands at the start."""
    values = {"organisation": organisation or NO_ORGANISATION}
    if isinstance(source, AsyncEngine):
        found = await read_one(source, _READ, values)
        return ClockReading(0, 0) if found is None else ClockReading(int(found.seq), int(found.horizon))
    connection = source if isinstance(source, AsyncConnection) else await source.connection()
    row = (await connection.execute(_READ, values)).first()
    return ClockReading(0, 0) if row is None else ClockReading(int(row.seq), int(row.horizon))


async def organisations(db: AsyncSession) -> list[uuid.UUID]:
    """Every organisation that has a clock, in the order writers lock several of them."""
    return sorted((await db.scalars(select(SyncClock.organisation_id))).all())


async def organisation_of_cases(db: AsyncSession, case_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The organisation of each case: through its team, or (for a deleted case, whose team is no longer kept in
    the clear) through the team of the person who opened it. Cases found neither way are left out."""
    ids = list(case_ids)
    if not ids:
        return {}
    own, opener = aliased(Team), aliased(Team)
    rows = await db.execute(
        select(Record.id, func.coalesce(own.organisation_id, opener.organisation_id))
        .outerjoin(own, own.id == Record.team_id)
        .outerjoin(User, User.id == Record.created_by)
        .outerjoin(opener, opener.id == User.team_id)
        .where(Record.id.in_(ids), Record.kind == "case")
    )
    return {case_id: organisation for case_id, organisation in rows.all() if organisation is not None}
