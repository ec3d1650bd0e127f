"""Accounts as an administrator keeps them (docs/operations.md "Accounts"): password resets, re-enabling, a change
of role or team, a username given again, a user list imported twice, each change in the audit log; by the command
and by the administration API."""

from __future__ import annotations

import io
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select

from server.audit import AuditEntry
from server.cli import main
from server.db import create_engine, session_factory
from server.settings import Settings
from tests.support.accounts import PASSWORD, Org, login
from tests.support.app import client_from
from tests.support.syncing import Device

NEW_PASSWORD = "ein ganz neues Passwort"


async def cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    def run() -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(list(args))

    return await anyio.to_thread.run_sync(run)


async def audited(settings: Settings) -> list[str]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            return list((await db.scalars(select(AuditEntry.action).order_by(AuditEntry.at, AuditEntry.seq))).all())
    finally:
        await engine.dispose()


async def test_the_administrator_s_commands_on_an_account_all_land_in_the_audit_log(
    app: Litestar,
    client: httpx.AsyncClient,
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    tablet = Device(client, await login(client, "worker1"))
    await tablet.pull()

    # A forgotten password: reset, and every session of the account ends.
    assert await cli(monkeypatch, "reset-password", "worker1", "--password-stdin", stdin=NEW_PASSWORD + "\n") == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    assert (await client.get("/api/me")).status_code == 401
    refused = {"username": "worker1", "password": PASSWORD, "device_name": "T"}
    assert (await client.post("/api/auth/login", json=refused)).status_code == 401
    await login(client, "worker1", NEW_PASSWORD)

    # Promoted to supervisor: logged out, and the tablet's cursor of the old scope is expired (it loads anew).
    assert await cli(monkeypatch, "change-user", "worker1", "--role", "supervisor") == 0
    assert (await client.get("/api/me")).status_code == 401
    promoted = Device(client, await login(client, "worker1", NEW_PASSWORD))
    stale = await client.get("/api/sync/pull", params={"cursor": tablet.cursor})
    assert stale.status_code == 410
    await promoted.pull()  # a bootstrap in the new scope works, and its cursor is good from then on
    assert (await client.get("/api/sync/pull", params={"cursor": promoted.cursor})).status_code == 200

    # Left, came back: disabled, then enabled with the same account.
    assert await cli(monkeypatch, "disable-user", "worker2") == 0
    assert await cli(monkeypatch, "enable-user", "worker2") == 0
    await login(client, "worker2")

    # A username of someone who left goes to a new colleague; the old account keeps its history under a new name.
    assert await cli(monkeypatch, "disable-user", "worker2") == 0
    new = ["create-user", "worker2", "--role", "worker", "--team", "Team Nord", "--password-stdin"]
    assert await cli(monkeypatch, *new, stdin=NEW_PASSWORD + "\n") == 0
    assert "is now worker2.disabled-" in capsys.readouterr().out
    body = await login(client, "worker2", NEW_PASSWORD)
    assert body["user"]["id"] != str(org.worker2_id)  # type: ignore[index]
    assert await cli(monkeypatch, "users") == 0
    listing = capsys.readouterr().out
    assert "worker2.disabled-" in listing
    assert "disabled" in listing

    # The lost tablet and the keys: audited too.
    assert await cli(monkeypatch, "revoke-device", tablet.device_id) == 0
    assert await cli(monkeypatch, "rotate-kek") == 0
    assert await cli(monkeypatch, "retire-kek") == 0
    actions = await audited(settings)
    for action in (
        "user.password_reset",
        "user.change",
        "user.disable",
        "user.enable",
        "user.create",
        "device.revoke",
        "key.rotate",
        "key.retire",
    ):
        assert action in actions, action
    assert await cli(monkeypatch, "verify-audit") == 0  # and the chain with them is intact


async def test_a_user_list_is_imported_whole_or_not_at_all_and_twice_is_once(
    org: Org,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    client: httpx.AsyncClient,
) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    listed = tmp_path / "team.csv"
    listed.write_text(
        "username,display_name,role,team\n"
        "akaya,Aylin Kaya,worker,Team Nord\n"
        "bnowak,Bartek Nowak,worker,Team Nord\n"
        "worker1,Wiebke Eins,worker,Team Süd\n"  # an existing account that moves to another team
        "zz,Zoe Zett,gardener,Team Nord\n"  # no such role
    )
    assert await cli(monkeypatch, "import-users", str(listed)) == 1
    assert "line 5, role: one of" in capsys.readouterr().err  # the wrong line, named
    assert "akaya" not in await usernames(settings)  # a wrong line changes nothing

    listed.write_text(listed.read_text().replace("zz,Zoe Zett,gardener", "zz,Zoe Zett,supervisor"))
    assert await cli(monkeypatch, "import-users", str(listed)) == 0
    out = capsys.readouterr().out
    assert "3 created, 1 changed, 0 already as listed" in out
    passwords = dict(line.split() for line in out.splitlines() if line.startswith("  "))
    assert set(passwords) == {"akaya", "bnowak", "zz"}
    await login(client, "akaya", passwords["akaya"])  # the one-time password works

    assert await cli(monkeypatch, "import-users", str(listed)) == 0  # the same file again
    assert "0 created, 0 changed, 4 already as listed" in capsys.readouterr().out


async def usernames(settings: Settings) -> set[str]:
    from server.auth.models import User

    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            return set((await db.scalars(select(User.username))).all())
    finally:
        await engine.dispose()


async def test_the_administration_api_is_the_administrator_s_alone_and_audited(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    admin = client
    async with client_from(app) as supervisor:
        await login(admin, "admin")
        await login(supervisor, "supervisor")
        assert (await supervisor.get("/api/admin/users")).status_code == 403
        teams = {t["name"]: t["id"] for t in (await admin.get("/api/admin/teams")).json()}
        made = await admin.post(
            "/api/admin/users",
            json={
                "username": "cmeier",
                "display_name": "Clara Meier",
                "role": "worker",
                "team_id": teams["Team Nord"],
                "password": NEW_PASSWORD,
            },
        )
        assert made.status_code == 201, made.text
        user = made.json()
        assert user["team_name"] == "Team Nord"
        assert "hash" not in str(user)
        moved = await admin.patch(f"/api/admin/users/{user['id']}", json={"team_id": teams["Team Süd"]})
        assert moved.json()["team_name"] == "Team Süd"
        assert (await admin.patch(f"/api/admin/users/{user['id']}", json={"disabled": True})).json()["disabled"]
        assert not (await admin.patch(f"/api/admin/users/{user['id']}", json={"disabled": False})).json()["disabled"]
        reset = await admin.post(f"/api/admin/users/{user['id']}/password", json={"password": PASSWORD})
        assert reset.json() == {"sessions_ended": 0}
        own = await admin.patch(f"/api/admin/users/{org.admin_id}", json={"disabled": True})
        assert own.status_code == 409  # nobody locks themselves out
        imported = await admin.post(
            "/api/admin/users/import",
            content="username,display_name,role,team\ndlang,Dana Lang,worker,Team Nord\n",
            headers={"Content-Type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        assert set(imported.json()["created"]) == {"dlang"}
        wrong = await admin.post(
            "/api/admin/users/import",
            content="username,display_name,role,team\nelse,E,worker,Team Nowhere\n",
            headers={"Content-Type": "text/csv"},
        )
        assert wrong.status_code == 400
        assert wrong.json()["rows"] == [
            {"line": 2, "field": "team", "detail": "no team of that name (create it first)"}
        ]
    actions = await audited(settings)
    assert actions.count("user.create") == 2
    assert {"user.change", "user.disable", "user.enable", "user.password_reset"} <= set(actions)
