"""Test databases: the backend of this run, and the SQL that makes and empties PostgreSQL test databases."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from server.db import Base, create_engine, migrate

__all__ = [
    "admin_sql",
    "backup_in",
    "fresh_database",
    "fresh_team_database",
    "migrate_url",
    "postgres_url",
    "truncate_all",
]

# Rows that migrations seed: reset, not emptied (the clocks and chain heads are made on first use).
_COUNTERS: dict[str, str] = {}


def postgres_url() -> str | None:
    """The PostgreSQL server database of this run (``DOORSTEP_TEST_DATABASE_URL``), or None for SQLite."""
    return os.environ.get("DOORSTEP_TEST_DATABASE_URL") or None


async def migrate_url(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def admin_sql(url: str, statement: str) -> None:
    """Run one statement outside a transaction (``CREATE DATABASE`` and the like)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


# Triggers a test switched off (the audit log's guard, as an attacker would) in the database the next test shares.
_DISABLED_TRIGGERS = """
SELECT format('ALTER TABLE %I ENABLE TRIGGER %I', c.relname, t.tgname)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND t.tgenabled = 'D'
"""


async def truncate_all(url: str) -> None:
    """Empty every table of a PostgreSQL test database and reset its counters, keeping the schema; a trigger an
    earlier test disabled is enabled again."""
    engine = create_engine(url)
    try:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name not in _COUNTERS)
        async with engine.begin() as connection:
            for (enable,) in (await connection.execute(text(_DISABLED_TRIGGERS))).all():
                await connection.execute(text(enable))
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            for statement in _COUNTERS.values():
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def fresh_team_database(template_database: str, tmp: str, password_hash: str, workers: int) -> str:
    """A database of its own for one example of a state machine: a copy of the migrated SQLite template in
    ``tmp``, or the PostgreSQL test database emptied; with one team of a ``supervisor`` and ``worker1`` ..
    ``worker<workers>`` (password hash ``password_hash``). Returns its URL."""
    from server.auth.models import Role, User
    from server.auth.service import create_team
    from server.db import session_factory

    if template_database.startswith("sqlite"):
        target = Path(tmp) / "doorstep.db"
        shutil.copyfile(make_url(template_database).database or "", target)
        target.chmod(0o600)
        url = f"sqlite+aiosqlite:///{target}"
    else:
        await truncate_all(template_database)
        url = template_database
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        team = await create_team(sessions, "Team Nord")
        people = [("supervisor", Role.SUPERVISOR), *((f"worker{i + 1}", Role.WORKER) for i in range(workers))]
        async with sessions() as db:
            for name, role in people:
                db.add(User(username=name, display_name=name, role=role, team_id=team.id, password_hash=password_hash))
            await db.commit()
    finally:
        await engine.dispose()
    return url


async def fresh_database(tmp_path: Path) -> str:
    """An empty database nobody has migrated: a new SQLite file, or a new database on this run's PostgreSQL."""
    server_url = postgres_url()
    if server_url is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'shared' / 'doorstep.db'}"
    name = f"doorstep_start_{uuid.uuid4().hex[:10]}"
    await admin_sql(server_url, f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def backup_in(directory: Path) -> Path:
    """The one backup ``doorstep backup`` wrote into ``directory`` (not the list of erased cases beside it)."""
    [backup] = [path for path in directory.iterdir() if path.suffix != ".erased"]
    return backup
