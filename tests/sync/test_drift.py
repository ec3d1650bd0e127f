"""The drift check (docs/sync-protocol.md, drift check): a device names a digest per case it holds; the server sends
back whole the cases that differ, and names the cases to drop."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from litestar import Litestar

from server.sync.drift import case_digest
from tests.support.accounts import Org, login
from tests.support.cases import supervisor_creates_case
from tests.support.syncing import Device, new_id


def digests(device: Device) -> dict[str, str]:
    """What ``device`` holds, per case, as the tablet computes it."""
    by_case: dict[str, list[tuple[uuid.UUID, int]]] = {}
    for record in device.records.values():
        by_case.setdefault(record["case_id"], []).append((uuid.UUID(record["id"]), record["version"]))
    return {case_id: case_digest(held) for case_id, held in by_case.items()}


async def check(device: Device, cases: dict[str, str]) -> dict[str, Any]:
    response = await device.client.post("/api/sync/check", json={"held": cases})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_device_that_holds_what_the_server_has_gets_nothing_back(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.push(*(worker.put("note", new_id(), case_id, {"text": f"n{i}", "visit_id": None}) for i in range(3)))
    await worker.pull()
    assert await check(worker, digests(worker)) == {"changes": [], "purge": [], "differ": [], "more": False}


async def test_a_case_that_differs_comes_back_whole_and_a_case_out_of_scope_is_dropped(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    other_case, _ = await supervisor_creates_case(app, org, org.worker1_id, title="Zweiter Fall")
    worker = Device(client, await login(client, "worker1"))
    await worker.push(*(worker.put("note", new_id(), case_id, {"text": f"n{i}", "visit_id": None}) for i in range(3)))
    await worker.pull()
    held = digests(worker)
    # One record of the first case no longer opens on the tablet: it is left out of that case's digest.
    damaged = next(r for r in worker.records.values() if r["case_id"] == case_id and r["kind"] == "note")
    kept = [(uuid.UUID(r["id"]), r["version"]) for r in worker.records.values() if r["case_id"] == case_id]
    held[case_id] = case_digest([item for item in kept if str(item[0]) != damaged["id"]])
    # And the tablet still holds a case that is not (or no longer) in its scope.
    stray = str(uuid.uuid4())
    held[stray] = case_digest([(uuid.uuid4(), 1)])
    # And it lacks the second case entirely.
    del held[other_case]

    answer = await check(worker, held)
    assert sorted(answer["differ"]) == sorted([case_id, other_case])
    assert answer["purge"] == [stray]
    assert not answer["more"]
    expected = {r["id"]: r["version"] for r in worker.records.values() if r["case_id"] in (case_id, other_case)}
    assert {c["id"]: c["version"] for c in answer["changes"]} == expected
    repaired = next(c for c in answer["changes"] if c["id"] == damaged["id"])
    assert repaired["fields"] == damaged["fields"]


async def test_a_digest_that_is_not_sha256_hex_is_refused(app: Litestar, client: httpx.AsyncClient, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    await login(client, "worker1")
    response = await client.post("/api/sync/check", json={"held": {case_id: "not-a-digest"}})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/validation")


async def test_a_check_that_is_not_a_map_of_cases_is_refused(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    await login(client, "worker1")
    for body in ({"held": [None, None]}, {"held": {"not-a-uuid": "0" * 64}}, {"held": None}, []):
        response = await client.post("/api/sync/check", json=body)
        assert response.status_code == 400, (body, response.text)
