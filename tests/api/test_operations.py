"""Running Doorstep as an organisation does: several server processes on one database (docs/operations.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import shutil
import stat
import uuid
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from server import app as app_module
from server.app import create_app, create_app_from_env
from server.audit import AuditEntry
from server.cli import main
from server.collector import YOUNG_THRESHOLD
from server.db import create_engine, session_factory
from server.demo import DEFAULT_DEMO_PASSWORD
from server.push.models import PushJob
from server.records.models import BlindIndex, CaseKey, Record, ShreddedCase
from server.records.retention import erase_on
from server.settings import Settings
from tests.support.accounts import Org, login
from tests.support.app import running
from tests.support.cases import supervisor_creates_case
from tests.support.clock import BERLIN, TestClock, calendar_matrix
from tests.support.databases import backup_in, fresh_database
from tests.support.live import LiveServer
from tests.support.pushservice import LocalPushService
from tests.support.syncing import Device, new_id

pytestmark = [pytest.mark.slow]


async def test_three_processes_started_at_once_on_a_fresh_database_all_become_healthy(tmp_path: Path) -> None:
    """Migrations, the first keys and the demo are made by one process while the others wait: every process
    comes up, the demo exists once, and each process reads what the others wrote (one key for all)."""
    url = await fresh_database(tmp_path)
    shared = tmp_path / "shared"  # one data directory: the key files, as several processes of one host share them
    servers = [LiveServer(shared, url, demo=True, name=f"server{i}") for i in range(3)]
    try:
        await asyncio.gather(*(server.start(timeout=180) for server in servers))
        pulled = []
        for server in servers:
            async with httpx.AsyncClient(base_url=server.url) as client:
                device = Device(client, await login(client, "worker1", DEFAULT_DEMO_PASSWORD))
                await device.pull()
                pulled.append(sorted(device.records))
        assert pulled[0], "the demo cases reach the worker"
        assert pulled[0] == pulled[1] == pulled[2]  # one demo, readable through every process
        logs = "".join(server.log.read_text() for server in servers)
        assert logs.count("Demo data created.") == 1
        assert logs.count("demo data left as it is") == 2
        assert "Traceback" not in logs
    finally:
        for server in servers:
            server.stop()


async def test_a_server_process_tunes_its_garbage_collector_once_it_has_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app that uvicorn and ``doorstep serve`` start (``create_app_from_env``) freezes what it holds at
    startup and collects less often (server/collector.py); an app built by ``create_app`` leaves the collector
    alone, as a library should."""
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'doorstep.db'}")
    monkeypatch.setenv("DOORSTEP_ENVIRONMENT", "test")
    monkeypatch.setattr(app_module, "configure_logging", lambda level: None)  # the test run keeps its logging
    before = gc.get_threshold()
    try:
        async with running(create_app(Settings.from_env())):
            assert gc.get_threshold() == before
            assert gc.get_freeze_count() == 0
        served = create_app_from_env()
        assert gc.get_threshold() == before  # not before the process has started
        async with running(served):
            assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
            assert gc.get_freeze_count() > 10_000  # the routes, mappers and statements of the started app
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def push_states(url: str) -> list[str]:
    """The state of every push job, as the database holds it."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            return sorted((await db.scalars(select(PushJob.state))).all())
    finally:
        await engine.dispose()


async def test_the_access_log_names_paths_but_never_what_was_searched_or_asked(tmp_path: Path) -> None:
    """docs/security.md case 55: ``doorstep serve`` logs each request's path, never its query string, and a search
    term travels in a POST body."""
    url = await fresh_database(tmp_path)
    server = LiveServer(tmp_path / "var", url, demo=True)
    try:
        await server.start(timeout=180)
        async with httpx.AsyncClient(base_url=server.url) as office:
            await login(office, "supervisor", DEFAULT_DEMO_PASSWORD)
            assert (await office.get("/api/cases", params={"q": "Kanarienvogel"})).status_code == 400
            assert (await office.post("/api/cases/search", json={"q": "Kanarienvogel"})).status_code == 200
            period = {"start": "2026-01-01", "end": "2026-03-31", "team": "Familienname-Suchwort"}
            await office.get("/api/reports", params=period)
    finally:
        server.stop()
    log = server.log.read_text()
    assert '"GET /api/cases HTTP/1.1" 400' in log  # the access log is on, and names the path
    assert '"POST /api/cases/search HTTP/1.1" 200' in log
    assert '"GET /api/reports HTTP/1.1"' in log
    assert "Kanarienvogel" not in log
    assert "Familienname-Suchwort" not in log
    assert "?" not in "".join(line for line in log.splitlines() if "uvicorn.access" in line)


async def test_two_worker_processes_answer_and_each_push_job_is_sent_once(tmp_path: Path) -> None:
    """``doorstep serve --workers 2``: both processes answer behind one port, and with a dispatcher in each, every
    assigned visit reaches the worker's push service exactly once."""
    url = await fresh_database(tmp_path)
    server = LiveServer(tmp_path / "shared", url, demo=True, workers=2)
    service = LocalPushService()
    try:
        await server.start(timeout=180)
        processes = set()
        asked = 0
        for _ in range(60):  # a new connection each time: the kernel hands it to either process
            async with httpx.AsyncClient(base_url=server.url) as client:
                processes.add((await client.get("/ready")).json()["instance"])
            asked += 1
            if len(processes) == 2:
                break
        assert len(processes) == 2
        # Metrics add up both processes' figures, whichever process answers the scrape.
        async with httpx.AsyncClient(base_url=server.url) as client:
            scraped = (await client.get("/metrics")).text
        assert (
            f'doorstep_http_request_duration_seconds_count{{method="GET",route="/ready",status="200"}} {asked}.0'
            in scraped
        )

        async with httpx.AsyncClient(base_url=server.url) as office, httpx.AsyncClient(base_url=server.url) as tablet:
            worker = Device(tablet, await login(tablet, "worker1", DEFAULT_DEMO_PASSWORD))
            service.server_public_key = (await tablet.get("/api/push/key")).json()["public_key"]
            await service.start()
            subscriber = service.subscriber()
            assert (await tablet.post("/api/push/subscriptions", json=subscriber.subscription())).status_code == 200
            supervisor = Device(office, await login(office, "supervisor", DEFAULT_DEMO_PASSWORD))
            await supervisor.pull()
            case_id = next(r["case_id"] for r in supervisor.records.values() if r["kind"] == "case")
            for day in range(1, 9):
                visit = {"planned_at": f"2027-01-{day:02d}T09:30:00+01:00", "status": "planned"}
                visit["assigned_worker_id"] = worker.user_id
                [result] = await supervisor.push(supervisor.put("visit", str(uuid.uuid4()), case_id, visit))
                assert result["status"] == "applied", result
        # Every job settled as sent: no dispatcher holds a claim any more, so the deliveries are final (a job that
        # a second dispatcher also sent would have arrived before its settlement).
        deadline = asyncio.get_running_loop().time() + 30
        while await push_states(url) != ["sent"] * 8:
            assert asyncio.get_running_loop().time() < deadline, await push_states(url)
            await asyncio.sleep(0.1)
        assert len(service.deliveries) == 8
        assert len({d.payload["id"] for d in service.deliveries}) == 8
    finally:
        server.stop()
        await service.stop()


