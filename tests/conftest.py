"""Shared fixtures: one migrated database per test, on SQLite or on PostgreSQL.

The backend is chosen for the whole run: ``DOORSTEP_TEST_DATABASE_URL`` names a PostgreSQL server database
(``make test`` starts one and runs the suite a second time against it); without it, every test gets its own
SQLite file. The same tests run on both, as one contract suite.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server.app import create_app
from server.auth.models import Role, User
from server.auth.passwords import hash_password_sync
from server.auth.service import create_team
from server.db import Base, create_engine, migrate, session_factory
from server.settings import Settings

PASSWORD = "correct horse battery"
BASE_URL = "http://127.0.0.1"


def _postgres_url() -> str | None:
    return os.environ.get("DOORSTEP_TEST_DATABASE_URL") or None


def pytest_report_header() -> str:
    url = _postgres_url()
    return f"doorstep database backend: {'postgresql ' + make_url(url).render_as_string() if url else 'sqlite'}"


@pytest.fixture(scope="session")
def backend() -> str:
    """``"sqlite"`` or ``"postgresql"``: which database this run tests."""
    return "postgresql" if _postgres_url() else "sqlite"


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database the per-test databases are made from (an SQLite file or a PostgreSQL database)."""
    server_url = _postgres_url()
    if server_url is None:
        path = tmp_path_factory.mktemp("template") / "doorstep.db"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(_migrate(url))
        yield url
        return
    name = f"doorstep_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_sql(server_url, f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(_migrate(url))
        yield url
    finally:
        asyncio.run(_admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def _admin_sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


# Single-row tables that migrations seed: reset, not emptied.
_COUNTERS = {
    "sync_clock": "UPDATE sync_clock SET seq = 0, horizon = 0",
    "audit_head": f"UPDATE audit_head SET seq = 0, hash = '{'0' * 64}'",
}


async def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    try:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name not in _COUNTERS)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            for statement in _COUNTERS.values():
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def database_url(template_database: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if template_database.startswith("sqlite"):
        source = Path(make_url(template_database).database or "")
        target = tmp_path / "doorstep.db"
        shutil.copyfile(source, target)
        return f"sqlite+aiosqlite:///{target}"
    await _truncate_all(template_database)
    return template_database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings: the per-test database, a private data directory, migrations already applied."""
    return Settings(
        data_dir=str(tmp_path / "var"),
        database_url=database_url,
        environment="test",
        migrate_on_start=False,
        housekeeping_interval_seconds=0,
    )


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The app under test, built the way production builds it."""
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process, in the test's event loop, with the app's lifespan run.

    (Litestar's test client runs the app in a second event loop, which asyncpg connections do not survive.)
    """
    async with running(app), client_from(app) as test_client:
        yield test_client


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[Litestar]:
    """Run ``app``'s lifespan in a task of its own, so that pytest may tear it down from another task."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    await asyncio.wait([task, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # startup failed: raise its error here
    try:
        yield app
    finally:
        stop.set()
        await task


def client_from(app: Litestar, address: str = "127.0.0.1", base_url: str = BASE_URL) -> httpx.AsyncClient:
    """Another client on the app of :func:`client`, whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@dataclass(frozen=True)
class Org:
    """The accounts every API test can log in with (all with :data:`PASSWORD`)."""

    team_id: uuid.UUID
    other_team_id: uuid.UUID
    supervisor_id: uuid.UUID
    worker1_id: uuid.UUID
    worker2_id: uuid.UUID
    other_worker_id: uuid.UUID
    other_supervisor_id: uuid.UUID
    admin_id: uuid.UUID


@pytest.fixture(scope="session")
def password_hash() -> str:
    """:data:`PASSWORD` hashed once per run (Argon2id is slow on purpose)."""
    return hash_password_sync(PASSWORD)


@pytest.fixture
async def org(settings: Settings, password_hash: str) -> Org:
    """Team Nord (supervisor, worker1, worker2), Team Süd (supervisor2, worker3), and an admin."""
    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    try:
        nord = await create_team(sessions, "Team Nord")
        sued = await create_team(sessions, "Team Süd")

        async def user(name: str, role: Role, team: uuid.UUID | None) -> uuid.UUID:
            async with sessions() as db:
                created = User(
                    username=name,
                    display_name=name.title(),
                    role=role,
                    team_id=team,
                    password_hash=password_hash,
                )
                db.add(created)
                await db.commit()
                return created.id

        return Org(
            team_id=nord.id,
            other_team_id=sued.id,
            supervisor_id=await user("supervisor", Role.SUPERVISOR, nord.id),
            worker1_id=await user("worker1", Role.WORKER, nord.id),
            worker2_id=await user("worker2", Role.WORKER, nord.id),
            other_worker_id=await user("worker3", Role.WORKER, sued.id),
            other_supervisor_id=await user("supervisor2", Role.SUPERVISOR, sued.id),
            admin_id=await user("admin", Role.ADMIN, None),
        )
    finally:
        await engine.dispose()


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, device_id: str | None = None
) -> dict[str, object]:
    """Log in and set the client's default CSRF header; returns the login body."""
    response = await client.post(
        "/api/auth/login",
        json={
            "username": username,
            "password": password,
            "device_name": "Test-Tablet",
            "device_id": device_id,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    client.headers["X-CSRF-Token"] = str(body["csrf_token"])
    return body
