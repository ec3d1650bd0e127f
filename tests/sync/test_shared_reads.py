"""Pulls' read entries are written together, and every pull's reads are still audited before it is answered.

With many devices of one organisation pulling, their read entries waited for each other on the chain's head in the
database; they now wait in the process and are written in shared transactions (server/audit/shared.py).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import event, select

from server.audit import AuditEntry, Entry, verify_all
from server.audit import shared as shared_module
from server.audit.shared import SHARE_ENTRIES, SharedAppends, _take
from server.db import session_factory
from server.plugin import service_of
from server.records.keyring import Keyring
from server.sync.service import SyncService
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")


def entry(actor: uuid.UUID, case_id: uuid.UUID, record: uuid.UUID) -> Entry:
    return Entry(
        action="sync.pull", outcome="ok", actor_id=actor, device_id=None, case_id=case_id, record_ids=(record,)
    )


async def pulled_entries(app: Litestar) -> list[AuditEntry]:
    async with session_factory(service_of(app, SyncService).engine)() as db:
        found = await db.scalars(select(AuditEntry).where(AuditEntry.action == "sync.pull").order_by(AuditEntry.seq))
        return list(found.all())


async def chains_hold(app: Litestar) -> bool:
    async with session_factory(service_of(app, SyncService).engine)() as db:
        return all(report.ok for report in (await verify_all(db, service_of(app, Keyring).audit)).values())


async def test_every_pull_of_many_at_once_is_audited_with_its_device(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    cases = {
        "worker1": (await supervisor_creates_case(app, org, org.worker1_id))[0],
        "worker2": (await supervisor_creates_case(app, org, org.worker2_id))[0],
    }
    devices: list[tuple[Device, str]] = []
    clients = [client_from(app) for _ in range(6)]
    try:
        for i, c in enumerate(clients):
            name = "worker1" if i % 2 == 0 else "worker2"
            await c.__aenter__()
            device = Device(c, await login(c, name))
            note = new_id()
            await device.push(device.put("note", note, cases[name], {"text": f"Notiz {i}", "visit_id": None}))
            devices.append((device, note))
        before = len(await pulled_entries(app))
        await asyncio.gather(*(device.pull() for device, _ in devices))
        for device, note in devices:
            assert note in device.records
    finally:
        for c in clients:
            await c.__aexit__(None, None, None)

    written = (await pulled_entries(app))[before:]
    by_device = {str(e.device_id): set(e.record_ids) for e in written}
    for device, note in devices:
        # Each pull's own entry, under its own device: the note it was sent among the records it read.
        assert note in by_device[device.device_id]
    assert await chains_hold(app)


async def test_appends_waiting_together_commit_once_in_their_order(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    sync = service_of(app, SyncService)
    reads = SharedAppends(sync.sessions, lambda: service_of(app, Keyring).audit)
    case_id = uuid.uuid4()
    batches = [[entry(uuid.uuid4(), case_id, uuid.uuid4()) for _ in range(i + 1)] for i in range(8)]
    commits: list[object] = []

    def note(connection: object) -> None:
        commits.append(connection)

    event.listen(sync.engine.sync_engine, "commit", note)
    try:
        await asyncio.gather(*(reads.append(org.organisation_id, batch) for batch in batches))
    finally:
        event.remove(sync.engine.sync_engine, "commit", note)
    assert len(commits) == 1
    written = [(e.actor_id, e.record_ids) for e in await pulled_entries(app)]
    assert written == [(e.actor_id, [str(r) for r in e.record_ids]) for batch in batches for e in batch]
    assert await chains_hold(app)


async def test_an_append_that_fails_in_a_shared_transaction_fails_alone(
    app: Litestar, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = service_of(app, SyncService)
    reads = SharedAppends(sync.sessions, lambda: service_of(app, Keyring).audit)
    doomed = uuid.uuid4()
    batches = [[entry(actor, uuid.uuid4(), uuid.uuid4())] for actor in (uuid.uuid4(), doomed, uuid.uuid4())]
    append_many = shared_module.append_many

    async def failing(db: Any, entries: list[Entry], **kwargs: Any) -> None:
        if any(e.actor_id == doomed for e in entries):
            raise RuntimeError("the database went away")
        await append_many(db, entries, **kwargs)

    monkeypatch.setattr(shared_module, "append_many", failing)
    outcomes = await asyncio.gather(
        *(reads.append(org.organisation_id, batch) for batch in batches), return_exceptions=True
    )
    assert [isinstance(o, RuntimeError) for o in outcomes] == [False, True, False]
    assert {e.actor_id for e in await pulled_entries(app)} == {batches[0][0].actor_id, batches[2][0].actor_id}
    assert await chains_hold(app)


def test_a_shared_transaction_takes_a_bounded_share_of_entries() -> None:
    loop = asyncio.new_event_loop()
    try:
        big = [entry(uuid.uuid4(), uuid.uuid4(), uuid.uuid4()) for _ in range(SHARE_ENTRIES + 1)]
        small = [entry(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())]
        waiting = [(small, loop.create_future()), (big, loop.create_future()), (small, loop.create_future())]
        # The first append always goes; one that would pass the share waits for the next transaction, even alone.
        assert [len(e) for e, _ in _take(waiting)] == [1]
        assert [len(e) for e, _ in _take(waiting)] == [SHARE_ENTRIES + 1]
        assert [len(e) for e, _ in _take(waiting)] == [1]
        assert waiting == []
    finally:
        loop.close()
