"""The administrator's CLI against the same database the server uses."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest

from server.cli import main
from server.settings import Settings
from tests.support.accounts import PASSWORD, login

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
