"""Running Doorstep as an organisation does: several server processes on one database (docs/operations.md)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from server.demo import DEFAULT_DEMO_PASSWORD
from tests.support.accounts import login
from tests.support.databases import admin_sql, postgres_url
from tests.support.live import LiveServer
from tests.support.syncing import Device

pytestmark = [pytest.mark.slow]


async def fresh_database(tmp_path: Path) -> str:
    """An empty database nobody has migrated: a new SQLite file, or a new database on this run's PostgreSQL."""
    server_url = postgres_url()
    if server_url is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'shared' / 'doorstep.db'}"
    name = f"doorstep_start_{uuid.uuid4().hex[:10]}"
    await admin_sql(server_url, f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


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
