"""The key hierarchy in use: KEK provider checks at start, one data key (DEK) per case, rotation, shredding.

At start :meth:`Keyring.load` makes sure the KEK is the right one before anything is decrypted or written:

* no key anywhere and an empty store: a key file is created (version 1, mode 0600);
* no key but wrapped data keys in the database: refuse to start (the key file was lost or not mounted);
* a key that does not open the stored check value of its version: refuse to start (wrong key).

The shred list is kept both in the database and in a file beside the keys, so a database restored from a
backup taken before an erasure is shredded again at the next start.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Select, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.audit import INSTALLATION, AuditHead, AuditKey
from server.crypto import (
    DecryptionError,
    EnvKeyProvider,
    FileKeyProvider,
    KeyMaterialError,
    KeyProvider,
    new_key,
    open_blob,
    seal,
    unwrap_key,
    wrap_key,
)
from server.db import among_bound, begin_write, session_factory
from server.ownership import keep_owner
from server.records.models import (
    AttachmentChunk,
    AttachmentUpload,
    BlindIndex,
    CaseHistory,
    CaseKey,
    KeyCheck,
    Record,
    RetentionNotice,
    ShreddedCase,
)
from server.settings import Settings

__all__ = ["SHRED_FILE", "CaseShredded", "DataKey", "Keyring", "KeyringError", "matches_check"]

_CHECK_PLAINTEXT = b"doorstep key check v1"
_CHECK_AAD = b"key-check"
_NIL = uuid.UUID(int=0)
SHRED_FILE = "shredded-cases"


def matches_check(key: bytes, blob: bytes) -> bool:
    """Whether ``key`` is the KEK version that sealed the check value ``blob`` (table ``key_checks``)."""
    try:
        return open_blob(key, blob, _CHECK_AAD) == _CHECK_PLAINTEXT
    except DecryptionError:
        return False


class KeyringError(Exception):
    """The server must not start: the message says what is wrong and what to do."""


class CaseShredded(Exception):
    """The case was erased; its data can never be read or written again."""


class DataKey:
    """An unwrapped data key of one case, held only in memory for one unit of work."""

    __slots__ = ("dek_id", "dek_text", "kek_version", "key", "raw")

    def __init__(self, dek_id: uuid.UUID, key: bytes, kek_version: int) -> None:
        self.dek_id = dek_id
        self.dek_text = str(dek_id)  # as the associated data names it: formatted once, not once per record
        # The prepared cipher: the key schedule is computed once per case and transaction, not per record.
        self.key = AESGCM(key)
        self.raw = key
        self.kek_version = kek_version


class Keyring:
    """Gives out the data keys of cases, wrapped and unwrapped with the KEK provider."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._provider: KeyProvider | None = None
        self._stamp: tuple[int, int, int] | None = None
        # The audit chain's signing key (docs/security.md case 40); None only with a DOORSTEP_KEK that holds none.
        self.audit: AuditKey | None = None
        # The blind index key of the duplicate check (docs/security.md case 42).
        self.index: bytes = b""

    @property
    def provider(self) -> KeyProvider:
        """The verified KEK provider (only after :meth:`load`)."""
        if self._provider is None:
            raise KeyringError("the keyring is not loaded")
        return self._provider

    @property
    def shred_file(self) -> Path:
        """The shred list that survives a database restore."""
        return self.settings.keys_dir / SHRED_FILE

    # --- start-up ------------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Whether :meth:`load` has checked and taken the key provider."""
        return self._provider is not None

    async def load(self, engine: AsyncEngine) -> int:
        """Find, create or refuse the KEK, verify it, and re-apply the shred list; returns how many cases were
        erased again (a restored backup that still held them)."""
        sessions = session_factory(engine)
        async with sessions() as db:
            wrapped_keys = int(await db.scalar(select(func.count()).select_from(CaseKey)) or 0)
            checks = {row.kek_version: row.blob for row in (await db.scalars(select(KeyCheck))).all()}
        provider = self._open_provider(has_data=bool(wrapped_keys or checks))
        for version, blob in checks.items():
            if version not in provider.versions():
                continue
            try:
                if open_blob(provider.key(version), blob, _CHECK_AAD) != _CHECK_PLAINTEXT:
                    raise DecryptionError("check value differs")
            except DecryptionError:
                raise KeyringError(
                    f"The key encryption key version {version} is wrong: it does not match this database. "
                    "Restore the key file (keys/kek.json) or DOORSTEP_KEK that belongs to this database."
                ) from None
        async with sessions() as db:
            used = set((await db.scalars(select(CaseKey.kek_version).distinct())).all())
        missing = sorted(v for v in used if v not in provider.versions())
        if missing:
            raise KeyringError(
                f"Data keys are wrapped with KEK version(s) {missing}, which the key provider does not have. "
                "Restore the key file that holds them, or run `doorstep rotate-kek` with the old key present."
            )
        self._provider = provider
        self.refresh()  # remembers the key file as read now
        async with sessions() as db:
            await begin_write(db)
            for version in provider.versions():
                if version not in checks:
                    db.add(KeyCheck(kek_version=version, blob=self._check_blob(version)))
            await db.commit()
        self.audit = await self._audit_key(engine, provider)
        self.index = self._index_key(provider)
        return await self.reapply_shred_list(engine)

    async def _audit_key(self, engine: AsyncEngine, provider: KeyProvider) -> AuditKey | None:
        signing = provider.audit_key()
        if signing is None and isinstance(provider, FileKeyProvider):
            # First start with this key file: entries from the next one on are signed; older ones stay plain.
            async with session_factory(engine)() as db:
                head = int(await db.scalar(select(AuditHead.seq).where(AuditHead.chain == INSTALLATION)) or 0)
            signing = provider.add_audit_key(head + 1)
        return AuditKey(*signing) if signing else None

    @staticmethod
    def _index_key(provider: KeyProvider) -> bytes:
        key = provider.index_key()
        if key is None and isinstance(provider, FileKeyProvider):
            key = provider.add_index_key()
        if key is None:
            # DOORSTEP_KEK without an "index" key: derived from the oldest usable KEK. When that changes, the
            # index is rebuilt at the next start (server.records.blind.rebuild_if_stale).
            oldest = provider.key(min(provider.versions()))
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"doorstep blind index").derive(oldest)
        return key

    def _open_provider(self, *, has_data: bool) -> KeyProvider:
        try:
            if self.settings.kek:
                return EnvKeyProvider(self.settings.kek)
            keys_dir = self.settings.keys_dir
            if FileKeyProvider.exists(keys_dir):
                mode = (keys_dir / FileKeyProvider.FILE_NAME).stat().st_mode & 0o777
                if mode & 0o077:
                    raise KeyringError(
                        f"The key file {keys_dir / FileKeyProvider.FILE_NAME} is readable by others "
                        f"(mode {mode:o}). Run: chmod 600 {keys_dir / FileKeyProvider.FILE_NAME}"
                    )
                return FileKeyProvider(keys_dir)
            if has_data:
                raise KeyringError(
                    f"The key file {keys_dir / FileKeyProvider.FILE_NAME} is missing, but the database holds "
                    "encrypted data. Restore the key file from the key backup (or set DOORSTEP_KEK); "
                    "without it the data cannot be read. The server will not start on plaintext."
                )
            return FileKeyProvider.create(keys_dir)
        except KeyMaterialError as exc:
            raise KeyringError(f"The key encryption key cannot be used: {exc}.") from None

    def _check_blob(self, version: int) -> bytes:
        return seal(self.provider.key(version), _CHECK_PLAINTEXT, _CHECK_AAD, kek_version=version, dek_id=_NIL)

    # --- data keys -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Pick up a key file that ``rotate-kek`` or ``retire-kek`` changed while this process runs.

        Called before every unwrap and wrap, at the cost of one ``stat``: a running server reads data keys wrapped
        with a version added since it started, and never wraps with a version that has been retired
        (docs/security.md case 41).
        """
        if self.settings.kek or not isinstance(self._provider, FileKeyProvider):
            return
        try:
            status = self._provider.path.stat()
        except FileNotFoundError:
            return  # a moment between a rename and its target: keep the keys in hand
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if self._stamp is None:
            self._stamp = stamp
        elif stamp != self._stamp:
            try:
                self._provider = FileKeyProvider(self.settings.keys_dir)
            except KeyMaterialError:
                return  # half written: the next call reads it again
            except OSError:
                return  # unreadable (a command run as another user): keep the keys in hand; /ready says so
            self._stamp = stamp

    def key_file_readable(self) -> bool:
        """Whether this process can read its key file now (``/ready``): a key file it cannot read would fail the
        next start and every rotation, even while the keys in hand still serve."""
        if self.settings.kek:
            return True
        try:
            with open(self.settings.keys_dir / FileKeyProvider.FILE_NAME, "rb"):
                return True
        except OSError:
            return False

    async def data_keys(self, db: AsyncSession, case_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, DataKey]:
        """Unwrap the data keys of ``case_ids`` (one query, plain rows: a report unwraps thousands); cases without
        a key are absent."""
        self.refresh()
        ids = set(case_ids)
        if not ids:
            return {}
        return await self._stored_keys(db, ids)

    async def _stored_keys(self, db: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, DataKey]:
        """The stored data keys of ``ids``, unwrapped (one query, plain rows)."""
        connection = await db.connection()
        rows = (await connection.execute(_keys_of(connection.dialect.name), {"cases": list(ids)})).all()
        return self.unwrap(rows)

    def unwrap(self, rows: Iterable[Sequence[Any]]) -> dict[uuid.UUID, DataKey]:
        """Unwrap data keys read by a query: rows of (case id, dek id, wrapped key, KEK version)."""
        keks: dict[int, AESGCM] = {}  # each KEK version's key schedule once per call, not once per case
        return {case_id: self._open(keks, dek_id, wrapped, version) for case_id, dek_id, wrapped, version in rows}

    def _open(self, keks: dict[int, AESGCM], dek_id: uuid.UUID, wrapped: bytes, kek_version: int) -> DataKey:
        kek = keks.get(kek_version)
        if kek is None:
            kek = keks[kek_version] = AESGCM(self.provider.key(kek_version))
        return DataKey(dek_id, unwrap_key(kek, wrapped, dek_id), kek_version)

    async def data_keys_for_write(self, db: AsyncSession, case_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, DataKey]:
        """The data keys of ``case_ids``, creating (and wrapping with the current KEK) those that have none.

        Two queries for any number of cases; the pending rows of the session are not flushed for them.
        """
        self.refresh()
        ids = set(case_ids)
        if not ids:
            return {}
        with db.no_autoflush:
            keys = await self._stored_keys(db, ids)
            missing = ids - keys.keys()
            if missing:
                shredded = set(
                    (await db.scalars(select(ShreddedCase.case_id).where(ShreddedCase.case_id.in_(missing)))).all()
                )
                if shredded:
                    raise CaseShredded(str(min(shredded)))
        version = self.provider.current_version()
        for case_id in missing:
            dek_id, dek = uuid.uuid4(), new_key()
            db.add(
                CaseKey(
                    case_id=case_id,
                    dek_id=dek_id,
                    wrapped=wrap_key(self.provider.key(version), dek, kek_version=version, dek_id=dek_id),
                    kek_version=version,
                )
            )
            keys[case_id] = DataKey(dek_id, dek, version)
        return keys

    # --- rotation --------------------------------------------------------------------------------------

    async def rewrap_all(self, engine: AsyncEngine, batch: int = 500) -> int:
        """Rewrap every data key under the current KEK version; the data itself is not touched."""
        version = self.provider.current_version()
        kek = self.provider.key(version)
        sessions = session_factory(engine)
        done = 0
        keks: dict[int, AESGCM] = {}  # the old versions' key schedules, made once for the whole run
        while True:
            async with sessions() as db:
                await begin_write(db)
                rows = (await db.scalars(select(CaseKey).where(CaseKey.kek_version != version).limit(batch))).all()
                if not rows:
                    await db.commit()
                    break
                for row in rows:
                    dek = self._open(keks, row.dek_id, row.wrapped, row.kek_version)
                    row.wrapped = wrap_key(kek, dek.raw, kek_version=version, dek_id=row.dek_id)
                    row.kek_version = version
                if await db.get(KeyCheck, version) is None:
                    db.add(KeyCheck(kek_version=version, blob=self._check_blob(version)))
                await db.commit()
                done += len(rows)
        return done

    async def versions_in_use(self, engine: AsyncEngine) -> set[int]:
        """KEK versions that still wrap at least one data key."""
        async with session_factory(engine)() as db:
            return set((await db.scalars(select(CaseKey.kek_version).distinct())).all())

    # --- erasure -----------------------------------------------------------------------------------------

    async def shred(self, db: AsyncSession, case_id: uuid.UUID, *, record_in_file: bool = True) -> None:
        """Destroy the case's data key, blobs, attachment chunks and history in the caller's transaction, and record
        the shred. The household's blind-index tokens go too: with the index key they would still confirm that a
        guessed person had been a client (docs/security.md case 48).

        The file entry is written first: if the transaction then fails, the next start shreds anyway, which
        is the safe direction for an erasure request.
        """
        if record_in_file:
            self.append_shred_file([case_id])
        if db.get_bind().dialect.name == "sqlite":
            # Zero what the deletes below free, so the wrapped key leaves no copy in the file's free space.
            await db.execute(text("PRAGMA secure_delete = ON"))
        await db.execute(delete(CaseKey).where(CaseKey.case_id == case_id))
        await db.execute(update(Record).where(Record.case_id == case_id).values(blob=None, deleted=True))
        # The attachments' chunks go too: without the key they could not be read, and nothing should be left.
        await db.execute(delete(AttachmentChunk).where(AttachmentChunk.case_id == case_id))
        await db.execute(delete(AttachmentUpload).where(AttachmentUpload.case_id == case_id))
        await db.execute(delete(CaseHistory).where(CaseHistory.case_id == case_id))
        await db.execute(delete(BlindIndex).where(BlindIndex.case_id == case_id))
        await db.execute(delete(RetentionNotice).where(RetentionNotice.case_id == case_id))
        if await db.get(ShreddedCase, case_id) is None:
            db.add(ShreddedCase(case_id=case_id))

    def read_shred_file(self) -> set[uuid.UUID]:
        try:
            lines = self.shred_file.read_text().split()
        except FileNotFoundError:
            return set()
        ids = set()
        for line in lines:
            try:
                ids.add(uuid.UUID(line))
            except ValueError:
                continue
        return ids

    def append_shred_file(self, case_ids: Iterable[uuid.UUID]) -> None:
        self.settings.keys_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.shred_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            keep_owner(fd, self.shred_file)
            os.write(fd, "".join(f"{c}\n" for c in case_ids).encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    async def reapply_shred_list(self, engine: AsyncEngine) -> int:
        """Shred again every listed case that still has a key (a restored backup); returns how many."""
        listed = self.read_shred_file()
        async with session_factory(engine)() as db:
            await begin_write(db)
            in_db = set((await db.scalars(select(ShreddedCase.case_id))).all())
            if in_db - listed:
                self.append_shred_file(sorted(in_db - listed))
            everything = listed | in_db
            revived = set()
            if everything:
                revived = set((await db.scalars(select(CaseKey.case_id).where(CaseKey.case_id.in_(everything)))).all())
            for case_id in revived:
                await self.shred(db, case_id, record_in_file=False)
            if everything:  # tokens an older version left behind, or a backup brought back without the key
                await db.execute(delete(BlindIndex).where(BlindIndex.case_id.in_(everything)))
            for case_id in listed - in_db - revived:
                db.add(ShreddedCase(case_id=case_id))
            await db.commit()
        return len(revived)


@functools.cache
def _keys_of(dialect: str) -> Select[uuid.UUID, uuid.UUID, bytes, int]:
    """The wrapped data keys of the cases bound as ``cases``: built once, run on every read."""
    columns = (CaseKey.case_id, CaseKey.dek_id, CaseKey.wrapped, CaseKey.kek_version)
    return select(*columns).where(among_bound(CaseKey.case_id, "cases", dialect))
