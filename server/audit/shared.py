"""Read entries of many requests, appended to their organisation's chain in shared transactions.

A pull's entries must be committed before its page is answered, and each append locks the chain's head until its
transaction commits: with many devices of one organisation pulling, the pulls waited for each other on that lock,
each holding a database connection and an open transaction while it waited. :class:`SharedAppends` keeps them
waiting in the process instead: one transaction per organisation and process at a time takes every append waiting
(up to a share), writes their entries in one :func:`~server.audit.log.append_many`, commits, and only then
answers each of them. The entries, their order within each request and their hashes are what each append alone
would have written. Should a shared transaction fail, nothing of it was written, and each append is run again
alone, so one request's failure is never another's.

Only appends that are not part of a change go here (a pull's reads): a change's entries commit with the change,
in its own transaction.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit.log import AuditKey, Entry, append_many
from server.db import begin_write
from server.db.sharing import Sharing, answered

__all__ = ["SHARE_ENTRIES", "SharedAppends"]

# A shared transaction takes appends until it holds this many entries (the first append always goes).
SHARE_ENTRIES = 2000
# An append waiting: its entries, and what its request awaits.
_Job = tuple[list[Entry], "asyncio.Future[None]"]


def _take(waiting: list[_Job]) -> list[_Job]:
    """The oldest appends, up to a transaction's share of entries (the first always goes)."""
    taken, entries = 0, 0
    for batch, _ in waiting:
        if taken and entries + len(batch) > SHARE_ENTRIES:
            break
        taken += 1
        entries += len(batch)
    jobs, waiting[:] = waiting[:taken], waiting[taken:]
    return jobs


class SharedAppends:
    """Appends of entries outside a change, per organisation, written in shared transactions (see the module)."""

    __slots__ = ("_key", "_organisations", "_sessions")

    def __init__(self, sessions: async_sessionmaker[AsyncSession], key: Callable[[], AuditKey | None]) -> None:
        self._sessions = sessions
        self._key = key  # read at each write, as the keyring holds it
        self._organisations: dict[uuid.UUID | None, Sharing[_Job]] = {}

    async def append(self, organisation: uuid.UUID | None, entries: list[Entry]) -> None:
        """Append ``entries`` to the organisation's chain; returns once they are committed."""
        if not entries:
            return
        waiting = self._organisations.get(organisation)
        if waiting is None:
            waiting = self._organisations[organisation] = Sharing(
                1, _take, functools.partial(self._write, organisation)
            )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(answered)
        waiting.submit((entries, done))
        # Cancelled, the request still has its entries written: what was read is audited either way.
        await asyncio.shield(done)

    async def _write(self, organisation: uuid.UUID | None, jobs: list[_Job]) -> None:
        try:
            async with self._sessions() as db:
                await begin_write(db)
                entries = [entry for batch, _ in jobs for entry in batch]
                await append_many(db, entries, organisation=organisation, key=self._key())
                await db.commit()
        except Exception as exc:
            if len(jobs) == 1:
                jobs[0][1].set_exception(exc)
                return
            for job in jobs:  # nothing was written: each alone, so only one that fails alone fails
                await self._write(organisation, [job])
            return
        except BaseException:
            for _, done in jobs:
                if not done.done():
                    done.cancel()
            raise
        for _, done in jobs:
            done.set_result(None)
