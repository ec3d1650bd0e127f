"""The ``doorstep`` commands on teams, accounts and devices (docs/operations.md "Accounts").

Every change is written to the audit log's installation chain, signed with the audit key, so each command loads
the keys first (as the server does at start). The same work is on the administration page (``/verwaltung``).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select

from server.admin import loaded_keyring, printable
from server.audit import AuditKey
from server.auth import accounts
from server.auth import service as auth
from server.auth.models import Role, Team
from server.db import create_engine, migrate, session_factory
from server.settings import Settings

__all__ = ["COMMANDS", "add_commands"]

Sessions = accounts.Sessions
Work = Callable[[Sessions, AuditKey | None], Awaitable[int]]


async def _with_keys(settings: Settings, work: Work) -> int:
    """Migrate, load the keys (for the audit key), then ``work``."""
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        keyring = await loaded_keyring(settings, engine)
        return await work(session_factory(engine), keyring.audit)
    finally:
        await engine.dispose()


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("The passwords differ.")
    return first


async def _team_id(sessions: Sessions, name: str | None) -> uuid.UUID | None:
    if not name:
        return None
    async with sessions() as db:
        team = (await db.scalars(select(Team).where(Team.name == name))).first()
    if team is None:
        raise ValueError(f"No team named {name!r}. Create it with: doorstep create-team NAME")
    return team.id


async def _create_team(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        team = await auth.create_team(sessions, args.name)
        print(f"Team created: {team.name} ({team.id})")
        return 0

    return await _with_keys(settings, work)


async def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args)

    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        user, renamed = await accounts.create_user(
            sessions,
            username=args.username,
            display_name=args.display_name or args.username,
            role=Role(args.role),
            password=password,
            team_id=await _team_id(sessions, args.team),
            key=key,
        )
        if renamed:
            print(f"The disabled account that held this username is now {renamed}; its history stays with it.")
        print(f"User created: {user.username} ({user.role.value}, {user.id})")
        return 0

    return await _with_keys(settings, work)


async def _disable_user(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        ended = await accounts.disable_user(sessions, args.username, key=key)
        print(f"User {args.username} disabled; {ended} session(s) ended.")
        return 0

    return await _with_keys(settings, work)


async def _enable_user(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        user = await accounts.enable_user(sessions, args.username, key=key)
        print(f"User {user.username} may log in again.")
        return 0

    return await _with_keys(settings, work)


async def _reset_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args)

    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        ended = await accounts.reset_password(sessions, args.username, password, key=key)
        print(f"Password of {args.username} set; {ended} session(s) ended.")
        return 0

    return await _with_keys(settings, work)


async def _change_user(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        change = accounts.Change(
            role=Role(args.role) if args.role else None,
            team_id=await _team_id(sessions, args.team),
            display_name=args.display_name,
        )
        user = await accounts.change_user(sessions, args.username, change, key=key)
        print(f"User {user.username}: {user.role.value}, {printable(user.display_name)}.")
        return 0

    return await _with_keys(settings, work)


async def _users(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        print(f"{'username':<24} {'role':<11} {'team':<20} {'state':<9} name")
        for user, team in await accounts.list_users(sessions):
            state = "disabled" if user.disabled_at else "active"
            team_name = printable(team.name)[:20] if team else ""
            print(
                f"{printable(user.username):<24} {user.role.value:<11} {team_name:<20} {state:<9} "
                f"{printable(user.display_name)}"
            )
        return 0

    return await _with_keys(settings, work)


async def _devices(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        rows = await accounts.list_devices(sessions, args.user)
        print(f"{'device id':<36}  {'user':<12} {'name':<20} {'last seen (UTC)':<17} state")
        for device, user in rows:
            state = "revoked" if device.revoked_at else "active"
            seen = device.last_seen_at.strftime("%Y-%m-%d %H:%M")
            name, username = printable(device.name)[:20], printable(user.username)
            print(f"{device.id!s:<36}  {username:<12} {name:<20} {seen:<17} {state}")
        return 0

    return await _with_keys(settings, work)


async def _revoke_device(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        device = await accounts.revoke_device(sessions, uuid.UUID(args.device_id), key=key)
        print(f"Device {device.id} revoked; it wipes its local data on its next contact.")
        return 0

    return await _with_keys(settings, work)


async def _import_users(args: argparse.Namespace, settings: Settings) -> int:
    rows = accounts.read_user_list(await asyncio.to_thread(Path(args.file).read_text, encoding="utf-8"))

    async def work(sessions: Sessions, key: AuditKey | None) -> int:
        report = await accounts.import_users(sessions, rows, key=key)
        print(
            f"{len(report.created)} created, {len(report.changed)} changed, {len(report.unchanged)} already as listed."
        )
        if report.created:
            print("One-time passwords (shown once; hand each over in person and have it changed):")
            for username, password in report.created.items():
                print(f"  {username:<24} {password}")
        return 0

    return await _with_keys(settings, work)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The account commands' arguments."""
    team = sub.add_parser("create-team", help="create a team")
    team.add_argument("name")

    user = sub.add_parser("create-user", help="create a user (asks for the password)")
    user.add_argument("username")
    user.add_argument("--role", choices=[r.value for r in Role], required=True)
    user.add_argument("--team", help="team name (everyone but administrators)")
    user.add_argument("--display-name")
    user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    sub.add_parser("users", help="list the accounts")
    disable = sub.add_parser("disable-user", help="disable a user and end all their sessions")
    disable.add_argument("username")
    enable = sub.add_parser("enable-user", help="let a disabled user log in again")
    enable.add_argument("username")
    reset = sub.add_parser("reset-password", help="set a user's password (asks for it) and end their sessions")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    change = sub.add_parser("change-user", help="change a user's role, team or display name")
    change.add_argument("username")
    change.add_argument("--role", choices=[r.value for r in Role])
    change.add_argument("--team", help="team name")
    change.add_argument("--display-name")
    imported = sub.add_parser(
        "import-users", help="create or update accounts from a CSV file (username,display_name,role,team), all or none"
    )
    imported.add_argument("file")

    devices = sub.add_parser("devices", help="list registered devices")
    devices.add_argument("--user")
    revoke = sub.add_parser("revoke-device", help="revoke a lost tablet; it wipes itself on next contact")
    revoke.add_argument("device_id")


COMMANDS = {
    "create-team": _create_team,
    "create-user": _create_user,
    "users": _users,
    "disable-user": _disable_user,
    "enable-user": _enable_user,
    "reset-password": _reset_password,
    "change-user": _change_user,
    "import-users": _import_users,
    "devices": _devices,
    "revoke-device": _revoke_device,
}
