"""Appending to and verifying the keyed, hash-chained audit log.

Each entry's hash is an HMAC-SHA256, under the audit key, over the previous hash and a canonical encoding of the
entry, so changing, inserting or deleting any entry breaks every hash after it, and nobody without the key (which
the key provider holds, never the database) can recompute the chain after tampering with it (docs/security.md
case 40). Entries written before the installation had an audit key are plain SHA-256 and are verified as such.

Keying cannot stop someone with write access from cutting entries off the end and rewinding the head to an
earlier entry: :func:`verify_chain` reports the head's sequence and hash so that an operator can record them
elsewhere (an anchor), and a later verification against an anchor notices the cut.

Appends run inside the caller's transaction: an audited change and its entry commit together, or neither does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from typing import cast

import msgspec
from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.models import GENESIS, AuditEntry, AuditHead
from server.db import utcnow

__all__ = [
    "AuditKey",
    "ChainReport",
    "Entry",
    "append",
    "append_many",
    "append_per_case",
    "entry_hash",
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


def entry_hash(prev_hash: str, entry: AuditEntry, key: AuditKey | None) -> str:
    """The hash that chains ``entry`` to the one before: HMAC-SHA256 under ``key`` from its ``first_seq`` on."""
    canonical = _Canonical(
        seq=entry.seq,
        at=entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        actor_id=str(entry.actor_id) if entry.actor_id else None,
        device_id=str(entry.device_id) if entry.device_id else None,
        action=entry.action,
        case_id=str(entry.case_id) if entry.case_id else None,
        record_ids=[str(r) for r in entry.record_ids],
        outcome=entry.outcome,
    )
    message = prev_hash.encode() + b"|" + msgspec.json.encode(canonical)
    if key is not None and entry.seq >= key.first_seq:
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


async def append_many(db: AsyncSession, entries: list[Entry], *, key: AuditKey | None) -> None:
    """Append several entries in the caller's transaction with three statements, whatever their number."""
    if not entries:
        return
    head = (
        await db.execute(
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(seq=AuditHead.seq + len(entries))
            .returning(AuditHead.seq, AuditHead.hash)
        )
    ).one()
    # RETURNING gives the new seq; the hash is still the old tip (it is rewritten below).
    seq, prev_hash = int(head.seq) - len(entries), str(head.hash)
    now = utcnow()
    rows = []
    for item in entries:
        seq += 1
        entry = AuditEntry(
            seq=seq,
            at=now,
            actor_id=item.actor_id,
            device_id=item.device_id,
            action=item.action,
            case_id=item.case_id,
            record_ids=sorted(str(r) for r in item.record_ids),
            outcome=item.outcome,
            prev_hash=prev_hash,
            hash="",
        )
        entry.hash = entry_hash(prev_hash, entry, key)
        prev_hash = entry.hash
        rows.append(
            {
                c: getattr(entry, c)
                for c in (
                    "seq",
                    "at",
                    "actor_id",
                    "device_id",
                    "action",
                    "case_id",
                    "record_ids",
                    "outcome",
                    "prev_hash",
                    "hash",
                )
            }
        )
    await db.execute(insert(cast("Table", AuditEntry.__table__)), rows)
    await db.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev_hash))


async def append_per_case(
    db: AsyncSession,
    *,
    action: str,
    actor_id: uuid.UUID | None,
    device_id: uuid.UUID | None,
    records: Iterable[tuple[uuid.UUID, uuid.UUID]],
    key: AuditKey | None,
    outcome: str = "ok",
) -> None:
    """One entry per case for the ``(case id, record id)`` pairs a read or write touched."""
    by_case: dict[uuid.UUID, list[uuid.UUID]] = {}
    for case_id, record_id in records:
        by_case.setdefault(case_id, []).append(record_id)
    await append_many(
        db,
        [
            Entry(
                action=action,
                outcome=outcome,
                actor_id=actor_id,
                device_id=device_id,
                case_id=case_id,
                record_ids=tuple(record_ids),
            )
            for case_id, record_ids in by_case.items()
        ],
        key=key,
    )


async def append(
    db: AsyncSession,
    *,
    action: str,
    outcome: str,
    actor_id: uuid.UUID | None,
    device_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    record_ids: Iterable[uuid.UUID] = (),
    key: AuditKey | None,
) -> AuditEntry:
    """Append one entry in the caller's (write) transaction."""
    head = (
        await db.execute(
            update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1).returning(AuditHead.seq)
        )
    ).scalar_one()
    prev_hash = (await db.execute(select(AuditHead.hash).where(AuditHead.id == 1))).scalar_one()
    entry = AuditEntry(
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
    await db.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=entry.hash))
    return entry


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    """The result of a verification: how many entries, the first broken one if any, and the head to anchor."""

    entries: int
    ok: bool
    broken_at: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = ""


async def verify_chain(
    db: AsyncSession, key: AuditKey | None, *, anchors: Iterable[tuple[int, str]] = (), batch: int = 5000
) -> ChainReport:
    """Recompute every hash from the start and compare with the stored chain, its head and the ``anchors``
    (``(seq, hash)`` pairs an operator recorded from earlier reports)."""
    wanted = dict(anchors)
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = (
            await db.scalars(select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch))
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
    head = (await db.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1))).one()
    if head.seq != last_seq or head.hash != prev_hash:
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
