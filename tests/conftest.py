"""Shared fixtures: one migrated database per test, on SQLite or on PostgreSQL.

The backend is chosen for the whole run: ``DOORSTEP_TEST_DATABASE_URL`` names a PostgreSQL server database
(``make test`` starts one and runs the suite a second time against it); without it, every test gets its own
SQLite file. The same tests run on both, as one contract suite.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.engine import make_url

from server.app import create_app
from server.auth.passwords import hash_password_sync
from server.settings import Settings
from tests.support.accounts import PASSWORD, Org, create_org
from tests.support.app import client_from, running
from tests.support.clock import ORDINARY_DAY, TestClock, pin, unpin
from tests.support.databases import admin_sql, migrate_url, postgres_url, truncate_all

# Folders whose every test reads or writes a database. Elsewhere a test counts as one when it is given a database
# (the ``database_url`` fixture, directly or through ``settings``, ``app``, ``client``, ``org``), or says so with
# the ``database`` marker because it reaches the database server by its own means.
DATABASE_FOLDERS = {"api", "sync"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what touches a database (``make test`` runs those again on PostgreSQL) and what drives a browser."""
    for item in items:
        folder = item.path.parent.name
        if folder == "browser":
            item.add_marker(pytest.mark.browser)
            # In the event loop of the test process's one Chromium (tests/browser/conftest.py), before the marker
            # the asyncio plugin gave every test.
            if inspect.iscoroutinefunction(getattr(item, "function", None)):
                item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)
        fixtures = getattr(item, "fixturenames", ())
        if (folder in DATABASE_FOLDERS or "database_url" in fixtures) and not item.get_closest_marker("one_backend"):
            item.add_marker(pytest.mark.database)


def pytest_report_header() -> str:
    url = postgres_url()
    return f"doorstep database backend: {'postgresql ' + make_url(url).render_as_string() if url else 'sqlite'}"


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[TestClock]:
    """Every test runs at a pinned instant in Berlin (an ordinary Wednesday morning unless the test is
    parametrised with ``calendar_matrix``): the server's clock here and in the processes the test starts, and the
    tablets' clocks (tests/browser/conftest.py), all start from it."""
    pinned = pin(getattr(request, "param", ORDINARY_DAY))
    try:
        yield pinned
    finally:
        unpin()


@pytest.fixture(scope="session")
def backend() -> str:
    """``"sqlite"`` or ``"postgresql"``: which database this run tests."""
    return "postgresql" if postgres_url() else "sqlite"


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database the per-test databases are made from (an SQLite file or a PostgreSQL database)."""
    server_url = postgres_url()
    if server_url is None:
        path = tmp_path_factory.mktemp("template") / "doorstep.db"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(migrate_url(url))
        yield url
        return
    name = f"doorstep_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin_sql(server_url, f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(migrate_url(url))
        yield url
    finally:
        asyncio.run(admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(template_database: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if template_database.startswith("sqlite"):
        source = Path(make_url(template_database).database or "")
        target = tmp_path / "doorstep.db"
        shutil.copyfile(source, target)
        target.chmod(0o600)  # the server refuses a database others can read
        return f"sqlite+aiosqlite:///{target}"
    await truncate_all(template_database)
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


@pytest.fixture(scope="session")
def password_hash() -> str:
    """:data:`PASSWORD` hashed once per run (Argon2id is slow on purpose)."""
    return hash_password_sync(PASSWORD)


@pytest.fixture
async def org(settings: Settings, password_hash: str) -> Org:
    """Team Nord (supervisor, worker1, worker2), Team Süd (supervisor2, worker3), and an admin."""
    return await create_org(settings.resolved_database_url, password_hash)
