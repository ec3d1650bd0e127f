"""The ``doorstep`` command: serve, migrate, and the administrator's tasks.

Each sub-command builds its settings from the ``DOORSTEP_*`` environment, so the same command works against
the SQLite file of ``make run`` and against PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from server.admin import (
    Sessions,
    cmd_erase_case,
    cmd_retention,
    cmd_retire_kek,
    cmd_rewrap,
    cmd_rotate_kek,
    cmd_vapid_keys,
    cmd_verify_audit,
    loaded_keyring,
    with_db,
)
from server.auth import service as auth
from server.backup import cmd_backup, cmd_restore
from server.db import at_head, create_engine, migrate, session_factory, shift_clock
from server.db.locks import exclusive_start
from server.demo import DEFAULT_DEMO_PASSWORD, DEMO_USERS, seed_demo
from server.jobs.housekeeping import run_housekeeping
from server.launch import NotConfigured, describe, refuse_unconfigured, unreachable
from server.logs import configure_logging
from server.people import COMMANDS, add_commands
from server.problems import Problem
from server.records.calendar import Region
from server.records.keyring import KeyringError
from server.settings import Settings, SettingsError

__all__ = ["main"]

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


async def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def work(_: object) -> int:
        print("Database is up to date.")
        return 0

    return await with_db(settings, work)


async def _prepare(settings: Settings, *, demo: bool) -> str:
    """Migrate, check the keys (refusing a missing or wrong KEK), and seed the demo into an empty database."""
    password = settings.demo_password or DEFAULT_DEMO_PASSWORD
    engine = create_engine(settings.resolved_database_url)
    try:
        async with exclusive_start(engine, Path(settings.data_dir)):  # processes started at once take turns
            if settings.migrate_on_start:
                await migrate(engine)
            elif not await at_head(engine):
                raise ValueError(
                    "the database's schema is older than this version and DOORSTEP_MIGRATE_ON_START=false: "
                    "run `doorstep migrate` first"
                )
            keyring = await loaded_keyring(settings, engine)
            if demo:
                created = await seed_demo(session_factory(engine), keyring, password)
                print("Demo data created." if created else "Database already has users; demo data left as it is.")
    finally:
        await engine.dispose()
    return password


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    settings.keys_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    password = asyncio.run(_prepare(settings, demo=args.demo))
    if args.demo:
        print(f"\nDemo logins (password for all: {password})")
        for login in DEMO_USERS:
            print(f"  {login.username:<20} {login.role.value:<11} {login.place:<7} {login.display_name}")
    print(f"\nDoorstep is serving at http://{args.host}:{args.port}\n", flush=True)
    configure_logging(settings.log_level)
    if args.workers > 1:
        # The workers' metrics meet in files here (prometheus_client's multiprocess mode), emptied at each start;
        # one directory per host and port, so that two instances sharing a data directory keep their own.
        metrics = Path(settings.data_dir) / "metrics" / f"{socket.gethostname()}-{args.port}"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(mode=0o700, parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    uvicorn.run(
        "server.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,
        # Behind a reverse proxy: the client's address and scheme from X-Forwarded-* of these proxies only.
        proxy_headers=bool(args.forwarded_allow_ips),
        forwarded_allow_ips=args.forwarded_allow_ips or None,
        # Several processes share the listening socket; each runs its own push dispatcher (jobs are claimed, so
        # each is sent once) and takes its turn for the start-up work (server/db/locks.py).
        workers=args.workers if args.workers > 1 else None,
        timeout_worker_healthcheck=settings.worker_start_seconds,
        date_header=not settings.clock_shift_seconds,  # a test server with a shifted clock sends its own Date
    )
    return 0


async def _cmd_housekeeping(args: argparse.Namespace, settings: Settings) -> int:
    async def work(sessions: Sessions) -> int:
        report = await run_housekeeping(sessions, settings)
        print(
            f"Removed {report.sessions} old sessions, {report.login_failures} login failures, "
            f"{report.mutation_results} stored sync results, {report.push_jobs} finished Web Push jobs, "
            f"{report.attachments} unused uploads and {report.tombstones} tombstones "
            f"(horizon now {report.horizon})."
        )
        return 0

    return await with_db(settings, work)


async def _cmd_set_region(args: argparse.Namespace, settings: Settings) -> int:
    try:
        region = Region(args.country.upper(), args.land.upper() if args.land else None)
    except ValueError as exc:
        print(f"Not set: {exc}.", file=sys.stderr)
        return 2

    async def work(sessions: Sessions) -> int:
        await auth.set_region(sessions, region.country, region.subdivision)
        print(f"Region set: {region.country}{f' / {region.subdivision}' if region.subdivision else ''}")
        return 0

    return await with_db(settings, work)


async def _cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    await _prepare(settings, demo=True)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="doorstep", description="Doorstep server and administration.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate and serve the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed demo data into an empty database")
    serve.add_argument("--workers", type=_positive, default=1, help="server processes (default 1)")
    serve.add_argument(
        "--forwarded-allow-ips",
        default="",
        help="addresses of the reverse proxies whose X-Forwarded-For and -Proto are believed (default: none)",
    )

    kept = sub.add_parser("retention", help="erase closed cases whose retention period has ended")
    kept.add_argument("--dry-run", action="store_true", help="only list them")
    backup = sub.add_parser("backup", help="copy the database (never the keys) into a directory")
    backup.add_argument("dir")
    restore = sub.add_parser("restore", help="bring the database back from a backup; erased cases stay erased")
    restore.add_argument("file")
    restore.add_argument(
        "--finish-only", action="store_true", help="the database was restored by hand: only finish the restore"
    )

    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("seed-demo", help="seed demo data into an empty database")

    add_commands(sub)

    sub.add_parser("vapid-keys", help="create the Web Push (VAPID) key pair if missing; print the public key")
    sub.add_parser("rotate-kek", help="add a new KEK version and rewrap every data key under it")
    sub.add_parser("rewrap", help="rewrap every data key under the current KEK version")
    sub.add_parser("retire-kek", help="remove KEK versions older than the current one")
    erase = sub.add_parser("erase-case", help="crypto-shred a case: destroy its data key for good")
    erase.add_argument("case_id")
    verify = sub.add_parser(
        "verify-audit", help="recompute the audit log's signed hash chains (one per organisation); print their heads"
    )
    verify.add_argument(
        "--anchor",
        action="append",
        default=[],
        help="CHAIN:SEQ:HASH of a head printed earlier: the entry must still be there",
    )
    sub.add_parser("housekeeping", help="expire sessions, drop old sync results and push jobs, compact old tombstones")
    region = sub.add_parser("set-region", help="the country (DE, AT) and Land whose law and holidays apply")
    region.add_argument("country")
    region.add_argument("land", nargs="?", help="the Land's code, e.g. BE, BY, NW (Germany)")
    return parser


_ASYNC_COMMANDS: dict[str, Command] = {
    "migrate": _cmd_migrate,
    "seed-demo": _cmd_seed_demo,
    "vapid-keys": cmd_vapid_keys,
    "rotate-kek": cmd_rotate_kek,
    "rewrap": cmd_rewrap,
    "retire-kek": cmd_retire_kek,
    "erase-case": cmd_erase_case,
    "verify-audit": cmd_verify_audit,
    "retention": cmd_retention,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "housekeeping": _cmd_housekeeping,
    "set-region": _cmd_set_region,
    **COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``doorstep`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        refuse_unconfigured(args.command, settings)
    except (SettingsError, NotConfigured) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command != "serve":
        print(describe(settings, os.environ), file=sys.stderr)
    if settings.clock_shift_seconds:  # a test server (otherwise, and in a test calling main(), left alone)
        shift_clock(settings.clock_shift_seconds)
    try:
        if args.command == "serve":
            return _cmd_serve(args, settings)
        return asyncio.run(_ASYNC_COMMANDS[args.command](args, settings))
    except Problem as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        for row in getattr(exc, "rows", []):  # a file's wrong lines, each named
            print(f"  line {row.line}, {row.field}: {row.detail}", file=sys.stderr)
        return 1
    except KeyringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError) as exc:
        line = unreachable(exc, settings)
        if line is None and isinstance(exc, OSError):
            line = f"error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}"
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 5


if __name__ == "__main__":
    raise SystemExit(main())
