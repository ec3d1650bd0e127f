"""The ``doorstep`` command: serve, migrate, and the administrator's tasks.

Each sub-command builds its settings from the ``DOORSTEP_*`` environment, so the same command works against
the SQLite file of ``make run`` and against PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth import service as auth
from server.auth.models import Role, Team
from server.db import create_engine, migrate, session_factory
from server.demo import DEFAULT_DEMO_PASSWORD, DEMO_USERS, seed_demo
from server.logs import configure_logging
from server.problems import Problem
from server.settings import Settings, SettingsError

__all__ = ["main"]

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
Sessions = async_sessionmaker[AsyncSession]


async def _with_db(settings: Settings, work: Callable[..., Awaitable[int]], *args: object) -> int:
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        return await work(session_factory(engine), *args)
    finally:
        await engine.dispose()


async def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def work(_: object) -> int:
        print("Database is up to date.")
        return 0

    return await _with_db(settings, work)


async def _prepare_demo(settings: Settings) -> str:
    password = settings.demo_password or DEFAULT_DEMO_PASSWORD

    async def work(sessions: Sessions) -> int:
        created = await seed_demo(sessions, password)
        print("Demo data created." if created else "Database already has users; demo data left as it is.")
        return 0

    await _with_db(settings, work)
    return password


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    settings.keys_dir.parent.mkdir(parents=True, exist_ok=True)
    if args.demo:
        password = asyncio.run(_prepare_demo(settings))
        print(f"\nDemo logins (password for all: {password})")
        for login in DEMO_USERS:
            print(f"  {login.username:<11} {login.role.value:<11} {login.display_name}")
    else:
        asyncio.run(_with_db(settings, _noop))
    print(f"\nDoorstep is serving at http://{args.host}:{args.port}\n", flush=True)
    configure_logging(settings.log_level)
    uvicorn.run(
        "server.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=False,
    )
    return 0


async def _noop(_: object) -> int:
    return 0


async def _cmd_create_team(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions) -> int:
        team = await auth.create_team(sessions, args.name)
        print(f"Team created: {team.name} ({team.id})")
        return 0

    return await _with_db(settings, work)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("The passwords differ.")
    return first


async def _cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args)

    async def work(sessions: Sessions) -> int:
        team_id: uuid.UUID | None = None
        if args.team:
            async with sessions() as db:
                team = (await db.scalars(select(Team).where(Team.name == args.team))).first()
            if team is None:
                print(
                    f"No team named {args.team!r}. Create it with: doorstep create-team NAME", file=sys.stderr
                )
                return 2
            team_id = team.id
        user = await auth.create_user(
            sessions,
            username=args.username,
            display_name=args.display_name or args.username,
            role=Role(args.role),
            password=password,
            team_id=team_id,
        )
        print(f"User created: {user.username} ({user.role.value}, {user.id})")
        return 0

    return await _with_db(settings, work)


async def _cmd_disable_user(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions) -> int:
        ended = await auth.disable_user(sessions, args.username)
        print(f"User {args.username} disabled; {ended} session(s) ended.")
        return 0

    return await _with_db(settings, work)


async def _cmd_devices(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions) -> int:
        rows = await auth.list_devices(sessions, args.user)
        print(f"{'device id':<36}  {'user':<12} {'name':<20} {'last seen (UTC)':<17} state")
        for device, user in rows:
            state = "revoked" if device.revoked_at else "active"
            seen = device.last_seen_at.strftime("%Y-%m-%d %H:%M")
            print(f"{device.id!s:<36}  {user.username:<12} {device.name[:20]:<20} {seen:<17} {state}")
        return 0

    return await _with_db(settings, work)


async def _cmd_revoke_device(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions) -> int:
        device = await auth.revoke_device(sessions, uuid.UUID(args.device_id))
        print(f"Device {device.id} revoked; it wipes its local data on its next contact.")
        return 0

    return await _with_db(settings, work)


async def _cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    await _prepare_demo(settings)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="doorstep", description="Doorstep server and administration.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate and serve the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed demo data into an empty database")

    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("seed-demo", help="seed demo data into an empty database")

    team = sub.add_parser("create-team", help="create a team")
    team.add_argument("name")

    user = sub.add_parser("create-user", help="create a user (asks for the password)")
    user.add_argument("username")
    user.add_argument("--role", choices=[r.value for r in Role], required=True)
    user.add_argument("--team", help="team name (workers and supervisors)")
    user.add_argument("--display-name")
    user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    disable = sub.add_parser("disable-user", help="disable a user and end all their sessions")
    disable.add_argument("username")

    devices = sub.add_parser("devices", help="list registered devices")
    devices.add_argument("--user")

    revoke = sub.add_parser("revoke-device", help="revoke a lost tablet; it wipes itself on next contact")
    revoke.add_argument("device_id")
    return parser


_ASYNC_COMMANDS: dict[str, Command] = {
    "migrate": _cmd_migrate,
    "seed-demo": _cmd_seed_demo,
    "create-team": _cmd_create_team,
    "create-user": _cmd_create_user,
    "disable-user": _cmd_disable_user,
    "devices": _cmd_devices,
    "revoke-device": _cmd_revoke_device,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``doorstep`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return _cmd_serve(args, settings)
        return asyncio.run(_ASYNC_COMMANDS[args.command](args, settings))
    except Problem as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
