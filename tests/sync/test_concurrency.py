"""Guarantee 3: with eight concurrent writers, a puller pulling in a loop misses no change.

On PostgreSQL the writers are real concurrent transactions on separate connections; the puller must end
with exactly the database's state, every record at its last version.
"""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import event

from server.db import create_engine, session_factory
from server.plugin import service_of
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.store import RecordStore
from server.settings import Settings
from server.sync.service import SyncService
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case
from tests.support.databases import postgres_url
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")

WRITERS = 8
BATCHES = 12


async def writer(app: Litestar, username: str, case_ids: list[str], seed: int) -> int:
    rng = random.Random(seed)
    async with client_from(app) as c:
        device = Device(c, await login(c, username))
        await device.pull()
        written = 0
        for _ in range(BATCHES):
            mutations = [
                device.put("note", new_id(), rng.choice(case_ids), {"text": f"Notiz {rng.random()}", "visit_id": None})
                for _ in range(rng.randint(1, 4))
            ]
            case_id = rng.choice(case_ids)
            if case_id in device.records:
                mutations.append(
                    device.put(
                        "case",
                        case_id,
                        case_id,
                        {"risk": rng.choice(["low", "medium", "high", "acute"])},
                        base=device.records[case_id]["version"],
                    )
                )
            results = await device.push(*mutations)
            written += sum(r["status"] in ("applied", "conflict") for r in results)
            if rng.random() < 0.3:
                await device.pull()
            await asyncio.sleep(0)
        return written


async def test_a_looping_puller_ends_with_every_change_of_eight_concurrent_writers(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    cases_1 = [(await supervisor_creates_case(app, org, org.worker1_id))[0] for _ in range(3)]
    cases_2 = [(await supervisor_creates_case(app, org, org.worker2_id))[0] for _ in range(3)]
    puller = Device(client, await login(client, "supervisor"))
    done = asyncio.Event()
    pulls = 0

    async def pull_loop() -> None:
        nonlocal pulls
        while not done.is_set():
            await puller.pull(limit=25)
            pulls += 1
            await asyncio.sleep(0.005)

    loop = asyncio.create_task(pull_loop())
    writes = await asyncio.gather(
        *(writer(app, "worker1" if i % 2 else "worker2", cases_1 if i % 2 else cases_2, i) for i in range(WRITERS))
    )
    done.set()
    await loop
    await puller.pull(limit=25)
    assert sum(writes) > WRITERS * BATCHES
    assert pulls > 3

    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    async with session_factory(engine)() as db:
        store = RecordStore(db, keyring)
        rows = await store.select(Record.deleted.is_(False))
        truth = {str(r.id): (r.version, r.fields) for r in await store.decrypt(rows)}
        assert len(truth) == len(rows) > 6
    await engine.dispose()
    held = {k: (v["version"], v["fields"]) for k, v in puller.records.items()}
    assert held == truth


async def test_a_second_burst_of_pulls_opens_no_database_connection(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    """Forty pulls at once, twice: the second burst finds the connections the first one opened, rather than paying
    for new ones (a process forked by the database for each, every statement prepared again)."""
    if postgres_url() is None:
        pytest.skip("SQLite opens no connections over a network: the PostgreSQL run of make test runs this")
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    device = Device(client, await login(client, "worker1"))
    await device.push(device.put("note", new_id(), case_id, {"text": "Notiz", "visit_id": None}))
    opened = 0

    def count(*_: object) -> None:
        nonlocal opened
        opened += 1

    engine = service_of(app, SyncService).engine.sync_engine
    event.listen(engine, "connect", count)
    try:
        for burst in range(2):
            opened = 0
            pages = await asyncio.gather(*(client.get("/api/sync/pull") for _ in range(40)))
            assert all(page.status_code == 200 and page.json()["changes"] for page in pages)
            if burst == 0:
                assert opened > 2  # the burst was one: it needed connections side by side
        assert opened == 0
    finally:
        event.remove(engine, "connect", count)
