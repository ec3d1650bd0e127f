"""Recovery as an administrator does it (docs/operations.md "Backups" and "Recovery set"): a rollback to the backup
made before an upgrade, a restore with keys that do not belong, and a backup older than a retired key version."""

from __future__ import annotations

import io
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from alembic import command
from litestar import Litestar
from sqlalchemy import Connection, inspect, text

from server.app import create_app
from server.cli import main
from server.crypto import FileKeyProvider
from server.db import Base, create_engine
from server.db.migrate import alembic_config
from server.settings import Settings
from tests.support.accounts import PASSWORD, Org, login
from tests.support.app import client_from, running
from tests.support.cases import supervisor_creates_case
from tests.support.databases import backup_in, fresh_database

pytestmark = [pytest.mark.slow]


async def cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    """The ``doorstep`` command, in a worker thread (it runs its own event loop)."""

    def run() -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(list(args))

    return await anyio.to_thread.run_sync(run)


async def tables_and_teams(url: str) -> tuple[set[str], set[str], set[str]]:
    engine = create_engine(url)

    def read(connection: Connection) -> tuple[set[str], set[str], set[str]]:
        tables = set(inspect(connection).get_table_names())
        teams = {row[0] for row in connection.execute(text("SELECT name FROM teams"))}
        versions = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
        return tables, teams, versions

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def downgrade(url: str, revision: str) -> None:
    engine = create_engine(url)

    def down(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(down)
    finally:
        await engine.dispose()


async def test_the_backup_made_before_an_upgrade_comes_back_with_exactly_its_tables_and_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The documented rollback: back up at an older migration, upgrade, then restore that backup. On PostgreSQL
    ``pg_restore --clean`` once left the newer version's tables behind, and both the restore and the next migration
    failed on them."""
    url = await fresh_database(tmp_path)
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "var"))
    assert await cli(monkeypatch, "migrate") == 0
    assert await cli(monkeypatch, "create-team", "Team Nord") == 0
    user = ["create-user", "sberger", "--role", "supervisor", "--team", "Team Nord", "--password-stdin"]
    assert await cli(monkeypatch, *user, stdin=PASSWORD + "\n") == 0
    await downgrade(url, "0021")  # an installation two versions back
    older, _, _ = await tables_and_teams(url)
    assert "intake_referrals" not in older

    assert await cli(monkeypatch, "backup", str(tmp_path / "backups")) == 0
    backup = backup_in(tmp_path / "backups")
    assert await cli(monkeypatch, "migrate") == 0  # the upgrade
    assert await cli(monkeypatch, "create-team", "Team Süd") == 0  # written after the backup
    capsys.readouterr()

    assert await cli(monkeypatch, "restore", str(backup)) == 0, capsys.readouterr().err
    tables, teams, versions = await tables_and_teams(url)
    assert teams == {"Team Nord"}
    assert tables == set(Base.metadata.tables) | {"alembic_version"}  # migrated again from the backup's own schema
    assert len(versions) == 1
    # And it serves: the backed-up account logs in, the process is ready.
    settings = Settings(data_dir=str(tmp_path / "var"), database_url=url, environment="test")
    app = create_app(settings)
    async with running(app), client_from(app) as client:
        assert (await client.get("/ready")).status_code == 200
        await login(client, "sberger")
        body = await login(client, "sberger")
        assert (await client.get("/api/me")).json() == body


async def test_a_restore_checks_the_keys_against_the_backup_before_it_replaces_anything(
    app: Litestar,
    client: httpx.AsyncClient,
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Keys of another installation are refused with nothing changed; a backup made before ``retire-kek`` is
    restored with the retired version taken back from the archive; without the archive, the restore names the
    version it lacks, again before touching the database."""
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    assert await cli(monkeypatch, "backup", str(tmp_path / "backups")) == 0
    backup = backup_in(tmp_path / "backups")
    later, _ = await supervisor_creates_case(app, org, org.worker1_id)  # written after the backup
    keys = Path(settings.data_dir) / "keys"
    await login(client, "supervisor")

    # Keys of another installation: refused, and the database still holds what was written after the backup.
    ours = (keys / "kek.json").read_bytes()
    (keys / "kek.json").unlink()
    FileKeyProvider.create(keys)
    capsys.readouterr()
    assert await cli(monkeypatch, "restore", str(backup)) == 3
    assert "does not match the backup" in capsys.readouterr().err
    (keys / "kek.json").write_bytes(ours)
    assert (await client.get(f"/api/cases/{later}")).status_code == 200

    # Rotated and retired since the backup: version 1 waits in the archive, and the restore takes it back.
    assert await cli(monkeypatch, "rotate-kek") == 0
    assert await cli(monkeypatch, "retire-kek") == 0
    assert "kept in keys/kek-retired.json" in capsys.readouterr().out
    archive = (keys / "kek-retired.json").read_bytes()
    (keys / "kek-retired.json").unlink()
    assert await cli(monkeypatch, "restore", str(backup)) == 3
    assert "KEK version(s) [1]" in capsys.readouterr().err  # named before anything was replaced
    assert (await client.get(f"/api/cases/{later}")).status_code == 200
    (keys / "kek-retired.json").write_bytes(archive)
    assert await cli(monkeypatch, "restore", str(backup)) == 0
    assert "taken back from keys/kek-retired.json" in capsys.readouterr().out
    await login(client, "supervisor")  # the session is younger than the backup: log in again
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 200  # readable again
    assert (await client.get(f"/api/cases/{later}")).status_code == 404  # written after the backup: gone
    assert FileKeyProvider(keys).current_version() == 2


async def test_a_restore_warns_when_the_list_of_erased_cases_beside_the_keys_is_older_than_the_backup(
    app: Litestar,
    client: httpx.AsyncClient,
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The list beside the keys grows with every erasure; brought back from an old copy, it would let cases erased
    since come back. The backup carries its own list, and a restore without either says so."""
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    erased, _ = await supervisor_creates_case(app, org, org.worker1_id)
    assert await cli(monkeypatch, "erase-case", erased) == 0
    assert await cli(monkeypatch, "backup", str(tmp_path / "backups")) == 0
    backup = backup_in(tmp_path / "backups")
    carried = backup.with_name(f"{backup.name}.erased")
    assert carried.read_text().split() == [erased]
    shred_list = Path(settings.data_dir) / "keys" / "shredded-cases"
    shred_list.write_text("")  # an old copy of the keys' directory, from before the erasure
    capsys.readouterr()
    assert await cli(monkeypatch, "restore", str(backup)) == 0
    assert "lacks" not in capsys.readouterr().err  # the list beside the backup filled the gap
    assert shred_list.read_text().split() == [erased]

    shred_list.write_text("")
    carried.unlink()
    assert await cli(monkeypatch, "restore", str(backup)) == 0
    assert "lacks 1 case(s) the backup records as erased" in capsys.readouterr().err
