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

from server.db import create_engine, session_factory
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.store import RecordStore
from server.settings import Settings
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case
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
