"""Pushes that wait together share a transaction, and each ends exactly as it would alone.

Notes, contacts and the like of one organisation's devices, waiting in the same process, are applied in one
transaction: the organisation's clock is taken and committed once for them (docs/sync-protocol.md, "Pushes that
wait together"). What a device sees must not change: every mutation its result, versions without gaps in the order
the pushes were taken, the stored results for a replay, the audit chain whole, and a failing push failing alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import event

from server.audit import verify_all
from server.auth.models import Role
from server.auth.schemas import Principal
from server.db import session_factory
from server.plugin import service_of
from server.records.keyring import Keyring
from server.sync import push as push_module
from server.sync.messages import PushRequest
from server.sync.service import SHARE_PUSHES, SyncService, _take_pushes
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")

TABLETS = 6  # three for each of the two workers


class Tablet(msgspec.Struct):
    """A logged-in device pushing to its worker's case through the sync service."""

    principal: Principal
    case_id: str
    mid: int = 0

    def request(self, *texts: str) -> PushRequest:
        mutations = []
        for text in texts:
            self.mid += 1
            mutations.append(
                {
                    "op": "put",
                    "mid": self.mid,
                    "kind": "note",
                    "id": new_id(),
                    "case_id": self.case_id,
                    "base_version": None,
                    "fields": {"text": text, "visit_id": None},
                }
            )
        return PushRequest(device_id=self.principal.device_id, mutations=mutations)


async def tablets(app: Litestar, org: Org) -> list[Tablet]:
    cases = {
        "worker1": (await supervisor_creates_case(app, org, org.worker1_id))[0],
        "worker2": (await supervisor_creates_case(app, org, org.worker2_id))[0],
    }
    made = []
    for i in range(TABLETS):
        name = "worker1" if i % 2 == 0 else "worker2"
        async with client_from(app) as c:
            body: Any = await login(c, name)
        principal = Principal(
            user_id=uuid.UUID(body["user"]["id"]),
            username=name,
            display_name=body["user"]["display_name"],
            role=Role.WORKER,
            team_id=org.team_id,
            device_id=uuid.UUID(body["device_id"]),
            session_id=uuid.uuid4(),
            csrf_token="",
            organisation_id=org.organisation_id,
        )
        made.append(Tablet(principal, cases[name]))
    return made


@contextlib.contextmanager
def commits_counted(app: Litestar) -> Iterator[list[object]]:
    """Yields a list that gets an item for every transaction the app's database commits meanwhile."""
    commits: list[object] = []
    engine = service_of(app, SyncService).engine.sync_engine

    def note(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", note)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", note)


async def test_pushes_that_wait_together_commit_once_and_each_ends_as_alone(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    sync = service_of(app, SyncService)
    devices = await tablets(app, org)
    requests = [device.request(f"Besuch {i}", f"Anruf {i}", f"Brief {i}") for i, device in enumerate(devices)]
    with commits_counted(app) as commits:
        answers = await asyncio.gather(*(sync.push(d.principal, r) for d, r in zip(devices, requests, strict=True)))
    # Six pushes, one transaction: the clock was taken and committed once for all of them.
    assert len(commits) == 1
    results = [result for answer in answers for result in answer.results]
    assert [r.status for r in results] == ["applied"] * 3 * TABLETS
    versions = [r.version for r in results if r.version is not None]
    # In the order the pushes were taken, without a gap: as six pushes one after the other would have left them.
    assert versions == list(range(versions[0], versions[0] + 3 * TABLETS))
    assert [answer.last_mid for answer in answers] == [3] * TABLETS

    # Each device's replay gets its own stored results, and changes nothing.
    again = await sync.push(devices[4].principal, requests[4])
    assert again.results == answers[4].results

    # Each worker pulls the notes of all their tablets, and the audit chain holds every entry.
    for name, tablets_of in (("worker1", devices[0::2]), ("worker2", devices[1::2])):
        async with client_from(app) as c:
            worker = Device(c, await login(c, name))
            await worker.pull()
        texts = {r["fields"].get("text") for r in worker.records.values() if r["kind"] == "note"}
        assert texts == {f"{kind} {devices.index(t)}" for t in tablets_of for kind in ("Besuch", "Anruf", "Brief")}
    async with session_factory(sync.engine)() as db:
        assert all(report.ok for report in (await verify_all(db, service_of(app, Keyring).audit)).values())


async def test_a_push_that_fails_in_a_shared_transaction_fails_alone(
    app: Litestar, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = service_of(app, SyncService)
    devices = (await tablets(app, org))[:4]
    requests = [device.request(f"Notiz {i}") for i, device in enumerate(devices)]
    doomed = requests[2].mutations[0]["id"]
    apply = push_module.apply

    async def failing(batch: Any, mutation: Any) -> Any:
        if str(getattr(mutation, "id", "")) == doomed:
            raise RuntimeError("the database went away")
        return await apply(batch, mutation)

    monkeypatch.setattr(push_module, "apply", failing)
    outcomes = await asyncio.gather(
        *(sync.push(d.principal, r) for d, r in zip(devices, requests, strict=True)), return_exceptions=True
    )
    assert isinstance(outcomes[2], RuntimeError)
    for i in (0, 1, 3):
        answer = outcomes[i]
        assert not isinstance(answer, BaseException)
        assert [r.status for r in answer.results] == ["applied"]

    # Nothing of the failed push was kept: sent again, it is applied as new, not answered from a stored result.
    monkeypatch.setattr(push_module, "apply", apply)
    retried = await sync.push(devices[2].principal, requests[2])
    assert [r.status for r in retried.results] == ["applied"]
    assert retried.last_mid == 1


def job(device: uuid.UUID, *, shareable: bool = True) -> push_module.Prepared:
    principal = Principal(
        user_id=uuid.uuid4(),
        username="w",
        display_name="W",
        role=Role.WORKER,
        team_id=None,
        device_id=device,
        session_id=uuid.uuid4(),
        csrf_token="",
    )
    return push_module.Prepared(principal, [], None, shareable=shareable)


async def test_a_shared_transaction_keeps_each_devices_pushes_in_order() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # b's first push changes a case: it goes alone, and b's second push must not go ahead of it.
    first_a, first_b, second_b, first_c, second_a = (
        job(a),
        job(b, shareable=False),
        job(b),
        job(c),
        job(a),
    )
    waiting = [first_a, first_b, second_b, first_c, second_a]
    assert _take_pushes(waiting) == [first_a, first_c]
    assert _take_pushes(waiting) == [first_b]
    assert _take_pushes(waiting) == [second_b, second_a]
    assert waiting == []


async def test_a_shared_transaction_takes_a_bounded_share() -> None:
    waiting = [job(uuid.uuid4()) for _ in range(SHARE_PUSHES + 5)]
    assert len(_take_pushes(waiting)) == SHARE_PUSHES
    assert len(_take_pushes(waiting)) == 5
