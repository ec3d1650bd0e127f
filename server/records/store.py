"""The encrypted record store: sequence numbers, encryption and the clear projection.

Everything that reads or writes a record goes through :class:`RecordStore`, inside the caller's
transaction. A writer takes the sync clock's lock before its reads (:mod:`server.records.clock`), which orders
writers so that ``seq`` follows commit order; the store itself never touches the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from sqlalchemy import Select, Table, bindparam, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from server.crypto import DecryptionError, associated_data, open_blob, seal
from server.db import utcnow
from server.db.engine import among_bound
from server.records import history
from server.records.keyring import DataKey, Keyring
from server.records.models import CaseHistory, Record
from server.records.schemas import SCHEMA_VERSION, RecordFields
from server.records.validation import to_builtins

__all__ = ["FIELDS_COLUMN", "RECORDS", "RecordRow", "RecordStore", "StoredRecord"]

FIELDS_COLUMN = "fields"
logger = logging.getLogger("doorstep.records")


_reported_damage: set[uuid.UUID] = set()


@functools.cache
def _by_ids(dialect: str) -> Select[Any]:
    """The rows of ``:ids``: built once, as every push reads the rows its mutations name."""
    return select(RECORDS).where(among_bound(RECORDS.c.id, "ids", dialect))


def _report_damage(record_id: uuid.UUID) -> None:
    """Log a damaged record once per process, by id only."""
    if record_id not in _reported_damage and len(_reported_damage) < 10_000:
        _reported_damage.add(record_id)
        logger.error("record %s failed its integrity check and is left out; restore it from a backup", record_id)


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


@dataclass(slots=True)
class RecordRow:
    """One row of ``records`` as the store hands it out: plain attributes, no ORM machinery.

    The store is a small data mapper over SQLAlchemy Core. Rows it created or changed are written together
    by executemany when it flushes (see :meth:`RecordStore.flush`), which is what keeps a 500-mutation push
    and a bulk seed fast.
    """

    id: uuid.UUID
    kind: str
    case_id: uuid.UUID
    version: int
    created_version: int
    deleted: bool
    schema_version: int
    blob: bytes | None
    field_versions: dict[str, Any]
    team_id: uuid.UUID | None
    assigned_worker_id: uuid.UUID | None
    status: str | None
    outcome: str | None
    at: dt.datetime | None
    minutes: int | None
    reached: bool | None
    incoming: bool | None
    flag: str | None
    created_at: dt.datetime
    created_by: uuid.UUID | None
    updated_at: dt.datetime
    updated_by: uuid.UUID | None


RECORDS = cast("Table", Record.__table__)
_COLUMNS = [c.key for c in RECORDS.columns]
_UPDATE = (
    update(RECORDS)
    .where(RECORDS.c.id == bindparam("row_id"))
    .values({c: bindparam(f"v_{c}") for c in _COLUMNS if c != "id"})
)


def fields_aad(
    kind: str, record_id: uuid.UUID, case_id: uuid.UUID, schema_version: int, dek_id: uuid.UUID | str
) -> bytes:
    """The associated data that binds a record's sealed fields to the record, its schema version and its data key:
    built here only, for sealing and opening alike."""
    return associated_data(kind, record_id, case_id, FIELDS_COLUMN, schema_version, dek_id)


class RecordStore:
    """Reads and writes records within one transaction; caches data keys and the rows it has seen."""

    def __init__(self, db: AsyncSession, keyring: Keyring) -> None:
        self.db = db
        self.keyring = keyring
        self._keys: dict[uuid.UUID, DataKey] = {}
        # Records whose ciphertext failed its check while this store read them: id -> case id.
        self.damaged: dict[uuid.UUID, uuid.UUID] = {}
        self._seen: dict[uuid.UUID, RecordRow] = {}
        self._new: dict[uuid.UUID, RecordRow] = {}
        self._dirty: dict[uuid.UUID, RecordRow] = {}
        self._history: list[CaseHistory] = []
        # Whatever commits the session also writes the rows still waiting: nothing is lost if a caller
        # forgets to flush. (The event runs inside SQLAlchemy's greenlet, so synchronous execution works.)
        event.listen(db.sync_session, "before_commit", self._flush_sync)

    def _flush_sync(self, session: Session) -> None:
        if self._history:
            entries, self._history = self._history, []
            session.add_all(entries)
        if self._new:
            rows, self._new = list(self._new.values()), {}
            session.execute(insert(RECORDS), [{c: getattr(r, c) for c in _COLUMNS} for r in rows])
        if self._dirty:
            rows, self._dirty = list(self._dirty.values()), {}
            session.execute(
                _UPDATE,
                [{"row_id": r.id, **{f"v_{c}": getattr(r, c) for c in _COLUMNS if c != "id"}} for r in rows],
                execution_options={"synchronize_session": False},
            )

    async def flush(self) -> None:
        """Write the new and changed rows now (before a query must see them; commit does it anyway)."""
        if self._new or self._dirty or self._history:
            await self.db.run_sync(self._flush_sync)

    async def commit(self) -> None:
        """Flush and commit the transaction."""
        await self.flush()
        await self.db.commit()

    @staticmethod
    def row_of(mapping: Any) -> RecordRow:
        """Build a :class:`RecordRow` from a result row's mapping (or an ORM ``Record``)."""
        if isinstance(mapping, Record):
            return RecordRow(**{c: getattr(mapping, c) for c in _COLUMNS})
        return RecordRow(**{c: mapping[c] for c in _COLUMNS})

    async def select(self, *where: Any, order_by: Any = None) -> list[RecordRow]:
        """Rows matching ``where`` (Core expressions on ``Record`` columns), through the store's identity map."""
        query = select(RECORDS).where(*where)
        if order_by is not None:
            query = query.order_by(*(order_by if isinstance(order_by, tuple) else (order_by,)))
        return await self._read(query)

    async def _read(self, statement: Select[Any], parameters: Mapping[str, Any] | None = None) -> list[RecordRow]:
        """The rows ``statement`` (a select of every column of ``records``) finds, through the identity map."""
        await self.flush()
        return self.adopt((await self.db.execute(statement, parameters)).mappings())

    def adopt(self, mappings: Iterable[Any]) -> list[RecordRow]:
        """Rows read by a query of the caller's (every column of ``records``, other columns ignored), through
        the identity map: a row this store has seen already stays the one it holds."""
        result = []
        for mapping in mappings:
            row = self._seen.get(mapping["id"])
            if row is None:
                row = self._seen[mapping["id"]] = self.row_of(mapping)
            result.append(row)
        return result

    async def rows(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, RecordRow]:
        """The rows of ``ids`` that exist (including those written in this transaction), in one query."""
        wanted = set(ids)
        known = {i: self._seen[i] for i in wanted if i in self._seen}
        missing = wanted - known.keys()
        if missing:
            statement = _by_ids(self.db.get_bind().dialect.name)
            known.update({row.id: row for row in await self._read(statement, {"ids": list(missing)})})
        return known

    async def data_keys(self, case_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, DataKey]:
        """The data keys of ``case_ids`` this store holds or unwraps now (cases without a key are absent)."""
        ids = list(case_ids)
        await self._load_keys(ids)
        return {c: self._keys[c] for c in ids if c in self._keys}

    async def _load_keys(self, case_ids: Iterable[uuid.UUID]) -> None:
        missing = {c for c in case_ids if c not in self._keys}
        if missing:
            self._keys.update(await self.keyring.data_keys(self.db, missing))

    def hold_keys(self, rows: Iterable[Sequence[Any]]) -> None:
        """Hold data keys read by a query of the caller's: rows of (case id, dek id, wrapped key, KEK version)."""
        self.keyring.refresh()
        self._keys.update(self.keyring.unwrap(rows))

    async def prepare_write(self, case_ids: Iterable[uuid.UUID]) -> None:
        """Fetch or create the data keys of every case a batch will write to, in one go."""
        missing = {c for c in case_ids if c not in self._keys}
        if missing:
            self._keys.update(await self.keyring.data_keys_for_write(self.db, missing))

    async def decrypt(self, rows: Iterable[RecordRow]) -> list[StoredRecord]:
        """Decrypt ``rows`` (data keys fetched in one query). Shredded records come back with no fields."""
        rows = list(rows)
        await self._load_keys(row.case_id for row in rows)
        return [self._open(row) for row in rows]

    async def decrypt_fields(self, rows: Sequence[Any]) -> list[dict[str, Any] | None]:
        """Only the fields of ``rows`` (mappings with id, kind, case_id, schema_version and blob): the pull's
        hot path, which needs no other column."""
        await self._load_keys(row["case_id"] for row in rows)
        return [
            self._fields(row["kind"], row["id"], row["case_id"], row["schema_version"], row["blob"]) for row in rows
        ]

    async def decrypt_plain(
        self, sealed: Sequence[tuple[str, uuid.UUID, uuid.UUID, int, bytes | None]]
    ) -> list[bytes | None]:
        """The decrypted JSON of sealed fields, given as ``(kind, id, case_id, schema_version, blob)``, not decoded:
        the pull's hot path passes it on as it is. A damaged one is ``None`` and noted in ``damaged``."""
        await self._load_keys({item[2] for item in sealed})
        plain = self._plain
        return [plain(kind, record_id, case_id, version, blob) for kind, record_id, case_id, version, blob in sealed]

    def _plain(
        self, kind: str, record_id: uuid.UUID, case_id: uuid.UUID, schema_version: int, blob: bytes | None
    ) -> bytes | None:
        """The decrypted JSON of one record's fields. One damaged ciphertext (a bad disk block, a botched restore)
        must not make the whole case, or every pull page that holds it, unreadable: the record is reported, noted
        in ``damaged`` and left out (docs/security.md case 38)."""
        if blob is None:
            return None
        key = self._keys.get(case_id)
        if key is None:
            raise DecryptionError("no data key for the case")
        try:
            return open_blob(key.key, blob, fields_aad(kind, record_id, case_id, schema_version, key.dek_text))
        except DecryptionError:
            self._damaged(record_id, case_id)
            return None

    def _fields(
        self, kind: str, record_id: uuid.UUID, case_id: uuid.UUID, schema_version: int, blob: bytes | None
    ) -> dict[str, Any] | None:
        """The fields, decoded from ``_plain``: JSON that opens but does not decode is damaged the same way."""
        plain = self._plain(kind, record_id, case_id, schema_version, blob)
        if plain is None:
            return None
        try:
            fields: dict[str, Any] = msgspec.json.decode(plain)
        except msgspec.DecodeError:
            self._damaged(record_id, case_id)
            return None
        return fields

    def _damaged(self, record_id: uuid.UUID, case_id: uuid.UUID) -> None:
        self.damaged[record_id] = case_id
        _report_damage(record_id)

    def _open(self, row: RecordRow) -> StoredRecord:
        fields = self._fields(row.kind, row.id, row.case_id, row.schema_version, row.blob)
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

    async def write(
        self,
        row: RecordRow | None,
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
    ) -> RecordRow:
        """Encrypt ``fields`` as the record's new state at ``seq`` (a new row, or an update of ``row``)."""
        key = self._keys.get(case_id)
        if key is None:
            await self.prepare_write([case_id])
            key = self._keys[case_id]
        now = utcnow()
        values = to_builtins(fields)
        plaintext = msgspec.json.encode(values)
        aad = fields_aad(kind, record_id, case_id, SCHEMA_VERSION, key.dek_id)
        blob = seal(key.key, plaintext, aad, kek_version=key.kek_version, dek_id=key.dek_id)
        team_id = getattr(fields, "team_id", None) if kind == "case" else None
        at = fields.clear_at()
        if kind == "case" and not deleted and getattr(fields, "status", None) == "closed":
            at = _approved_at(row, now)
        if kind == "case" and not deleted:
            self._note_history(row, key, case_id=case_id, team_id=team_id, seq=seq, state=history.tracked(values))
        elif kind == "assessment" and not deleted:
            self._note_history(row, key, case_id=case_id, team_id=None, seq=seq, state=history.arrears_of(values))
        if row is None:
            row = RecordRow(
                id=record_id,
                kind=kind,
                case_id=case_id,
                version=seq,
                created_version=seq,
                deleted=deleted,
                schema_version=SCHEMA_VERSION,
                blob=blob,
                field_versions=dict(field_versions),
                team_id=team_id,
                assigned_worker_id=fields.clear_assignee(),
                status=fields.clear_status(),
                outcome=fields.clear_outcome(),
                at=at,
                minutes=fields.clear_minutes(),
                reached=fields.clear_reached(),
                incoming=fields.clear_incoming(),
                flag=flag,
                created_at=now,
                created_by=actor,
                updated_at=now,
                updated_by=actor,
            )
            self._new[row.id] = row
            self._seen[row.id] = row
            return row
        row.schema_version = SCHEMA_VERSION
        row.blob = blob
        row.field_versions = dict(field_versions)
        row.version = seq
        row.deleted = deleted
        row.team_id = team_id
        row.assigned_worker_id = fields.clear_assignee()
        row.status = fields.clear_status()
        row.outcome = fields.clear_outcome()
        row.at = at
        row.minutes = fields.clear_minutes()
        row.reached = fields.clear_reached()
        row.incoming = fields.clear_incoming()
        row.updated_at = now
        row.updated_by = actor
        if flag is not None:
            row.flag = flag
        self._changed(row)
        return row

    def _note_history(
        self, row: RecordRow | None, key: DataKey, *, case_id: uuid.UUID, team_id: Any, seq: int, state: dict[str, Any]
    ) -> None:
        """Append a history entry when a case's status, outcome or dates, or an assessment's arrears, change (before
        ``row`` is overwritten). A new assessment without arrears adds nothing."""
        before = (
            None
            if row is None or row.deleted
            else self._fields(row.kind, row.id, row.case_id, row.schema_version, row.blob)
        )
        if history.is_case_state(state):
            if before is not None and history.tracked(before) == state:
                return
        elif (history.arrears_of(before) if before is not None else {history.ARREARS: None}) == state:
            return
        self._history.append(history.entry(key, case_id=case_id, team_id=team_id, seq=seq, state=state))

    def _changed(self, row: RecordRow) -> None:
        if row.id not in self._new:
            self._dirty[row.id] = row

    async def mark_deleted(self, row: RecordRow, *, seq: int, actor: uuid.UUID | None) -> RecordRow:
        """Turn ``row`` into a tombstone at ``seq``; the encrypted fields stay (a conflict may restore them)."""
        row.deleted = True
        row.version = seq
        row.updated_at = utcnow()
        row.updated_by = actor
        self._changed(row)
        return row


def _approved_at(row: RecordRow | None, now: dt.datetime) -> dt.datetime:
    """A closed case's clear moment: when the server recorded the approval of its closure, kept while it stays
    closed (a corrected closing day or outcome does not move it). Retention counts from it, never from the closing
    day a tablet wrote (docs/security.md case 47)."""
    if row is not None and not row.deleted and row.status == "closed" and row.at is not None:
        return row.at
    return now
