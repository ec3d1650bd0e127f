"""The ``doorstep`` command's tasks on keys and data: the VAPID key pair, rotating, rewrapping and retiring the key
encryption key, erasing a case, verifying the audit chain; and :func:`with_db`, which every command that needs the
database runs through (migrations first)."""

from __future__ import annotations

import argparse
import sys
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server import audit
from server.crypto import FileKeyProvider
from server.db import begin_write, create_engine, migrate, session_factory, utcnow
from server.db.engine import scrub_deleted
from server.push import VapidError, load_or_create
from server.records import clock, retention
from server.records.keyring import Keyring
from server.records.scope import refresh_membership
from server.settings import Settings

__all__ = [
    "Sessions",
    "cmd_erase_case",
    "cmd_retention",
    "cmd_retire_kek",
    "cmd_rewrap",
    "cmd_rotate_kek",
    "cmd_vapid_keys",
    "cmd_verify_audit",
    "loaded_keyring",
    "printable",
    "with_db",
]

Sessions = async_sessionmaker[AsyncSession]


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (escape sequences among them) shown as ``\\x..``."""
    return "".join(
        f"\\x{ord(c):02x}" if unicodedata.category(c) in ("Cc", "Cf") or c in "\u2028\u2029" else c for c in text
    )


async def with_db(settings: Settings, work: Callable[..., Awaitable[int]], *args: object) -> int:
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        return await work(session_factory(engine), *args)
    finally:
        await engine.dispose()


async def loaded_keyring(settings: Settings, engine: AsyncEngine) -> Keyring:
    keyring = Keyring(settings)
    await keyring.load(engine)
    return keyring


async def _audit_keys(engine: AsyncEngine, keyring: Keyring, action: str) -> None:
    """An entry in the installation's audit chain for a change of the keys (``key.rotate``, ``key.rewrap``,
    ``key.retire``): which version is current then is in the key file, not in the log."""
    async with session_factory(engine)() as db:
        await begin_write(db)
        await audit.append(db, action=action, outcome="ok", actor_id=None, organisation=None, key=keyring.audit)
        await db.commit()


async def cmd_vapid_keys(args: argparse.Namespace, settings: Settings) -> int:
    """Create the VAPID key pair if there is none, and print the public key (the browsers' server key)."""
    try:
        keys = load_or_create(settings.keys_dir)
    except VapidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"VAPID public key (applicationServerKey): {keys.public_key}")
    return 0


async def cmd_rotate_kek(args: argparse.Namespace, settings: Settings) -> int:
    if settings.kek:
        print(
            "The KEK comes from DOORSTEP_KEK: add a version there, then run `doorstep rewrap`.",
            file=sys.stderr,
        )
        return 2
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        await loaded_keyring(settings, engine)
        version = FileKeyProvider(settings.keys_dir).add_version()
        keyring = await loaded_keyring(settings, engine)
        rewrapped = await keyring.rewrap_all(engine)
        await _audit_keys(engine, keyring, "key.rotate")
        print(f"KEK version {version} is current; {rewrapped} data key(s) rewrapped, no record re-encrypted.")
        print("Back up keys/kek.json now. Retire the old version with `doorstep retire-kek` once backups agree.")
        return 0
    finally:
        await engine.dispose()


async def cmd_rewrap(args: argparse.Namespace, settings: Settings) -> int:
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        keyring = await loaded_keyring(settings, engine)
        rewrapped = await keyring.rewrap_all(engine)
        await _audit_keys(engine, keyring, "key.rewrap")
        print(f"{rewrapped} data key(s) rewrapped under KEK version {keyring.provider.current_version()}.")
        return 0
    finally:
        await engine.dispose()


async def cmd_retire_kek(args: argparse.Namespace, settings: Settings) -> int:
    if settings.kek:
        print("The KEK comes from DOORSTEP_KEK: remove old versions there.", file=sys.stderr)
        return 2
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        keyring = await loaded_keyring(settings, engine)
        current = keyring.provider.current_version()
        older = sorted(v for v in await keyring.versions_in_use(engine) if v < current)
        if older:
            print(f"KEK version(s) {older} still wrap data keys; run `doorstep rewrap` first.", file=sys.stderr)
            return 1
        retired = FileKeyProvider(settings.keys_dir).retire_below(current)
        await _audit_keys(engine, keyring, "key.retire")
        print(f"Every KEK version below {current} is retired and removed from the key file.")
        if retired:
            print(
                f"Version(s) {retired} are kept in keys/kek-retired.json: backups made before the rotation need "
                "them, and `doorstep restore` takes them from there. Keep that file as long as such backups exist."
            )
        return 0
    finally:
        await engine.dispose()


