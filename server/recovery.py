"""What ``doorstep restore`` checks before it replaces anything, and how it puts a PostgreSQL backup back exactly.

Before a byte of the database changes, the restore reads from the backup itself which KEK versions wrap its data
keys and the check value sealed under each (tables ``case_keys`` and ``key_checks``: the SQLite copy is opened
read-only, the PostgreSQL dump is read with ``pg_restore --data-only`` into memory). A version the key file no
longer holds is taken from ``keys/kek-retired.json``, where ``retire-kek`` keeps what it retires; a version found
nowhere, or a key that does not match the backup, stops the restore with the version named and nothing changed.

A PostgreSQL backup is put back in one transaction that first drops everything in the database's schema: a backup
made before an upgrade then comes back with exactly its own tables (``pg_restore --clean`` alone left the newer
version's tables behind, and the next migration failed on them). If anything fails, the transaction leaves the
database as it was.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

from server.crypto import EnvKeyProvider, FileKeyProvider
from server.records.keyring import KeyringError, matches_check
from server.settings import Settings

__all__ = ["BackupKeys", "clean_restore_script", "keys_for", "read_backup", "scratch", "tool"]


@dataclass
class BackupKeys:
    """What a backup needs of the keys, and the cases it records as erased."""

    checks: dict[int, bytes] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)
    erased: set[uuid.UUID] = field(default_factory=set)


def tool(name: str) -> str | None:
    """``pg_dump``, ``pg_restore`` or ``psql``: on the PATH, else from Debian's versioned PostgreSQL directory."""
    return shutil.which(name) or next(iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)


def _read_sqlite(source: Path) -> BackupKeys:
    found = BackupKeys()
    with sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True) as db:
        found.checks = {int(v): bytes(b) for v, b in db.execute("SELECT kek_version, blob FROM key_checks")}
        found.used = {int(v) for (v,) in db.execute("SELECT DISTINCT kek_version FROM case_keys")}
        found.erased = {uuid.UUID(str(c)) for (c,) in db.execute("SELECT case_id FROM shredded_cases")}
    db.close()
    return found


def _copy_field(text: str) -> str | None:
    """One field of COPY's text format, unescaped (``\\N`` is NULL)."""
    if text == "\\N":
        return None
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _copy_rows(script: str, table: str) -> list[dict[str, str | None]]:
    """The rows of ``table`` in a plain-text dump's ``COPY … FROM stdin`` block."""
    lines = iter(script.splitlines())
    for line in lines:
        if line.startswith(f"COPY public.{table} (") or line.startswith(f"COPY {table} ("):
            columns = [c.strip().strip('"') for c in line.split("(", 1)[1].split(")", 1)[0].split(",")]
            rows: list[dict[str, str | None]] = []
            for row in lines:
                if row == "\\.":
                    return rows
                rows.append(dict(zip(columns, map(_copy_field, row.split("\t")), strict=True)))
    return []


def _bytea(text: str | None) -> bytes:
    if text is None or not text.startswith("\\x"):
        raise KeyringError("the backup's key check values are not in a form this version reads")
    return bytes.fromhex(text[2:])


def _read_dump(source: Path) -> BackupKeys:
    pg_restore = tool("pg_restore")
    if pg_restore is None:
        raise KeyringError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    tables = ["--table=key_checks", "--table=case_keys", "--table=shredded_cases"]
    command = [pg_restore, "--data-only", *tables, "--file=-", str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
    if done.returncode:
        raise KeyringError(f"the backup cannot be read: {done.stderr.strip()}")
    script = done.stdout
    found = BackupKeys()
    found.checks = {int(str(r["kek_version"])): _bytea(r["blob"]) for r in _copy_rows(script, "key_checks")}
    found.used = {int(str(r["kek_version"])) for r in _copy_rows(script, "case_keys")}
    found.erased = {uuid.UUID(str(r["case_id"])) for r in _copy_rows(script, "shredded_cases")}
    return found


async def read_backup(settings: Settings, source: Path) -> BackupKeys:
    """What the backup at ``source`` needs of the keys (read without touching the database)."""
    try:
        if settings.is_sqlite:
            return await asyncio.to_thread(_read_sqlite, source)
        return await asyncio.to_thread(_read_dump, source)
    except sqlite3.DatabaseError as exc:
        raise KeyringError(f"{source} is not a Doorstep SQLite backup ({exc})") from None


def keys_for(settings: Settings, needs: BackupKeys) -> dict[int, bytes]:
    """Check the keys against the backup; returns the retired versions it needs back from ``kek-retired.json``.

    Raises :class:`KeyringError`, naming the versions, when a key is missing or does not match.
    """
    if settings.kek:
        provider: EnvKeyProvider | FileKeyProvider = EnvKeyProvider(settings.kek)
        archive: dict[int, bytes] = {}
    elif FileKeyProvider.exists(settings.keys_dir):
        provider = FileKeyProvider(settings.keys_dir)
        archive = FileKeyProvider.retired(settings.keys_dir)
    else:
        if needs.used or needs.checks:
            raise KeyringError(
                f"there is no key file at {settings.keys_dir / FileKeyProvider.FILE_NAME}: restore the keys "
                "directory from its own backup first. Nothing was changed."
            )
        return {}
    available = {v: provider.key(v) for v in provider.versions()}
    wanted = needs.used | set(needs.checks)
    missing = sorted(v for v in needs.used if v not in available and v not in archive)
    if missing:
        raise KeyringError(
            f"the backup's data keys are wrapped with KEK version(s) {missing}, which neither "
            f"{FileKeyProvider.FILE_NAME} nor {FileKeyProvider.ARCHIVE_NAME} holds. Bring back a copy of the key "
            'file from the time of the backup (docs/operations.md "Recovery set"). Nothing was changed.'
        )
    for version in sorted(wanted):
        key = available.get(version) or archive.get(version)
        blob = needs.checks.get(version)
        if key is not None and blob is not None and not matches_check(key, blob):
            raise KeyringError(
                f"KEK version {version} of this key file does not match the backup: these keys belong to another "
                "installation. Nothing was changed."
            )
    return {v: archive[v] for v in sorted(needs.used) if v not in available}


def clean_restore_script(source: Path, directory: Path) -> Path:
    """A script for ``psql --single-transaction``: drop everything in the schema, then the dump's own SQL."""
    pg_restore = tool("pg_restore")
    if pg_restore is None:
        raise KeyringError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    script = directory / "restore.sql"
    script.write_text(DROP_EVERYTHING)
    with script.open("a") as out:
        done = subprocess.run(  # noqa: S603 - our own arguments
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(source)],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    if done.returncode:
        raise KeyringError(f"the backup cannot be read: {done.stderr.strip()}")
    return script


def scratch() -> tempfile.TemporaryDirectory[str]:
    """A private directory (0700) for the restore's script, which holds the backup's ciphertext."""
    return tempfile.TemporaryDirectory(prefix="doorstep-restore-")


# Every table, view and sequence in the schema (with what depends on them), then the enum and domain types and the
# functions: a schema the backup rebuilds from nothing.
DROP_EVERYTHING = """\\set ON_ERROR_STOP on
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') LOOP
    EXECUTE format('DROP %s IF EXISTS %I CASCADE',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                     WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.relname);
  END LOOP;
  FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd') LOOP
    EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = current_schema() LOOP
    EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', r.signature);
  END LOOP;
END $$;
"""
