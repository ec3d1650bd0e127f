"""``doorstep backup DIR`` and ``doorstep restore FILE``: the database, never the keys (docs/operations.md "Backups").

A backup holds only ciphertext: without the keys it cannot be read, and the keys are kept apart from it on
purpose (the command says so every time). SQLite is copied with its online backup API, a consistent snapshot while
the server runs; PostgreSQL with ``pg_dump`` in its custom format, when the client tools are installed.

A restore brings the database back to the backup's moment, and then:
- migrates it, if the backup is older than the code;
- erases again every case erased since (the shred list beside the keys outlives the database), clears the last
  copies of their keys from the database's files, and takes them out of every scope;
- moves the sync clock far past anything issued before, with the tombstone horizon behind it: every tablet's
  cursor is then older than the horizon, so each sends its unsent changes and loads its data anew (``410``),
  instead of skipping what is written after the restore under numbers it has seen already.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url

from server import audit
from server.crypto import FileKeyProvider, KeyMaterialError
from server.db import begin_write, create_engine, migrate, session_factory, utcnow
from server.db.engine import scrub_deleted
from server.records import clock
from server.records.keyring import Keyring, KeyringError
from server.records.models import ShreddedCase
from server.records.scope import refresh_membership
from server.recovery import clean_restore_script, keys_for, read_backup, scratch, tool
from server.settings import Settings

__all__ = ["CLOCK_JUMP", "cmd_backup", "cmd_restore"]

# How far a restore moves the sync clock: more changes than any installation writes between a backup and its restore.
CLOCK_JUMP = 10**12

KEYS_WARNING = (
    "The keys are not in this backup, and must not be: keep {keys} (kek.json, the VAPID key pair and the list "
    "of erased cases) or DOORSTEP_KEK backed up separately. Without them the backup cannot be read."
)


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database as a libpq URL without its password, and the environment that carries the password (a
    password on a command line is visible to every user of the host)."""
    url = make_url(settings.resolved_database_url)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) keeps the password (None means "unchanged" there): build the URL without it.
    bare = URL.create("postgresql", url.username, None, url.host, url.port, url.database, url.query)
    plain = bare.render_as_string(hide_password=False)
    return plain, env


