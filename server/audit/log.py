"""Appending to and verifying the keyed, hash-chained audit log.

Each entry's hash is an HMAC-SHA256, under the audit key, over the previous hash and a canonical encoding of the
entry, so changing, inserting or deleting any entry breaks every hash after it, and nobody without the key (which
the key provider holds, never the database) can recompute the chain after tampering with it (docs/security.md
case 40). Entries written before the installation had an audit key are plain SHA-256 and are verified as such.

Keying cannot stop someone with write access from cutting entries off the end and rewinding the head to an
earlier entry: :func:`verify_chain` reports the head's sequence and hash so that an operator can record them
elsewhere (an anchor), and a later verification against an anchor notices the cut.

Appends run inside the caller's transaction: an audited change and its entry commit together, or neither does.

Each organisation has its own chain (:mod:`server.audit.models`): the caller names the organisation an entry
belongs to, or none for the installation's chain. An organisation's chain is signed from its first entry on (it
was begun after the installation had an audit key); the installation's chain from the key's ``first_seq`` on.
The chain's name is part of what is signed, so an entry cannot be moved from one chain to another.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from typing import cast

import msgspec
from sqlalchemy import Table, Update, bindparam, insert, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.models import GENESIS, INSTALLATION, AuditEntry, AuditHead
from server.db import utcnow

__all__ = [
    "AuditKey",
    "ChainReport",
    "Entry",
    "append",
    "append_many",
    "append_per_case",
    "chain_of",
    "chains",
    "entry_hash",
    "verify_all",
    "verify_chain",
]


class AuditKey(msgspec.Struct, frozen=True):
    """The key that signs the chain, and the first entry signed with it (earlier ones are plain SHA-256)."""

    key: bytes
    first_seq: int


class _Canonical(msgspec.Struct, array_like=True):
    seq: int
    at: str
    actor_id: str | None
    device_id: str | None
    action: str
    case_id: str | None
    record_ids: list[str]
    outcome: str


def chain_of(organisation: uuid.UUID | None) -> str:
    """The name of the organisation's chain (its id), or the installation's chain."""
    return str(organisation) if organisation else INSTALLATION


def _signed(entry: AuditEntry | _Row, key: AuditKey | None) -> bool:
    if key is None:
        return False
    return entry.seq >= key.first_seq if entry.chain == INSTALLATION else True


def entry_hash(prev_hash: str, entry: AuditEntry | _Row, key: AuditKey | None) -> str:
    """The hash that chains ``entry`` to the one before: HMAC-SHA256 under ``key`` (in the installation's chain
    from the key's ``first_seq`` on). An organisation's entries sign their chain's name too."""
    canonical = _Canonical(
        seq=entry.seq,
        at=entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        actor_id=str(entry.actor_id) if entry.actor_id else None,
        device_id=str(entry.device_id) if entry.device_id else None,
        action=entry.action,
        case_id=str(entry.case_id) if entry.case_id else None,
        record_ids=entry.record_ids,
        outcome=entry.outcome,
    )
    message = prev_hash.encode() + b"|" + msgspec.json.encode(canonical)
    if entry.chain:
        message = entry.chain.encode() + b"|" + message
    if key is not None and _signed(entry, key):
        return hmac.new(key.key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """One entry to append with :func:`append_many`."""

    action: str
    outcome: str
    actor_id: uuid.UUID | None
    device_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    record_ids: tuple[uuid.UUID, ...] = ()


class _Row(msgspec.Struct, kw_only=True):
    """An entry as :func:`append_many` writes and hashes it: the columns of ``audit_log``, in its order."""

    chain: str
    seq: int
    at: dt.datetime
    actor_id: uuid.UUID | None
    device_id: uuid.UUID | None
    action: str
    case_id: uuid.UUID | None
    record_ids: list[str]
    outcome: str
    prev_hash: str
    hash: str = ""


_HEADS = cast("Table", AuditHead.__table__)
_ENTRIES = cast("Table", AuditEntry.__table__)
_ENTRY_COLUMNS = tuple(column.name for column in _ENTRIES.columns)
assert _Row.__struct_fields__ == _ENTRY_COLUMNS, "a row of append_many is a row of audit_log"
# Built once: every sync request appends. (Bound names differ from the columns they set.)
_ADVANCE = (
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("chain_name"))
    .values(seq=_HEADS.c.seq + bindparam("count"))
    .returning(_HEADS.c.seq, _HEADS.c.hash)
)
_SET_TIP = update(_HEADS).where(_HEADS.c.chain == bindparam("chain_name")).values(hash=bindparam("tip"))


_MAX_IN_ONE = 32


@functools.cache
def _append_statement(count: int) -> Update:
    """PostgreSQL: insert ``count`` entries and set the chain's tip in one statement. Built once per count, with
    its parameters named by row, so that SQLAlchemy compiles it once too."""
    # INSERT ... SELECT of typed parameters: a multi-row VALUES would be compiled anew on every execution.
    rows = [select(*(bindparam(f"{c}_{i}", type_=_ENTRIES.c[c].type) for c in _ENTRY_COLUMNS)) for i in range(count)]
    written = insert(_ENTRIES).from_select(list(_ENTRY_COLUMNS), rows[0] if count == 1 else union_all(*rows))
    return _SET_TIP.add_cte(written.cte("written"))


async def _advance_head(db: AsyncSession, chain: str, count: int) -> tuple[int, str]:
    """Take the chain's head lock, move it ``count`` entries on and return the new seq and the old tip's hash.
    A chain's head is made on its first entry (two writers racing here both go on safely)."""
    values = {"chain_name": chain, "count": count}
    # Core on the session's connection: every sync request appends, and the ORM's execution adds a third.
    connection = await db.connection()
    head = (await connection.execute(_ADVANCE, values)).first()
    if head is None:
        upsert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
        await db.execute(
            upsert(AuditHead).values(chain=chain, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["chain"])
        )
        head = (await connection.execute(_ADVANCE, values)).one()
    return int(head.seq), str(head.hash)


async def _set_tip(db: AsyncSession, chain: str, tip: str) -> None:
    await db.execute(_SET_TIP, {"chain_name": chain, "tip": tip})


async def append_many(
    db: AsyncSession, entries: list[Entry], *, organisation: uuid.UUID | None, key: AuditKey | None
) -> None:
    """Append several entries to the organisation's chain in the caller's transaction with two statements on
    PostgreSQL (three on SQLite), whatever their number."""
    if not entries:
        return
    chain = chain_of(organisation)
    head_seq, prev_hash = await _advance_head(db, chain, len(entries))
    # RETURNING gives the new seq; the hash is still the old tip (it is rewritten below).
    seq = head_seq - len(entries)
    now = utcnow()
    rows = []
    for item in entries:
        seq += 1
        # A plain row, not an AuditEntry: the ORM's bookkeeping of each object would cost more than the rest.
        row = _Row(
            chain=chain,
            seq=seq,
            at=now,
            actor_id=item.actor_id,
            device_id=item.device_id,
            action=item.action,
            case_id=item.case_id,
            record_ids=[str(r) for r in sorted(item.record_ids)],  # a UUID sorts as its text does
            outcome=item.outcome,
            prev_hash=prev_hash,
        )
        row.hash = prev_hash = entry_hash(prev_hash, row, key)
        rows.append(msgspec.structs.asdict(row))
    if db.get_bind().dialect.name == "postgresql" and len(rows) <= _MAX_IN_ONE:
        # The entries and the new tip in one round trip: the insert as a statement of the tip's update.
        values = {f"{column}_{i}": value for i, row in enumerate(rows) for column, value in row.items()}
        await (await db.connection()).execute(
            _append_statement(len(rows)), {**values, "chain_name": chain, "tip": prev_hash}
        )
        return
    await (await db.connection()).execute(insert(_ENTRIES), rows)
    await _set_tip(db, chain, prev_hash)


async def append_per_case(
    db: AsyncSession,
    *,
    action: str,
    actor_id: uuid.UUID | None,
    device_id: uuid.UUID | None,
    records: Iterable[tuple[uuid.UUID, uuid.UUID]],
    organisation: uuid.UUID | None,
    key: AuditKey | None,
    outcome: str = "ok",
) -> None:
    """One entry per case for the ``(case id, record id)`` pairs a read or write touched."""
    entries = per_case(action=action, actor_id=actor_id, device_id=device_id, records=records, outcome=outcome)
    await append_many(db, entries, organisation=organisation, key=key)


def per_case(
    *,
    action: str,
    actor_id: uuid.UUID | None,
    device_id: uuid.UUID | None,
    records: Iterable[tuple[uuid.UUID, uuid.UUID]],
    outcome: str = "ok",
) -> list[Entry]:
    """The entries of :func:`append_per_case`, for a caller that appends several people's entries at once."""
    by_case: dict[uuid.UUID, list[uuid.UUID]] = {}
    for case_id, record_id in records:
        by_case.setdefault(case_id, []).append(record_id)
    return [
        Entry(
            action=action,
            outcome=outcome,
            actor_id=actor_id,
            device_id=device_id,
            case_id=case_id,
            record_ids=tuple(record_ids),
        )
        for case_id, record_ids in by_case.items()
    ]


async def append(
    db: AsyncSession,
    *,
    action: str,
    outcome: str,
    actor_id: uuid.UUID | None,
    device_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    record_ids: Iterable[uuid.UUID] = (),
    organisation: uuid.UUID | None,
    key: AuditKey | None,
) -> AuditEntry:
    """Append one entry to the organisation's chain (none: the installation's) in the caller's (write)
    transaction."""
    chain = chain_of(organisation)
    head, prev_hash = await _advance_head(db, chain, 1)
    entry = AuditEntry(
        chain=chain,
        seq=head,
        at=utcnow(),
        actor_id=actor_id,
        device_id=device_id,
        action=action,
        case_id=case_id,
        record_ids=sorted(str(r) for r in record_ids),
        outcome=outcome,
        prev_hash=prev_hash,
        hash="",
    )
    entry.hash = entry_hash(prev_hash, entry, key)
    db.add(entry)
    await _set_tip(db, chain, entry.hash)
    return entry


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    """The result of a verification: how many entries, the first broken one if any, and the head to anchor."""

    entries: int
    ok: bool
    broken_at: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = ""


async def chains(db: AsyncSession) -> list[str]:
    """The names of every chain that has an entry: the installation's first, then the organisations'."""
    return sorted((await db.scalars(select(AuditHead.chain))).all())


async def verify_chain(
    db: AsyncSession,
    key: AuditKey | None,
    *,
    chain: str = INSTALLATION,
    anchors: Iterable[tuple[int, str]] = (),
    batch: int = 5000,
) -> ChainReport:
    """Recompute every hash of one chain from the start and compare with the stored chain, its head and the
    ``anchors`` (``(seq, hash)`` pairs an operator recorded from earlier reports)."""
    wanted = {seq: digest for seq, digest in anchors if seq}  # the head of an empty chain anchors nothing
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = (
            await db.scalars(
                select(AuditEntry)
                .where(AuditEntry.chain == chain, AuditEntry.seq > last_seq)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainReport(entries=count, ok=False, broken_at=expected_seq, reason="entry missing")
            if entry.prev_hash != prev_hash or entry_hash(prev_hash, entry, key) != entry.hash:
                return ChainReport(entries=count, ok=False, broken_at=entry.seq, reason="hash mismatch")
            if entry.seq in wanted and wanted.pop(entry.seq) != entry.hash:
                return ChainReport(entries=count, ok=False, broken_at=entry.seq, reason="differs from its anchor")
            prev_hash = entry.hash
            expected_seq += 1
            count += 1
            last_seq = entry.seq
    head = (await db.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.chain == chain))).first()
    head_seq, head_hash = (0, GENESIS) if head is None else (int(head.seq), str(head.hash))
    if head_seq != last_seq or head_hash != prev_hash:
        return ChainReport(
            entries=count,
            ok=False,
            broken_at=last_seq + 1,
            reason="entries after the last one were removed or the head was changed",
        )
    if wanted:
        first = min(wanted)
        return ChainReport(entries=count, ok=False, broken_at=first, reason="an anchored entry is missing (cut off?)")
    return ChainReport(entries=count, ok=True, head_seq=last_seq, head_hash=prev_hash)


async def verify_all(
    db: AsyncSession, key: AuditKey | None, *, anchors: Iterable[tuple[str, int, str]] = ()
) -> dict[str, ChainReport]:
    """Verify every chain (with the ``(chain, seq, hash)`` anchors recorded for it); the installation's first.
    An anchor of a chain that has no head is reported as that chain cut off."""
    wanted: dict[str, list[tuple[int, str]]] = {}
    for chain, seq, digest in anchors:
        wanted.setdefault(chain, []).append((seq, digest))
    names = sorted(set(await chains(db)) | set(wanted) | {INSTALLATION})
    return {name: await verify_chain(db, key, chain=name, anchors=wanted.get(name, ())) for name in names}
