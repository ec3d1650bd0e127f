"""Outreach: a household the team wrote to that has not answered gets a home visit.

When a case's tenant has never been reached (no consultation, no call or letter from them) and the newest letter the
team sent is ``DOORSTEP_OUTREACH_DAYS`` (default 7) days old without a visit planned since, a home visit is planned
for the case's worker on the next working day at 10:00, and the worker gets a push message as for any assigned
visit. The visit's id follows from the case and the letter's day, so a pass run twice (or on two processes) plans
it once; the worker moves or cancels it like a visit they planned. Read from clear columns only: nothing is
decrypted. The pass runs every hour and is audited as one entry per organisation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server import audit
from server.db import begin_write, session_factory, utcnow
from server.db.locks import only_one
from server.periodic import every
from server.push import VISIT_ASSIGNED, enqueue
from server.records import clock
from server.records.bulk import BulkItem, write_all
from server.records.calendar import Calendar, region_of
from server.records.deadlines import derived_id
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.store import RecordStore

__all__ = ["outreach_task", "plan_outreach_visits"]

log = logging.getLogger("doorstep.records")

INTERVAL_SECONDS = 3600
CONSULTING = ("phone", "in_person", "home_visit")
VISIT_HOUR = dt.time(10)
PURPOSE = "Hausbesuch: auf das Hilfeangebot kam keine Antwort."


async def plan_outreach_visits(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    zone: ZoneInfo,
    days: int,
    now: dt.datetime | None = None,
) -> int:
    """Plan the visits due; returns how many were planned."""
    moment = now or utcnow()
    today = moment.astimezone(zone).date()
    async with sessions() as db:
        await begin_write(db)
        cases = dict(
            (
                await db.execute(
                    select(Record.id, Record.assigned_worker_id).where(
                        Record.kind == "case",
                        Record.deleted.is_(False),
                        Record.status == "open",
                        Record.assigned_worker_id.is_not(None),
                    )
                )
            ).all()
        )
        if not cases:
            return 0
        contacts: dict[uuid.UUID, list[tuple[dt.datetime, str, bool, bool]]] = {}
        for case_id, at, channel, reached, incoming in (
            await db.execute(
                select(Record.case_id, Record.at, Record.status, Record.reached, Record.incoming).where(
                    Record.kind == "contact", Record.deleted.is_(False), Record.case_id.in_(list(cases))
                )
            )
        ).all():
            if at is not None:
                contacts.setdefault(case_id, []).append(
                    (_aware(at), str(channel), reached is not False, incoming is True)
                )
        visited: dict[uuid.UUID, dt.datetime] = {}
        for case_id, created in (
            await db.execute(
                select(Record.case_id, Record.created_at).where(Record.kind == "visit", Record.case_id.in_(list(cases)))
            )
        ).all():
            visited[case_id] = max(visited.get(case_id, _aware(created)), _aware(created))
        due: list[tuple[uuid.UUID, uuid.UUID, dt.date]] = []
        for case_id, worker in cases.items():
            seen = contacts.get(case_id, [])
            if any(reached and (incoming or channel in CONSULTING) for _, channel, reached, incoming in seen):
                continue  # the tenant was reached: no outreach needed
            letters = [at for at, channel, _, incoming in seen if channel == "letter" and not incoming]
            if not letters:
                continue
            last = max(letters)
            if (today - last.astimezone(zone).date()).days < days or visited.get(case_id, last) > last:
                continue
            due.append((case_id, uuid.UUID(str(worker)), last.astimezone(zone).date()))
        if not due:
            return 0
        ids = {case_id: derived_id(case_id, f"outreach-visit-{day.isoformat()}") for case_id, _, day in due}
        existing = set((await db.scalars(select(Record.id).where(Record.id.in_(list(ids.values()))))).all())
        organisation_of = await clock.organisation_of_cases(db, [case_id for case_id, _, _ in due])
        by_organisation: dict[uuid.UUID | None, list[BulkItem]] = {}
        messages: list[tuple[uuid.UUID, str, uuid.UUID]] = []
        for case_id, worker, _ in due:
            visit_id = ids[case_id]
            if visit_id in existing:
                continue
            organisation = organisation_of.get(case_id)
            calendar = Calendar(await region_of(db, organisation))
            day = calendar.next_working_day(today + dt.timedelta(days=1))
            planned = dt.datetime.combine(day, VISIT_HOUR, tzinfo=zone).isoformat()
            fields = {
                "assigned_worker_id": str(worker),
                "planned_at": planned,
                "status": "planned",
                "purpose": PURPOSE,
                "planned_by": str(worker),  # the worker's own visit: theirs to move or cancel
            }
            by_organisation.setdefault(organisation, []).append(("visit", visit_id, case_id, fields))
            messages.append((worker, VISIT_ASSIGNED, visit_id))
        planned_count = 0
        for organisation, items in sorted(by_organisation.items(), key=lambda item: str(item[0])):
            await write_all(RecordStore(db, keyring), organisation, items)
            await audit.append(
                db,
                action="outreach.visit",
                outcome="ok",
                actor_id=None,
                record_ids=[item[1] for item in items],
                organisation=organisation,
                key=keyring.audit,
            )
            planned_count += len(items)
        await enqueue(db, messages)
        await db.commit()
    if planned_count:
        log.info("planned %d home visits after unanswered letters", planned_count)
    return planned_count


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@contextlib.asynccontextmanager
async def outreach_task(
    engine: AsyncEngine, keyring: Keyring, zone: ZoneInfo, days: int, on_queued: Callable[[], None]
) -> AsyncIterator[None]:
    """Run the outreach pass every hour for the lifetime of the app."""
    sessions = session_factory(engine)

    async def one_pass() -> None:
        try:
            async with only_one(engine, "doorstep:outreach") as mine:
                if mine and await plan_outreach_visits(sessions, keyring, zone, days):
                    on_queued()
        except Exception as exc:
            log.warning("outreach visits failed: %s", type(exc).__name__)

    async with every(INTERVAL_SECONDS, one_pass, name="outreach visits"):
        yield