async def test_a_restored_backup_keeps_erased_cases_erased_and_everything_else_as_it_was(
    app: Litestar,
    client: httpx.AsyncClient,
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    secret = "Kanarienvogel-R3 Sicherung"
    erased, _ = await supervisor_creates_case(app, org, org.worker1_id)
    kept, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    for number, case_id in enumerate((erased, kept), start=1):
        await worker.push(worker.put("note", new_id(), case_id, {"text": secret, "visit_id": None}))
        household = {
            "name": f"Haushalt Kanarienvogel {number}",
            "members": [{"name": f"Kim Kanarienvogel{number}", "relation": "tenant"}],
            "address": {"street": "Vogelweg", "house_number": str(number), "postcode": "10115", "city": "Berlin"},
        }
        (made,) = await worker.push(worker.put("household", new_id(), case_id, household))
        assert made["status"] == "applied"
    await worker.pull()
    assert await index_tokens(settings, erased) > 0
    assert await index_tokens(settings, kept) > 0
    before = await rows_of(settings, kept)

    assert await anyio.to_thread.run_sync(lambda: main(["backup", str(tmp_path / "backups")])) == 0
    backup = backup_in(tmp_path / "backups")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert secret.encode() not in backup.read_bytes()  # ciphertext only
    assert "The keys are not in this backup" in capsys.readouterr().out  # and they are kept apart, it says so
    assert await anyio.to_thread.run_sync(lambda: main(["erase-case", erased])) == 0
    # docs/security.md case 48: the household's keyed tokens go with the case, here and after the restore below.
    assert await index_tokens(settings, erased) == 0

    assert await anyio.to_thread.run_sync(lambda: main(["restore", str(backup)])) == 0
    assert "1 case(s) erased since the backup were erased again" in capsys.readouterr().out
    assert await rows_of(settings, kept) == before  # everything else as it was
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        assert await db.get(CaseKey, uuid.UUID(erased)) is None  # erased again
        assert await db.get(ShreddedCase, uuid.UUID(erased)) is not None
        blobs = (await db.scalars(select(Record.blob).where(Record.case_id == uuid.UUID(erased)))).all()
    await engine.dispose()
    assert blobs
    assert set(blobs) == {None}
    assert await index_tokens(settings, erased) == 0
    assert await index_tokens(settings, kept) > 0
    # The tablet's cursor names a moment the restored database has passed again: it sends, then loads anew.
    stale = await client.get("/api/sync/pull", params={"cursor": worker.cursor})
    assert stale.status_code == 410
    fresh = Device(client, await login(client, "worker1"))
    await fresh.pull()
    assert {r["case_id"] for r in fresh.records.values()} == {kept}
    assert [r["fields"]["text"] for r in fresh.records.values() if r["kind"] == "note"] == [secret]


async def index_tokens(settings: Settings, case_id: str) -> int:
    """How many blind-index tokens (keyed hashes of address and surnames) the database holds for a case."""
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        count = await db.scalar(
            select(func.count()).select_from(BlindIndex).where(BlindIndex.case_id == uuid.UUID(case_id))
        )
    await engine.dispose()
    return int(count or 0)


async def rows_of(settings: Settings, case_id: str) -> list[tuple[object, ...]]:
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        rows = (
            await db.execute(
                select(Record.id, Record.kind, Record.version, Record.deleted, Record.blob)
                .where(Record.case_id == uuid.UUID(case_id))
                .order_by(Record.id)
            )
        ).all()
        key = await db.scalar(select(CaseKey.wrapped).where(CaseKey.case_id == uuid.UUID(case_id)))
    await engine.dispose()
    return [tuple(row) for row in rows] + [("key", key)]


@calendar_matrix
async def test_closed_cases_are_erased_when_their_retention_ends_and_past_years_keep_their_figures(
    app: Litestar,
    client: httpx.AsyncClient,
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: TestClock,
) -> None:
    """Three years after the approval of the closing (the default), announced a month ahead, listed by --dry-run,
    erased and audited; the report of the year the case was closed in counts it as before. Each case is closed on
    its day (the server records the approval then), and housekeeping ran a month ago and again later."""
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    today = clock.today()
    old = today.replace(year=today.year - 4, day=min(today.day, 28))  # erased now
    soon = today.replace(year=today.year - 3, day=min(today.day, 28)) + dt.timedelta(days=10)  # within the month
    recent = today.replace(year=today.year - 2, day=min(today.day, 28))  # kept

    def closed(on: dt.date, outcome: str) -> dict[str, Any]:
        opened = (on - dt.timedelta(days=60)).isoformat()
        return {"status": "closed", "opened_on": opened, "closed_on": on.isoformat(), "outcome": outcome}

    async def close_on(on: dt.date, outcome: str) -> str:
        clock.travel(dt.datetime.combine(on, dt.time(12), tzinfo=BERLIN))
        case_id, _ = await supervisor_creates_case(app, org, org.worker1_id, **closed(on, outcome))
        return case_id

    now = clock.now()
    gone = await close_on(old, "secured_benefit")
    announced = await close_on(soon, "secured")
    await close_on(recent, "lost_housed")
    # A month ago the old case's period had long ended, but it had never been announced: it is announced, not erased.
    clock.travel(now - dt.timedelta(days=30))
    assert await anyio.to_thread.run_sync(lambda: main(["retention"])) == 0
    assert "0 closed case(s) erased" in capsys.readouterr().out
    # Housekeeping announced the next case the day it came within the month.
    clock.travel(now + (erase_on(soon, 3) - today) - dt.timedelta(days=30))
    assert await anyio.to_thread.run_sync(lambda: main(["retention"])) == 0
    assert "0 closed case(s) erased" in capsys.readouterr().out
    clock.travel(now)
    worker = Device(client, await login(client, "worker1"))
    for minutes in (30, 45):
        at = dt.datetime.combine(old - dt.timedelta(days=20), dt.time(10), tzinfo=dt.UTC).isoformat()
        contact = {"channel": "home_visit", "at": at, "duration_minutes": minutes}
        await worker.push(worker.put("contact", new_id(), gone, contact))
    await worker.pull()
    # The erased case's time with the team, from its opening to its closing (on some days that crosses a new year).
    year = {"start": (old - dt.timedelta(days=60)).isoformat(), "end": old.isoformat()}

    await login(client, "supervisor")
    before = (await client.get("/api/reports", params=year)).json()
    assert (before["closed_cases"], before["outcomes"]["secured_benefit"], before["contacts_total"]) == (1, 1, 2)
    notice = (await client.get("/api/retention")).json()
    assert (notice["years"], notice["notice_days"]) == (3, 30)
    assert [d["case_id"] for d in notice["due"]] == [gone, announced]  # the overdue one and the one in a month
    assert notice["due"][0]["erase_on"] == today.isoformat()  # a month after it was announced
    assert notice["due"][1]["erase_on"] == erase_on(soon, 3).isoformat()
    await login(client, "worker1")
    assert (await client.get("/api/retention")).status_code == 403  # the supervisor's dashboard

    assert await anyio.to_thread.run_sync(lambda: main(["retention", "--dry-run"])) == 0
    listed = capsys.readouterr().out
    assert gone in listed
    assert announced not in listed
    assert await anyio.to_thread.run_sync(lambda: main(["retention"])) == 0
    assert "1 closed case(s) erased" in capsys.readouterr().out

    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        assert await db.get(CaseKey, uuid.UUID(gone)) is None
        assert await db.get(CaseKey, uuid.UUID(announced)) is not None
        audited = (await db.scalars(select(AuditEntry.action).where(AuditEntry.action == "case.retention"))).all()
    await engine.dispose()
    assert audited == ["case.retention"]
    assert gone in {r["case_id"] for r in worker.records.values()}
    await worker.pull()  # the tablet purges the erased case
    assert gone not in {r["case_id"] for r in worker.records.values()}

    await login(client, "supervisor")
    after = (await client.get("/api/reports", params=year)).json()
    for figure in ("closed_cases", "households_supported", "new_cases", "contacts_total", "kept_rate"):
        assert after[figure] == before[figure], figure
    assert after["outcomes"] == before["outcomes"]
    assert after["funder"]["counselling_minutes"] == before["funder"]["counselling_minutes"] == 75


async def test_a_backup_is_never_readable_by_others_while_it_is_written(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str
) -> None:
    """docs/security.md case 52: the file is 0600 from the moment it exists. On PostgreSQL the real pg_dump runs
    behind a wrapper that notes the dump's mode as pg_dump leaves it, before the command could tighten it."""
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("UMASK_SEEN", str(tmp_path / "seen"))
    if backend == "postgresql":
        real = shutil.which("pg_dump") or next(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), None)
        assert real is not None, "pg_dump is part of the PostgreSQL run"
        wrapper = tmp_path / "bin" / "pg_dump"
        wrapper.parent.mkdir()
        wrapper.write_text(
            "#!/bin/sh\n"
            f'"{real}" "$@" || exit $?\n'
            'for arg in "$@"; do case "$arg" in --file=*) stat -c %a "${arg#--file=}" > "$UMASK_SEEN";; esac; done\n'
        )
        wrapper.chmod(0o755)
        monkeypatch.setenv("PATH", f"{wrapper.parent}:{os.environ['PATH']}")
    assert await anyio.to_thread.run_sync(lambda: main(["backup", str(tmp_path / "backups")])) == 0
    backup, erased_list = sorted((tmp_path / "backups").iterdir(), key=lambda path: path.suffix == ".erased")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(erased_list.stat().st_mode) == 0o600  # the list of erased cases written beside it
    if backend == "postgresql":
        assert (tmp_path / "seen").read_text().strip() == "600"
