"""The encrypted record store: validation, sequence numbers, encryption and the clear projection.

Everything that reads or writes a record goes through :class:`RecordStore`, inside the caller's
transaction. A writer calls :meth:`RecordStore.allocate` first: it bumps the single ``sync_clock`` row,
whose lock orders writers so that ``seq`` follows commit order (see :class:`~server.records.models.SyncClock`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.crypto import DecryptionError, associated_data, open_blob, read_header, seal
from server.db import utcnow
from server.records.keyring import DataKey, Keyring
from server.records.models import Record, SyncClock
from server.records.schemas import KINDS, SCHEMA_VERSION, RecordFields

__all__ = ["FIELDS_COLUMN", "RecordStore", "StoredRecord", "ValidationIssue", "validate_fields"]

FIELDS_COLUMN = "fields"


class ValidationIssue(Exception):
    """Fields that break their kind's schema; ``field`` names the first offending field if known."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class StoredRecord(msgspec.Struct, kw_only=True):
    """A record as the services see it: clear metadata plus the decrypted fields."""

    kind: str
    id: uuid.UUID
    case_id: uuid.UUID
    version: int
    deleted: bool
    fields: dict[str, Any] | None
    field_versions: dict[str, int]
    created_version: int
    flag: str | None = None
    updated_by: uuid.UUID | None = None
    updated_at: dt.datetime | None = None


def _field_from_error(message: str) -> str | None:
    # msgspec: "Expected `int`, got `str` - at `$.household.adults`" or "Object missing required field `x`".
    for marker in ("missing required field `", "unknown field `"):
        if marker in message:
            return message.split(marker, 1)[1].split("`", 1)[0]
    if "- at `$." in message:
        path = message.rsplit("- at `$.", 1)[1].rstrip("`")
        return path.split(".", 1)[0].split("[", 1)[0]
    return None


def validate_fields(kind: str, fields: Mapping[str, Any]) -> RecordFields:
    """Validate a complete set of fields against the kind's schema, or raise :class:`ValidationIssue`."""
    schema = KINDS.get(kind)
    if schema is None:
        raise ValidationIssue(f"unknown record kind {kind!r}", "kind")
    try:
        return msgspec.convert(dict(fields), schema)
    except msgspec.ValidationError as exc:
        message = str(exc)
        return_field = _field_from_error(message)
        raise ValidationIssue(message.split(" - at ")[0][:300], return_field) from None


def to_builtins(value: RecordFields) -> dict[str, Any]:
    """The canonical JSON form of validated fields (what is encrypted, compared and sent)."""
    result: dict[str, Any] = msgspec.to_builtins(value)
    return result


class RecordStore:
    """Reads and writes records of one transaction; caches the data keys it unwrapped."""

    def __init__(self, db: AsyncSession, keyring: Keyring) -> None:
        self.db = db
        self.keyring = keyring
        self._keys: dict[uuid.UUID, DataKey] = {}

    async def allocate(self, count: int = 1) -> int:
        """Reserve ``count`` consecutive sequence numbers; returns the first. Call before reading for a write."""
        last = (
            await self.db.execute(
                update(SyncClock).where(SyncClock.id == 1).values(seq=SyncClock.seq + count).returning(SyncClock.seq)
            )
        ).scalar_one()
        return int(last) - count + 1

    async def current_seq(self) -> int:
        """The last ``seq`` handed out."""
        return int((await self.db.execute(select(SyncClock.seq).where(SyncClock.id == 1))).scalar_one())

    async def rows(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Record]:
        """The raw rows of ``ids`` that exist, in one query."""
        wanted = set(ids)
        if not wanted:
            return {}
        found = (await self.db.scalars(select(Record).where(Record.id.in_(wanted)))).all()
        return {row.id: row for row in found}

    async def _load_keys(self, case_ids: Iterable[uuid.UUID]) -> None:
        missing = {c for c in case_ids if c not in self._keys}
        if missing:
            self._keys.update(await self.keyring.data_keys(self.db, missing))

    async def prepare_write(self, case_ids: Iterable[uuid.UUID]) -> None:
        """Fetch or create the data keys of every case a batch will write to, in one go."""
        missing = {c for c in case_ids if c not in self._keys}
        if missing:
            self._keys.update(await self.keyring.data_keys_for_write(self.db, missing))

    async def decrypt(self, rows: Iterable[Record]) -> list[StoredRecord]:
        """Decrypt ``rows`` (data keys fetched in one query). Shredded records come back with no fields."""
        rows = list(rows)
        await self._load_keys(row.case_id for row in rows)
        return [self._open(row) for row in rows]

    def _open(self, row: Record) -> StoredRecord:
        fields: dict[str, Any] | None = None
        if row.blob is not None:
            key = self._keys.get(row.case_id)
            if key is None:
                raise DecryptionError("no data key for the case")
            fields = msgspec.json.decode(open_blob(key.key, row.blob, self._aad(row, key.dek_id)))
        return StoredRecord(
            kind=row.kind,
            id=row.id,
            case_id=row.case_id,
            version=row.version,
            deleted=row.deleted,
            fields=fields,
            field_versions={k: int(v) for k, v in row.field_versions.items()},
            created_version=row.created_version,
            flag=row.flag,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )

    @staticmethod
    def _aad(row: Record, dek_id: uuid.UUID) -> bytes:
        return associated_data(row.kind, row.id, row.case_id, FIELDS_COLUMN, row.schema_version, dek_id)

    async def write(
        self,
        row: Record | None,
        *,
        kind: str,
        record_id: uuid.UUID,
        case_id: uuid.UUID,
        fields: RecordFields,
        field_versions: Mapping[str, int],
        seq: int,
        actor: uuid.UUID | None,
        deleted: bool = False,
        flag: str | None = None,
    ) -> Record:
        """Encrypt and store ``fields`` as the record's new state at ``seq`` (insert or update ``row``)."""
        key = self._keys.get(case_id)
        if key is None:
            await self.prepare_write([case_id])
            key = self._keys[case_id]
        if row is None:
            row = Record(id=record_id, kind=kind, case_id=case_id, created_version=seq, created_by=actor)
            row.created_at = utcnow()
            self.db.add(row)
        row.schema_version = SCHEMA_VERSION
        plaintext = msgspec.json.encode(to_builtins(fields))
        row.blob = seal(key.key, plaintext, self._aad(row, key.dek_id), kek_version=key.kek_version, dek_id=key.dek_id)
        row.field_versions = dict(field_versions)
        row.version = seq
        row.deleted = deleted
        row.flag = flag if flag is not None else row.flag
        row.team_id = getattr(fields, "team_id", None) if kind == "case" else None
        row.assigned_worker_id = fields.clear_assignee()
        row.status = fields.clear_status()
        row.outcome = fields.clear_outcome()
        row.at = fields.clear_at()
        row.updated_at = utcnow()
        row.updated_by = actor
        return row

    async def mark_deleted(self, row: Record, *, seq: int, actor: uuid.UUID | None) -> Record:
        """Turn ``row`` into a tombstone at ``seq``; the encrypted fields stay (a conflict may restore them)."""
        row.deleted = True
        row.version = seq
        row.updated_at = utcnow()
        row.updated_by = actor
        return row

    def header_dek(self, row: Record) -> uuid.UUID | None:
        """The data-key id written in the row's blob header (for diagnostics and rotation checks)."""
        return None if row.blob is None else read_header(row.blob).dek_id
