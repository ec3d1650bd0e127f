"""Deadline reminders: a deadline within three days that is not done sends a push to the case's worker.

The message is as empty as a visit's (``{"t": "deadline_soon", "id": <case id>}``): the lock screen says that a
deadline is close, never which case or which deadline; the app shows it after it is unlocked. Each deadline reminds
once per due date (``deadline_reminders``), so a server restart or the next pass sends nothing twice. The pass runs
in the app's lifespan every hour and decrypts only the cases that have legal events or benefit decisions; it is
audited as one entry naming the cases.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server import audit
from server.db import begin_write, session_factory, utcnow
from server.db.locks import only_one
from server.periodic import every
from server.push import enqueue
from server.records import clock, deadlines
from server.records.calendar import Calendar, region_of
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.store import RecordStore
from server.sync.models import DeadlineReminder

__all__ = ["DEADLINE_SOON", "REMIND_DAYS", "remind_deadlines", "reminder_task"]

DEADLINE_SOON = "deadline_soon"
REMIND_DAYS = 3
INTERVAL_SECONDS = 3600

log = logging.getLogger("doorstep.push")


async def remind_deadlines(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, zone: ZoneInfo, now: dt.datetime | None = None
) -> int:
    """Queue a reminder for every deadline due within :data:`REMIND_DAYS` that is not done nor reminded yet;
    returns the number of deadlines reminded."""
    today = (now or utcnow()).astimezone(zone).date()
    horizon = today + dt.timedelta(days=REMIND_DAYS)
    # Read and decrypt outside the write lock (sync pushes must not wait for a pass over every case); the short
    # write below looks again at what was reminded meanwhile, so two passes never remind the same deadline twice.
    due: list[tuple[uuid.UUID, uuid.UUID, dt.date, uuid.UUID | None]] = []
    async with sessions() as db:
        with_events = select(Record.case_id).where(
            Record.kind.in_(("legal_event", "benefit_application")), Record.deleted.is_(False)
        )
        store = RecordStore(db, keyring)
        cases = await store.select(
            Record.kind == "case",
            Record.deleted.is_(False),
            Record.status != "closed",
            Record.assigned_worker_id.is_not(None),
            Record.id.in_(with_events),
        )
        if not cases:
            return 0
        related = await store.select(
            Record.case_id.in_([c.id for c in cases]),
            Record.kind.in_(("legal_event", "benefit_application", "action")),
            Record.deleted.is_(False),
        )
        by_case: dict[uuid.UUID, list[Any]] = {}
        for record in await store.decrypt(related):
            if record.fields is not None:
                by_case.setdefault(record.case_id, []).append(record)
        # Each case's deadlines follow its organisation's law and holidays.
        organisation_of = await clock.organisation_of_cases(db, [c.id for c in cases])
        calendars = {
            organisation: Calendar(await region_of(db, organisation))
            for organisation in {organisation_of.get(c.id) for c in cases}
        }
        for case in await store.decrypt(cases):
            records = by_case.get(case.id, [])
            done = {r.id for r in records if r.kind == "action" and r.fields.get("status") == "done"}
            worker = case.fields.get("assigned_worker_id") if case.fields else None
            calendar = calendars[organisation_of.get(case.id)]
            country = calendar.region.country
            for deadline in _soon(country, calendar, case.fields or {}, records, today, horizon, zone):
                action = deadlines.action_id(deadline)
                if action not in done:
                    due.append((case.id, action, deadline.due_on, uuid.UUID(str(worker)) if worker else None))
    if not due:
        return 0
    async with sessions() as db:
        await begin_write(db)
        sent = {
            (row.action_id, row.due_on)
            for row in (
                await db.scalars(select(DeadlineReminder).where(DeadlineReminder.case_id.in_({c for c, *_ in due})))
            ).all()
        }
        messages: list[tuple[uuid.UUID, str, uuid.UUID]] = []
        reminded: list[uuid.UUID] = []
        for case_id, action, due_on, worker_id in due:
            if (action, due_on) in sent:
                continue
            db.add(DeadlineReminder(action_id=action, due_on=due_on, case_id=case_id))
            sent.add((action, due_on))
            if worker_id is not None:
                messages.append((worker_id, DEADLINE_SOON, case_id))
            reminded.append(case_id)
        await enqueue(db, messages)
        organisation_of = await clock.organisation_of_cases(db, set(reminded))
        for organisation in sorted({organisation_of.get(c) for c in reminded}, key=lambda o: (o is None, str(o))):
            await audit.append(
                db,
                action="deadline.remind",
                outcome="ok",
                actor_id=None,
                record_ids=sorted({c for c in reminded if organisation_of.get(c) == organisation}),
                organisation=organisation,
                key=keyring.audit,
            )
        await db.commit()
    return len(reminded)


def _soon(
    country: str,
    calendar: Calendar,
    case: dict[str, Any],
    records: list[Any],
    today: dt.date,
    horizon: dt.date,
    zone: ZoneInfo,
) -> list[deadlines.Deadline]:
    def of(kind: str) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        return [(r.id, r.fields) for r in records if r.kind == kind]

    def local(text: str) -> dt.date:
        return dt.datetime.fromisoformat(text).astimezone(zone).date()

    found = deadlines.compute(country, calendar, case, of("legal_event"), of("benefit_application"), today, local)
    return [d for d in found if d.unavailable is None and today <= d.due_on <= horizon]


@contextlib.asynccontextmanager
async def reminder_task(
    engine: AsyncEngine, keyring: Keyring, zone: ZoneInfo, on_queued: Callable[[], None]
) -> AsyncIterator[None]:
    """Run the reminder pass every hour for the lifetime of the app; a pass in flight at shutdown finishes."""

    sessions = session_factory(engine)

    async def one_pass() -> None:
        try:
            async with only_one(engine, "doorstep:reminders") as mine:
                if mine and await remind_deadlines(sessions, keyring, zone):
                    on_queued()
        except Exception as exc:
            log.warning("deadline reminders failed: %s", type(exc).__name__)

    async with every(INTERVAL_SECONDS, one_pass, name="deadline reminders"):
        yield
