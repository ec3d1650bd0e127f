"""Housekeeping removes what has served its time, and only that: old sessions, login failures, stored sync
results, finished push jobs and tombstones past the horizon; the CLI commands an operator runs do what they say."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio.to_thread
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import func, select, update

from server.app import create_app
from server.auth.models import LoginFailure, Role, Session
from server.cli import main
from server.db import create_engine, session_factory
from server.demo import DEFAULT_DEMO_PASSWORD, DEMO_USERS
from server.jobs.housekeeping import run_housekeeping
from server.push.models import PushJob
from server.records import clock
from server.records.models import Record
from server.settings import Settings
from server.sync.models import MutationLog
from tests.support.accounts import Org, login
from tests.support.app import client_from, running
from tests.support.cases import supervisor_creates_case
from tests.support.clock import TestClock
from tests.support.feed import assert_feed_kept
from tests.support.pushservice import LocalPushService
from tests.support.syncing import Device, new_id

Counts = dict[str, int]


async def counts(settings: Settings) -> Counts:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:

            async def n(model: type, *where: object) -> int:
                return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)

            return {
                "sessions": await n(Session),
                "login_failures": await n(LoginFailure),
                "mutation_results": await n(MutationLog),
                "push_jobs": await n(PushJob),
                "tombstones": await n(Record, Record.deleted.is_(True)),
                "horizon": max([(await clock.read(db, o)).horizon for o in await clock.organisations(db)], default=0),
            }
    finally:
        await engine.dispose()


async def a_day_of_work(app: Litestar, org: Org) -> str:
    """Sessions (one ended), a failed login, stored results, a sent and a pending push job, and a tombstone."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    async with client_from(app) as client:
        bad = await client.post(
            "/api/auth/login", json={"username": "worker1", "password": "falsch", "device_name": "T"}
        )
        assert bad.status_code == 401
        worker = Device(client, await login(client, "worker1"))
        subscriber = LocalPushService().subscriber()
        assert (await client.post("/api/push/subscriptions", json=subscriber.subscription())).status_code == 200
        note = new_id()
        await worker.push(worker.put("note", note, case_id, {"text": "Erstbesuch", "visit_id": None}))
        await worker.pull()
        await worker.push(worker.delete("note", note, case_id, base=worker.records[note]["version"]))
        assert (await client.post("/api/auth/logout")).status_code == 204
    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        for day in (1, 2):
            visit = {"planned_at": f"2026-12-0{day}T09:00:00+01:00", "status": "planned"}
            visit["assigned_worker_id"] = str(org.worker1_id)
            assert (await boss.push(boss.put("visit", new_id(), case_id, visit)))[0]["status"] == "applied"
    return case_id


async def test_housekeeping_removes_each_kind_of_leftover_only_once_it_is_old(
    settings: Settings, org: Org, clock: TestClock
) -> None:
    settings = msgspec.structs.replace(settings, push_allow_loopback=True, push_enabled=False)
    app = create_app(settings)
    async with running(app):
        await a_day_of_work(app, org)
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        first = await db.scalar(select(PushJob.id).order_by(PushJob.created_at).limit(1))
        await db.execute(update(PushJob).where(PushJob.id == first).values(state="sent", sent_at=clock.now()))
        await db.commit()
    await engine.dispose()
    before = await counts(settings)
    assert before == {
        "sessions": 3,  # the worker's (ended), the supervisor's twice (case made, visits assigned)
        "login_failures": 1,
        "mutation_results": 5,
        "push_jobs": 2,
        "tombstones": 1,
        "horizon": 0,
    }

    sessions = session_factory(create_engine(settings.resolved_database_url))
    now = clock.now()
    report = await run_housekeeping(sessions, settings, now=now)
    assert (report.sessions, report.mutation_results, report.push_jobs, report.tombstones) == (0, 0, 0, 0)
    assert await counts(settings) == before | {"login_failures": 1}  # still inside the throttling window

    later = await run_housekeeping(
        sessions, settings, now=now + dt.timedelta(minutes=settings.login_window_minutes + 1)
    )
    assert later.login_failures == 1

    # Past every retention: sessions a week after they ended or expired, results after 35 days, finished jobs after
    # a week (a pending one stays), tombstones past the horizon (which rises to the newest one removed).
    far = now + dt.timedelta(days=settings.tombstone_horizon_days + 1)
    last = await run_housekeeping(sessions, settings, now=far)
    assert (last.sessions, last.mutation_results, last.push_jobs, last.tombstones) == (3, 5, 1, 1)
    after = await counts(settings)
    assert after["sessions"] == after["mutation_results"] == after["tombstones"] == after["login_failures"] == 0
    assert after["push_jobs"] == 1  # pending: never dropped by age
    assert after["horizon"] == last.horizon > 0
    await sessions.kw["bind"].dispose()
    await assert_feed_kept(settings.resolved_database_url)  # the compacted tombstone left the feed too


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Callable[..., Awaitable[int]]:
    """``doorstep <args>`` through ``main()``, against the test's database and data directory."""
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)

    async def run(*args: str, stdin: str = "") -> int:
        def call() -> int:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
            return main(list(args))

        return await anyio.to_thread.run_sync(call)  # the CLI runs its own event loop

    return run


async def test_the_operators_commands(
    cli: Callable[..., Awaitable[int]], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("migrate") == 0
    assert await cli("seed-demo") == 0
    assert "Demo data created." in capsys.readouterr().out
    assert await cli("seed-demo") == 0
    assert "demo data left as it is" in capsys.readouterr().out
    assert await cli("verify-audit") == 0
    assert "Audit chains intact" in capsys.readouterr().out

    assert await cli("vapid-keys") == 0
    first = capsys.readouterr().out
    assert await cli("vapid-keys") == 0
    assert capsys.readouterr().out == first  # made once, then read
    key_files = [p for p in (Path(settings.data_dir) / "keys").iterdir() if "vapid" in p.name]
    assert key_files
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in key_files)

    assert await cli("rewrap") == 0
    assert capsys.readouterr().out.startswith("0 data key(s) rewrapped under KEK version 1")  # all are current
    # The demo: Berlin's 40 cases now, 48 of last year and one closed three years ago; Vienna's 12 and 48.
    assert await cli("rotate-kek") == 0
    assert "KEK version 2 is current; 152 data key(s) rewrapped" in capsys.readouterr().out
    assert await cli("rewrap") == 0
    assert capsys.readouterr().out.startswith("0 data key(s) rewrapped under KEK version 2")

    assert await cli("housekeeping") == 0
    assert capsys.readouterr().out.startswith("Removed ")

    supervisor = next(user for user in DEMO_USERS if user.role is Role.SUPERVISOR)
    app = create_app(settings)
    async with running(app), client_from(app) as client:
        # The demo's logins work, and after the rotation every case still opens.
        await login(client, supervisor.username, DEFAULT_DEMO_PASSWORD)
        cases = (await client.get("/api/cases")).json()
        assert cases
        for case in cases:
            assert (await client.get(f"/api/cases/{case['id']}")).status_code == 200
