"""The scope feed (migrations 0024 and 0025): a pull page is one range of it, the database's triggers keep it whatever
writes, and a device's cursor from before either migration goes on where it stopped."""

from __future__ import annotations

import httpx
import pytest
from alembic import command
from litestar import Litestar
from sqlalchemy import Connection

from server.db import create_engine, migrate
from server.db.migrate import alembic_config
from server.settings import Settings
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import case_fields
from tests.support.feed import assert_feed_kept
from tests.support.syncing import Device, new_id

pytestmark = [pytest.mark.database]


def held(device: Device) -> dict[str, tuple[int, object]]:
    return {record_id: (r["version"], r["fields"]) for record_id, r in device.records.items()}


async def migrate_down(url: str, revision: str) -> None:
    """Down to ``revision``: 0024 (the feed keyed by subject and record, with its own triggers) or 0023 (no feed, no
    triggers)."""

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
    finally:
        await engine.dispose()


async def migrate_up(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def test_a_cursor_from_before_the_feed_goes_on_where_it_stopped(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        cases = [new_id() for _ in range(4)]
        notes: list[str] = []
        for case_id in cases:
            mine = [new_id() for _ in range(5)]
            notes += mine
            results = await boss.push(
                boss.put("case", case_id, case_id, case_fields(org, org.worker1_id)),
                *(boss.put("note", n, case_id, {"text": f"Notiz {n[:4]}", "visit_id": None}) for n in mine),
            )
            assert all(r["status"] == "applied" for r in results), results
        # A case that enters the worker's scope later: its older records count from its entry.
        late = new_id()
        await boss.push(boss.put("case", late, late, case_fields(org, org.worker2_id)))
        await boss.pull()
        [moved] = await boss.push(
            boss.put(
                "case", late, late, {"assigned_worker_id": str(org.worker1_id)}, base=boss.records[late]["version"]
            )
        )
        assert moved["status"] == "applied", moved
        await boss.pull()
        [gone] = await boss.push(boss.delete("note", notes[0], cases[0], base=boss.records[notes[0]]["version"]))
        assert gone["status"] == "applied", gone
        await assert_feed_kept(settings.resolved_database_url)

        tablet = Device(client, await login(client, "worker1"))
        for _ in range(3):  # part-way: the cursor stops inside the records of one position
            params = {"limit": 4} | ({"cursor": tablet.cursor} if tablet.cursor else {})
            page = (await client.get("/api/sync/pull", params=params)).json()
            assert page["has_more"]
            tablet.records |= {c["id"]: c for c in page["changes"] if not c["deleted"]}
            tablet.cursor = page["cursor"]

        url = settings.resolved_database_url
        # Back to the feed keyed by subject and record (0025 down): its triggers keep it for new work and deletions,
        # and 0025 up again rebuilds the key from what is there.
        await migrate_down(url, "0024")
        await assert_feed_kept(url)
        between = new_id()
        await boss.push(boss.put("note", between, cases[1], {"text": "Zwischen den Updates", "visit_id": None}))
        [dropped] = await boss.push(boss.delete("note", notes[5], cases[1], base=boss.records[notes[5]]["version"]))
        assert dropped["status"] == "applied", dropped
        await assert_feed_kept(url)
        await migrate_up(url)
        await assert_feed_kept(url)
        # Down to 0023 (no feed at all) and up: the feed is made again from scope and records.
        await migrate_down(url, "0023")
        await migrate_up(url)
        await assert_feed_kept(url)
        # New work after the migration reaches the tablet through the triggers.
        late_note = new_id()
        await boss.push(boss.put("note", late_note, late, {"text": "Nach dem Update", "visit_id": None}))

    await tablet.pull(limit=3)
    fresh = Device(client, await login(client, "worker1"))
    await fresh.pull()
    assert held(tablet) == held(fresh)
    assert late_note in tablet.records
    assert notes[0] not in tablet.records
    assert notes[5] not in tablet.records
    assert between in tablet.records
    # Four cases and their 5 notes, two deleted and one added; the late case and its note.
    assert len(tablet.records) == 4 * 6 - 2 + 1 + 2
    await assert_feed_kept(settings.resolved_database_url)
