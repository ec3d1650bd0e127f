"""Tombstone compaction: a cursor from before the horizon gets 410 cursor-expired and the device bootstraps."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update

from server.db import create_engine, session_factory
from server.jobs.housekeeping import run_housekeeping
from server.problems import PROBLEM_BASE
from server.records.models import Record
from server.settings import Settings
from tests.support import clock as pinned
from tests.support.accounts import Org, login
from tests.support.cases import supervisor_creates_case
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")


async def test_an_old_cursor_expires_after_compaction_and_a_fresh_bootstrap_is_complete(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    action_id, kept_id = new_id(), new_id()
    await worker.push(
        worker.put("action", action_id, case_id, {"title": "Alt", "due_on": "2026-01-10"}),
        worker.put("action", kept_id, case_id, {"title": "Bleibt", "due_on": "2026-02-10"}),
    )
    await worker.pull()
    stale_cursor = worker.cursor
    [deleted] = await worker.push(worker.delete("action", action_id, case_id, worker.records[action_id]["version"]))
    assert deleted["status"] == "applied"

    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    old = pinned.now() - dt.timedelta(days=settings.tombstone_horizon_days + 1)
    async with sessions() as db:
        await db.execute(update(Record).where(Record.deleted.is_(True)).values(updated_at=old))
        await db.commit()
    report = await run_housekeeping(sessions, settings)
    await engine.dispose()
    assert report.tombstones == 1
    assert report.horizon == deleted["version"]

    expired = await client.get("/api/sync/pull", params={"cursor": stale_cursor})
    assert expired.status_code == 410
    assert expired.json()["type"] == PROBLEM_BASE + "cursor-expired"

    worker.cursor = None
    worker.records = {}
    await worker.pull()
    assert action_id not in worker.records
    assert worker.records[kept_id]["fields"]["title"] == "Bleibt"
    # A cursor at or after the horizon keeps working.
    again = await client.get("/api/sync/pull", params={"cursor": worker.cursor})
    assert again.status_code == 200
