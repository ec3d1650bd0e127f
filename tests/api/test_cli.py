"""The administrator's CLI against the same database the server uses."""

from __future__ import annotations

import io
import os
import stat
import uuid
from pathlib import Path

import httpx
import pytest

from server.cli import main
from server.settings import Settings
from tests.support.accounts import PASSWORD, login
from tests.support.tools import needs_root

Client = httpx.AsyncClient


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)


def run(args: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(args)


@pytest.mark.usefixtures("cli_env")
async def test_team_user_disable_devices_and_revoke(
    client: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The CLI runs its own event loop, so it is called in a worker thread from this async test.
    import anyio.to_thread

    async def cli(*args: str, stdin: str = "") -> int:
        return await anyio.to_thread.run_sync(lambda: run(list(args), monkeypatch, stdin))

    assert await cli("create-team", "Team West") == 0
    assert (
        await cli(
            "create-user",
            "mmueller",
            "--role",
            "worker",
            "--team",
            "Team West",
            "--display-name",
            "Maria Müller",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        == 0
    )
    assert (
        await cli(
            "create-user",
            "x",
            "--role",
            "worker",
            "--team",
            "Team Nowhere",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        == 2
    )
    assert (
        await cli(
            "create-user",
            "mmueller",
            "--role",
            "worker",
            "--team",
            "Team West",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        == 1
    )
    out = capsys.readouterr()
    assert "User created: mmueller" in out.out
    assert "No team named 'Team Nowhere'" in out.err
    assert "username is taken" in out.err

    body = await login(client, "mmueller")
    assert body["user"]["display_name"] == "Maria Müller"  # type: ignore[index]

    assert await cli("devices", "--user", "mmueller") == 0
    listing = capsys.readouterr().out
    assert str(body["device_id"]) in listing
    assert "active" in listing

    assert await cli("revoke-device", str(body["device_id"])) == 0
    assert (await client.get("/api/me")).status_code == 401
    assert await cli("revoke-device", str(uuid.uuid4())) == 1

    assert await cli("disable-user", "mmueller") == 0
    assert "disabled" in capsys.readouterr().out
    relogin = await client.post(
        "/api/auth/login", json={"username": "mmueller", "password": PASSWORD, "device_name": "T"}
    )
    assert relogin.status_code == 401


def test_an_admin_command_without_the_server_s_settings_refuses_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bare `doorstep create-team` once made a new SQLite database in ./var and said "Team created"."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOORSTEP_DATA_DIR", raising=False)
    monkeypatch.delenv("DOORSTEP_DATABASE_URL", raising=False)
    assert run(["create-team", "Team Nord"], monkeypatch) == 2
    err = capsys.readouterr().err
    assert "neither DOORSTEP_DATA_DIR nor DOORSTEP_DATABASE_URL is set" in err
    assert str(tmp_path / "var") in err  # it says what it would have used
    assert "Team created" not in err
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "elsewhere"))  # a directory that holds no database
    assert run(["create-team", "Team Nord"], monkeypatch) == 2
    assert f"no database at {tmp_path / 'elsewhere' / 'doorstep.db'}" in capsys.readouterr().err
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("cli_env")
async def test_commands_run_as_root_leave_the_key_files_to_the_server_s_user(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rotate-kek` in a root shell once left kek.json owned by root: the server could no longer read its keys."""
    needs_root("a command run as root on the server's files")
    import anyio.to_thread

    keys = Path(settings.data_dir) / "keys"
    server_user = 65534  # nobody: the server's own user in this test
    assert await anyio.to_thread.run_sync(lambda: run(["rewrap"], monkeypatch)) == 0  # the first keys
    for path in [Path(settings.data_dir), keys, *keys.iterdir()]:
        os.chown(path, server_user, server_user)
    assert await anyio.to_thread.run_sync(lambda: run(["rotate-kek"], monkeypatch)) == 0
    assert await anyio.to_thread.run_sync(lambda: run(["retire-kek"], monkeypatch)) == 0
    assert "Using data directory" in capsys.readouterr().err  # every command says which settings it used
    for name in ("kek.json", "kek-retired.json"):
        assert (keys / name).stat().st_uid == server_user, name
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600


def test_a_database_that_cannot_be_reached_is_one_line_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", "postgresql+asyncpg://doorstep:geheim-42@127.0.0.1:1/doorstep")
    assert run(["users"], monkeypatch) == 5
    err = capsys.readouterr().err
    assert "error: cannot reach the database postgresql+asyncpg://doorstep:***@127.0.0.1:1/doorstep" in err
    assert "Traceback" not in err
    assert "geheim-42" not in err
    assert len(err.strip().splitlines()) == 2  # which settings it used, and what went wrong
