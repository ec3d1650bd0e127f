"""Housekeeping: expired sessions, old login failures, old stored sync results, finished Web Push jobs, the bytes of
deleted or abandoned attachments, and tombstone compaction.

Runs in the app's lifespan every ``housekeeping_interval_seconds`` (and from ``doorstep housekeeping``). Every
step is a bounded, idempotent delete, so several server processes may run it at the same time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.auth.models import LoginFailure, Session
from server.db import begin_write, session_factory, utcnow
from server.db.locks import only_one
from server.intake.forget import forget_declined
from server.periodic import every
from server.push.models import PushJob
from server.records import clock
from server.records.keyring import Keyring
from server.records.models import AttachmentChunk, AttachmentUpload, Record
from server.records.retention import run_retention
from server.settings import Settings
from server.sync.models import MutationLog

__all__ = ["HousekeepingReport", "housekeeping_task", "run_housekeeping"]

logger = logging.getLogger("doorstep.housekeeping")
MUTATION_LOG_RETENTION = dt.timedelta(days=35)
SESSION_RETENTION = dt.timedelta(days=7)
PUSH_JOB_RETENTION = dt.timedelta(days=7)
# An upload not finished (or never described by a record) after this long was abandoned by its tablet.
UPLOAD_RETENTION = dt.timedelta(days=30)
# Cases whose tombstones are compacted in one transaction.
_CASES_PER_PASS = 500


class HousekeepingReport(msgspec.Struct, frozen=True, kw_only=True):
    """How much each step removed."""

    sessions: int
    login_failures: int
    mutation_results: int
    push_jobs: int
    attachments: int
    tombstones: int
    horizon: int


async def run_housekeeping(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: dt.datetime | None = None
) -> HousekeepingReport:
    """One pass of every step."""
    now = now or utcnow()
    async with sessions() as db:
        await begin_write(db)
        ended = await db.execute(
            delete(Session).where(
                (Session.expires_at < now - SESSION_RETENTION) | (Session.ended_at < now - SESSION_RETENTION)
            )
        )
        failures = await db.execute(
            delete(LoginFailure).where(LoginFailure.at < now - dt.timedelta(minutes=settings.login_window_minutes))
        )
        results = await db.execute(delete(MutationLog).where(MutationLog.created_at < now - MUTATION_LOG_RETENTION))
        jobs = await db.execute(
            delete(PushJob).where(PushJob.state != "pending", PushJob.created_at < now - PUSH_JOB_RETENTION)
        )
        attachments = await drop_unused_uploads(db, now, dt.timedelta(days=settings.tombstone_horizon_days))
        await db.commit()
    tombstones, horizon = await compact_tombstones(sessions, now - dt.timedelta(days=settings.tombstone_horizon_days))
    return HousekeepingReport(
        sessions=_count(ended),
        login_failures=_count(failures),
        mutation_results=_count(results),
        push_jobs=_count(jobs),
        attachments=attachments,
        tombstones=tombstones,
        horizon=horizon,
    )


async def drop_unused_uploads(db: AsyncSession, now: dt.datetime, horizon: dt.timedelta) -> int:
    """The bytes of attachments deleted longer ago than the tombstone ``horizon``, and uploads never finished nor
    described by a record within :data:`UPLOAD_RETENTION`; returns how many uploads went.

    A deleted attachment keeps its bytes as long as its tombstone may still meet an edit from a device that was
    offline (an edit-versus-delete conflict), and while any conflict of its case is open: resolving one with
    "keep" brings the record back, and it must come back with its file (docs/sync-protocol.md "Attachments").
    """
    open_conflicts = select(Record.case_id).where(
        Record.kind == "conflict", Record.status == "open", Record.deleted.is_(False)
    )
    tombstone = (Record.kind == "attachment") & Record.deleted.is_(True)
    past = (Record.updated_at < now - horizon) & Record.case_id.not_in(open_conflicts)
    deleted = select(Record.id).where(tombstone, past)
    waiting = select(Record.id).where(tombstone, ~past)  # may still come back with "keep"
    described = select(Record.id).where(Record.kind == "attachment", Record.deleted.is_(False))
    stale = select(AttachmentUpload.id).where(
        AttachmentUpload.created_at < now - UPLOAD_RETENTION,
        AttachmentUpload.complete.is_(False) | AttachmentUpload.id.not_in(described),
        AttachmentUpload.id.not_in(waiting),
    )
    ids = list((await db.scalars(select(AttachmentUpload.id).where(AttachmentUpload.id.in_(deleted)))).all())
    ids += list((await db.scalars(stale)).all())
    if not ids:
        return 0
    await db.execute(delete(AttachmentChunk).where(AttachmentChunk.attachment_id.in_(ids)))
    await db.execute(delete(AttachmentUpload).where(AttachmentUpload.id.in_(ids)))
    return len(set(ids))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def compact_tombstones(sessions: async_sessionmaker[AsyncSession], before: dt.datetime) -> tuple[int, int]:
    """Delete tombstones last changed before ``before`` and raise each organisation's horizon to the newest one
    removed there; returns how many went and the highest horizon.

    A cursor below the horizon may have missed a deletion, so its pull answers ``410 cursor-expired`` and the
    device bootstraps again. Tombstones of erased (shredded) cases go too: only their ids were left; those of a
    case with an open conflict stay until it is decided (a "keep" restores the record from its tombstone). Each
    organisation is compacted in its own transaction under its own clock's lock, like any writer of it.
    """
    # A case with an open conflict keeps its tombstones: "keep" restores a deleted record from its tombstone.
    open_conflicts = select(Record.case_id).where(
        Record.kind == "conflict", Record.status == "open", Record.deleted.is_(False)
    )
    condition = (Record.deleted.is_(True)) & (Record.updated_at < before) & Record.case_id.not_in(open_conflicts)
    async with sessions() as db:
        cases = list((await db.scalars(select(Record.case_id).where(condition).distinct())).all())
        organisation_of = await clock.organisation_of_cases(db, cases)
        horizons = {o: (await clock.read(db, o)).horizon for o in set(organisation_of.values())}
    groups: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for case_id in cases:
        groups.setdefault(organisation_of.get(case_id), []).append(case_id)
    removed = 0
    for organisation in sorted(groups, key=lambda o: (o is None, str(o))):
        ids = groups[organisation]
        for start in range(0, len(ids), _CASES_PER_PASS):
            chunk = ids[start : start + _CASES_PER_PASS]
            async with sessions() as db:
                await begin_write(db)
                # The clock first: compaction is a writer like any other and must not interleave with a push.
                if organisation is None:
                    # Tombstones no organisation can be found for (none are expected): every clock's horizon rises
                    # to them, which at worst makes a device bootstrap once more than needed.
                    locked = {o: await clock.lock(db, o) for o in await clock.organisations(db)}
                else:
                    locked = {organisation: await clock.lock(db, organisation)}
                chosen = condition & Record.case_id.in_(chunk)
                newest = await db.scalar(select(func.max(Record.version)).where(chosen))
                if newest is None:
                    await db.commit()
                    continue
                removed += _count(await db.execute(delete(Record).where(chosen)))
                for owner, current in locked.items():
                    horizon = max(current.horizon, min(int(newest), current.seq))
                    await clock.raise_horizon(db, owner, horizon)
                    horizons[owner] = horizon
                await db.commit()
    if not horizons:
        async with sessions() as db:
            horizons = {o: (await clock.read(db, o)).horizon for o in await clock.organisations(db)}
    return removed, max(horizons.values(), default=0)


@contextlib.asynccontextmanager
async def housekeeping_task(engine: AsyncEngine, settings: Settings, keyring: Keyring) -> AsyncIterator[None]:
    """Run a pass now and then every ``housekeeping_interval_seconds`` for the lifetime of the app (disabled with an
    interval of 0): the clean-up, then the erasure of closed cases whose retention period has ended. One process at
    a time; failures are logged, not fatal; a pass in flight at shutdown finishes."""
    if settings.housekeeping_interval_seconds <= 0:
        yield
        return
    sessions = session_factory(engine)

    async def one_pass() -> None:
        try:
            async with only_one(engine, "doorstep:housekeeping") as mine:
                if not mine:
                    return  # another process runs it now
                report = await run_housekeeping(sessions, settings)
                today = utcnow().astimezone(ZoneInfo(settings.report_time_zone)).date()
                erased = await run_retention(sessions, keyring, years=settings.retention_years, today=today)
                keep = dt.timedelta(days=settings.referral_keep_days)
                forgotten = await forget_declined(sessions, keyring, utcnow() - keep)
        except Exception as exc:
            logger.warning("housekeeping failed: %s", type(exc).__name__)
            return
        logger.info(
            "housekeeping: %d sessions, %d login failures, %d sync results, %d push jobs, %d tombstones removed; "
            "%d cases erased at the end of their retention period; %d declined referrals forgotten",
            report.sessions,
            report.login_failures,
            report.mutation_results,
            report.push_jobs,
            report.tombstones,
            len(erased),
            forgotten,
        )

    async with every(settings.housekeeping_interval_seconds, one_pass, name="housekeeping"):
        yield
