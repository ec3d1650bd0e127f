"""Guarantees 1 and 2 under faults: a proxy that drops connections at random points, and kill -9 of the server.

Both run a real uvicorn process on this run's database (an SQLite file, or PostgreSQL), with devices that retry a
batch with the same mids until they get an answer, as the protocol tells clients to.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from server.auth.models import Role, User
from server.auth.passwords import hash_password
from server.auth.service import create_team
from server.db import create_engine, migrate, session_factory
from tests.support.accounts import PASSWORD
from tests.support.live import LiveServer
from tests.support.syncing import Device, new_id

DEVICES = 3
MUTATIONS = 300
BATCH = 20


class DroppingProxy:
    """A loopback TCP proxy that, for a share of connections, fails in one of three places."""

    def __init__(self, upstream_port: int, failure_rate: float, seed: int) -> None:
        self.upstream_port = upstream_port
        self.failure_rate = failure_rate
        self.rng = random.Random(seed)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.failures = {"before-request": 0, "after-commit": 0, "mid-response": 0}

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            # wait_closed waits for every open connection too: a connection that hangs must fail the test, not stall it.
            await asyncio.wait_for(self.server.wait_closed(), timeout=30)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mode = None
        if self.rng.random() < self.failure_rate:
            mode = self.rng.choice(list(self.failures))
            self.failures[mode] += 1
        try:
            if mode == "before-request":
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            pipes = [
                asyncio.create_task(self._pipe(reader, up_writer, None)),
                asyncio.create_task(self._pipe(up_reader, writer, mode)),
            ]
            try:
                # When the response side ends (or fails on purpose), the connection is over for both sides.
                await asyncio.wait([pipes[1]], timeout=60)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
                up_writer.close()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, mode: str | None) -> None:
        first = True
        while data := await source.read(65536):
            if mode == "after-commit" and first:
                return  # the server answered (it committed); the client never hears it
            if mode == "mid-response" and first:
                sink.write(data[: max(1, len(data) // 2)])
                await sink.drain()
                return
            first = False
            sink.write(data)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()


async def seed(url: str) -> None:
    engine = create_engine(url)
    await migrate(engine)
    sessions = session_factory(engine)
    team = await create_team(sessions, "Team Nord")
    async with sessions() as db:
        for name, role in (("supervisor", Role.SUPERVISOR), ("worker1", Role.WORKER)):
            db.add(
                User(
                    username=name,
                    display_name=name,
                    role=role,
                    team_id=team.id,
                    password_hash=await hash_password(PASSWORD),
                )
            )
        await db.commit()
    await engine.dispose()


async def device_on(base_url: str) -> Device:
    client = httpx.AsyncClient(base_url=base_url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))
    for _ in range(50):
        try:
            response = await client.post(
                "/api/auth/login", json={"username": "worker1", "password": PASSWORD, "device_name": "T"}
            )
            break
        except httpx.TransportError:
            continue
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return Device(client, response.json())


async def push_until_answered(
    device: Device, mutations: list[dict[str, Any]], attempts: int = 100
) -> list[dict[str, Any]]:
    """Retry the same batch (same mids) until an answer arrives: guarantee 2 makes that safe."""
    for _ in range(attempts):
        try:
            response = await device.push_raw(mutations)
        except httpx.TransportError:
            await asyncio.sleep(0.01)
            continue
        if response.status_code >= 500:
            await asyncio.sleep(0.05)
            continue
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results
    raise AssertionError("no answer after many attempts")


async def supervisor_case(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        login = (await client.post("/api/auth/login", json={"username": "supervisor", "password": PASSWORD})).json()
        client.headers["X-CSRF-Token"] = login["csrf_token"]
        users = (await client.get("/api/users")).json()
        worker = next(u["id"] for u in users if u["username"] == "worker1")
        device = Device(client, login)
        case_id = new_id()
        [result] = await device.push(
            device.put(
                "case",
                case_id,
                case_id,
                {
                    "team_id": login["user"]["team_id"],
                    "assigned_worker_id": worker,
                    "type": "rent_arrears",
                    "status": "open",
                    "risk": "low",
                    "title": "Fall",
                },
            )
        )
        assert result["status"] == "applied"
        return case_id


@pytest.mark.slow
async def test_dropped_connections_lose_nothing_and_duplicate_nothing(tmp_path: Path, database_url: str) -> None:
    url = database_url
    await seed(url)
    server = LiveServer(tmp_path / "var", url)
    await server.start()
    proxy = DroppingProxy(server.port, failure_rate=0.25, seed=7)
    await proxy.start()
    try:
        case_id = await supervisor_case(server.url)
        devices = [await device_on(f"http://127.0.0.1:{proxy.port}") for _ in range(DEVICES)]
        first_results: dict[tuple[int, int], dict[str, Any]] = {}
        notes: set[str] = set()

        async def work(index: int, device: Device) -> None:
            for start in range(0, MUTATIONS, BATCH):
                batch = []
                for _ in range(BATCH):
                    note_id = new_id()
                    notes.add(note_id)
                    batch.append(device.put("note", note_id, case_id, {"text": f"d{index}", "visit_id": None}))
                results = await push_until_answered(device, batch)
                assert [r["status"] for r in results] == ["applied"] * BATCH
                for r in results:
                    first_results[(index, r["mid"])] = r
                # Replay an acknowledged batch now and then: the answer must be the first one again.
                if start % 100 == 0:
                    assert await push_until_answered(device, batch) == results

        await asyncio.wait_for(asyncio.gather(*(work(i, d) for i, d in enumerate(devices))), timeout=180)
        assert sum(proxy.failures.values()) > 20
        assert all(proxy.failures.values())
        observer = await device_on(server.url)
        await observer.pull()
        held = [k for k, v in observer.records.items() if v["kind"] == "note"]
        assert len(held) == len(set(held)) == DEVICES * MUTATIONS
        assert set(held) == notes
        assert not [v for v in observer.records.values() if v["kind"] == "conflict"]
        versions = [r["version"] for r in first_results.values()]
        assert len(versions) == len(set(versions)) == DEVICES * MUTATIONS
        for device in devices:
            await device.client.aclose()
        await observer.client.aclose()
    finally:
        await proxy.stop()
        server.stop()


@pytest.mark.slow
async def test_kill_9_in_the_middle_of_a_push_load_loses_no_acknowledged_mutation(
    tmp_path: Path, database_url: str, backend: str
) -> None:
    url = database_url
    await seed(url)
    server = LiveServer(tmp_path / "var", url)
    await server.start()
    case_id = await supervisor_case(server.url)
    devices = [await device_on(server.url) for _ in range(DEVICES)]
    acknowledged: set[str] = set()
    sent: set[str] = set()
    stop = asyncio.Event()

    async def load(device: Device) -> None:
        while not stop.is_set():
            batch = [device.put("note", new_id(), case_id, {"text": "x" * 500, "visit_id": None}) for _ in range(BATCH)]
            sent.update(m["id"] for m in batch)
            try:
                response = await device.push_raw(batch)
            except httpx.TransportError:
                return
            if response.status_code == 200:
                acknowledged.update(m["id"] for m in batch)

    tasks = [asyncio.create_task(load(d)) for d in devices]
    deadline = asyncio.get_running_loop().time() + 60
    while len(acknowledged) < 400:
        # A device whose push failed has stopped; with every device stopped nothing more can be acknowledged.
        if all(task.done() for task in tasks) or asyncio.get_running_loop().time() > deadline:
            server.kill()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise AssertionError(f"only {len(acknowledged)} notes acknowledged before the load stopped")
        await asyncio.sleep(0.02)
    server.kill()
    stop.set()
    await asyncio.gather(*tasks)
    for device in devices:
        await device.client.aclose()

    if backend == "sqlite":
        connection = sqlite3.connect(make_url(url).database or "")
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            connection.close()
    await server.start()
    try:
        observer = await device_on(server.url)
        await observer.pull()
        held = {k for k, v in observer.records.items() if v["kind"] == "note"}
        assert acknowledged <= held
        assert held <= sent
        await observer.client.aclose()
    finally:
        server.stop()