async def cmd_erase_case(args: argparse.Namespace, settings: Settings) -> int:
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        keyring = await loaded_keyring(settings, engine)
        case_id = uuid.UUID(args.case_id)
        async with session_factory(engine)() as db:
            await begin_write(db)
            organisation = (await clock.organisation_of_cases(db, [case_id])).get(case_id)
            await keyring.shred(db, case_id)
            # The case left every scope: the next pull of every device that holds it says purge.
            await refresh_membership(db, [case_id], await clock.allocate(db, organisation))
            await audit.append(
                db,
                action="case.erase",
                outcome="ok",
                actor_id=None,
                case_id=case_id,
                organisation=organisation,
                key=keyring.audit,
            )
            await db.commit()
        scrubbed = await scrub_deleted(engine, ["case_keys", "records"] if settings.is_sqlite else ["case_keys"])
        print(f"Case {case_id} erased: its key is destroyed; tombstones and audit entries remain.")
        if not scrubbed:
            print(
                "warning: the database's log is still in use; run `doorstep erase-case` again when the server is "
                "quiet to clear the last copy of the key from it.",
                file=sys.stderr,
            )
            return 4
        return 0
    finally:
        await engine.dispose()


INSTALLATION_LABEL = "installation"


def _anchor(text: str) -> tuple[str, int, str] | None:
    """``CHAIN:SEQ:HASH`` as verify-audit prints it (``SEQ:HASH`` alone is the installation's chain)."""
    rest, _, digest = text.rpartition(":")
    chain, _, seq = rest.rpartition(":")
    if not seq.isdigit() or len(digest) != 64:
        return None
    return ("" if chain in ("", INSTALLATION_LABEL) else chain, int(seq), digest)


async def cmd_verify_audit(args: argparse.Namespace, settings: Settings) -> int:
    anchors = []
    for text in args.anchor:
        anchor = _anchor(text)
        if anchor is None:
            print(
                f"error: an anchor is CHAIN:SEQ:HASH as verify-audit printed it, not {printable(text)}",
                file=sys.stderr,
            )
            return 2
        anchors.append(anchor)
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        keyring = await loaded_keyring(settings, engine)
        async with session_factory(engine)() as db:
            reports = await audit.verify_all(db, keyring.audit, anchors=anchors)
    finally:
        await engine.dispose()
    if keyring.audit is None:
        print("warning: the chain is not signed: add an audit key to DOORSTEP_KEK (see docs/operations.md).")
    broken = {chain: report for chain, report in reports.items() if not report.ok}
    for chain, report in broken.items():
        label = chain or INSTALLATION_LABEL
        print(f"Audit chain {label} BROKEN at entry {report.broken_at}: {report.reason}.", file=sys.stderr)
    if broken:
        return 1
    entries = sum(report.entries for report in reports.values())
    print(f"Audit chains intact: {len(reports)} chain(s), {entries} entries.")
    # Record these lines somewhere the database's administrators cannot write, and pass them back with --anchor.
    for chain, report in reports.items():
        print(f"Head: {chain or INSTALLATION_LABEL}:{report.head_seq}:{report.head_hash}")
    return 0


async def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    """List (``--dry-run``) or erase the closed cases whose retention period has ended."""
    if settings.retention_years <= 0:
        print("Retention is off (DOORSTEP_RETENTION_YEARS=0): closed cases are kept.")
        return 0
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        today = utcnow().astimezone(ZoneInfo(settings.report_time_zone)).date()
        if args.dry_run:
            found = await retention.due(sessions, years=settings.retention_years, today=today)
            now = [d for d in found if d.erase_on <= today]
            print(f"{len(now)} closed case(s) due for erasure ({settings.retention_years} years after closing):")
            for d in now:
                print(f"  {d.case_id}  closed {d.closed_on.isoformat()}  due {d.erase_on.isoformat()}")
            later = [d for d in found if d.erase_on > today]
            if later:
                print(f"{len(later)} more whose period has ended, erased a month after they were announced:")
                for d in later:
                    print(f"  {d.case_id}  closed {d.closed_on.isoformat()}  due {d.erase_on.isoformat()}")
            return 0
        keyring = await loaded_keyring(settings, engine)
        erased = await retention.run_retention(sessions, keyring, years=settings.retention_years, today=today)
        await scrub_deleted(engine, ["case_keys", "records"] if settings.is_sqlite else ["case_keys"])
        print(f"{len(erased)} closed case(s) erased at the end of their retention period; their figures stay in the")
        print("reports of past years as anonymous lines.")
        return 0
    finally:
        await engine.dispose()