def _sqlite_path(settings: Settings) -> Path:
    return Path(make_url(settings.resolved_database_url).database or "")


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy, pages and log, while other connections read and write."""
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    os.replace(partial, target)


async def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    directory = Path(args.dir)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    if settings.is_sqlite:
        target = directory / f"doorstep-{stamp}.db"
        await asyncio.to_thread(_copy_sqlite, _sqlite_path(settings), target)
    else:
        pg_dump = tool("pg_dump")
        url, env = _libpq(settings)
        target = directory / f"doorstep-{stamp}.dump"
        if pg_dump is None:
            print(
                "pg_dump is not installed (Debian: apt-get install postgresql-client). The same backup by hand:\n"
                f"  pg_dump --format=custom --no-owner --file={target} '<database URL>'",
                file=sys.stderr,
            )
            return 2
        command = [pg_dump, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={url}"]
        # The dump is the operator's alone from its first byte: made 0600 before pg_dump writes into it, and
        # pg_dump runs under umask 077 (docs/security.md case 52).
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # a file of that name made before keeps its mode otherwise
        os.close(fd)
        done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, umask=0o077)
        if done.returncode:
            target.unlink(missing_ok=True)
            print(f"pg_dump failed: {done.stderr.strip()}", file=sys.stderr)
            return 1
    erased = Keyring(settings).read_shred_file()
    beside = target.with_name(f"{target.name}.erased")
    fd = os.open(beside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{case_id}\n" for case_id in sorted(erased)))
    print(f"Backup written: {target}, with the list of erased cases beside it ({beside.name}).")
    print(KEYS_WARNING.format(keys=settings.keys_dir))
    return 0


async def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    source = Path(args.file)
    if not await asyncio.to_thread(os.path.isfile, source):
        print(f"error: no backup at {source}", file=sys.stderr)
        return 2
    # With --finish-only the database was restored by hand (pg_restore): only what follows a restore is left.
    brought_back: dict[int, bytes] = {}
    if not args.finish_only:
        try:  # the keys are checked against the backup before anything is replaced
            needs = await read_backup(settings, source)
            brought_back = keys_for(settings, needs)
        except (KeyringError, KeyMaterialError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        _merge_erased(settings, source, needs.erased)
        if brought_back:
            FileKeyProvider(settings.keys_dir).bring_back(brought_back)
            print(f"KEK version(s) {sorted(brought_back)} taken back from keys/kek-retired.json for this backup.")
        failed = await _put_back(settings, source)
        if failed:
            return failed
    erased = await _after_restore(settings, source, rewrap=bool(brought_back))
    print(f"Restored from {source}: {erased} case(s) erased since the backup were erased again.")
    print("Every tablet sends its unsent changes and loads its data anew at its next sync.")
    if brought_back:
        print("Every data key is wrapped under the current KEK version again; `doorstep retire-kek` retires the old.")
    print(KEYS_WARNING.format(keys=settings.keys_dir))
    return 0


def _merge_erased(settings: Settings, source: Path, in_backup: set[uuid.UUID]) -> None:
    """Add the list written beside the backup to the list beside the keys, and warn when the backup knows of
    erasures the keys' list lacks: that list is older than the database, and cases erased after its last copy
    could come back."""
    keyring = Keyring(settings)
    listed = keyring.read_shred_file()
    beside = source.with_name(f"{source.name}.erased")
    carried: set[uuid.UUID] = set()
    if beside.is_file():
        carried = {uuid.UUID(line) for line in beside.read_text().split() if line.strip()}
        if carried - listed:
            keyring.append_shred_file(sorted(carried - listed))
    lacking = in_backup - listed - carried
    if lacking:
        print(
            f"warning: {keyring.shred_file} lacks {len(lacking)} case(s) the backup records as erased: it is older "
            "than the database. A case erased after that copy was made may come back: restore the newest copy of "
            'it and run the restore again (docs/operations.md "Recovery set").',
            file=sys.stderr,
        )


async def _put_back(settings: Settings, source: Path) -> int:
    """Bring the backup's data into the database; returns an exit code (0 when it is back)."""
    if settings.is_sqlite:
        target = _sqlite_path(settings)
        os.makedirs(target.parent, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
        await asyncio.to_thread(_copy_sqlite_into, source, target)
        return 0
    psql = tool("psql")
    url, env = _libpq(settings)
    if psql is None:
        print(
            "psql is not installed (Debian: apt-get install postgresql-client). By hand, into a new empty "
            f"database:\n  pg_restore --no-owner --dbname='<new database URL>' {source}\n"
            f"then point DOORSTEP_DATABASE_URL at it and finish with: doorstep restore --finish-only {source}",
            file=sys.stderr,
        )
        return 2
    with scratch() as directory:
        script = await asyncio.to_thread(clean_restore_script, source, Path(directory))
        command = [psql, "--no-psqlrc", "--quiet", "--single-transaction", f"--file={script}", f"--dbname={url}"]
        done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True)
    if done.returncode:
        print(f"the restore failed, and the database is as it was: {done.stderr.strip()}", file=sys.stderr)
        return 1
    return 0


def _copy_sqlite_into(source: Path, target: Path) -> None:
    """The backup's pages into the database file through SQLite's backup API (its log handled, its mode kept)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


async def _after_restore(settings: Settings, source: Path, *, rewrap: bool = False) -> int:
    """Migrate, erase again what was erased since, and move the clock past every cursor; returns how many cases
    were erased again."""
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        keyring = Keyring(settings)
        erased_again = await keyring.load(engine)  # re-applies the shred list beside the keys
        if rewrap:  # data keys wrapped under versions taken back from the archive: under the current one again
            await keyring.rewrap_all(engine)
        async with session_factory(engine)() as db:
            await begin_write(db)
            erased = list((await db.scalars(select(ShreddedCase.case_id))).all())
            seq = await clock.jump_all(db, CLOCK_JUMP)
            await refresh_membership(db, erased, seq)
            await audit.append(
                db,
                action="database.restore",
                outcome="ok",
                actor_id=None,
                record_ids=erased,
                organisation=None,
                key=keyring.audit,
            )
            await db.commit()
        await scrub_deleted(engine, ["case_keys", "records"] if settings.is_sqlite else ["case_keys"])
        return erased_again
    finally:
        await engine.dispose()
