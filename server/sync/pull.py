"""Pull: one page of the changes in the caller's scope after their cursor.

Pull reads in one snapshot: the committed ``seq`` H of the clock of the caller's organisation bounds the page, so
a change committed later can never be skipped, and scope membership is read in the same snapshot. A page is one
range of the caller's scope feed (``sync_feed``, kept by the database's triggers). A case that entered the caller's
scope is delivered whole (its records' positions are raised to the moment it entered), and a case that left it is
named in ``purge``. Every delivered record is audited as a read.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

import msgspec
from sqlalchemy import Integer, Select, bindparam, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server import audit
from server.audit.shared import SharedAppends
from server.auth.schemas import Principal
from server.db import begin_write
from server.problems import CursorExpired, UpgradeRequired, ValidationFailed
from server.records import clock, entitlement, legacy
from server.records.keyring import Keyring
from server.records.models import Record, ScopeEvent, SyncFeed
from server.records.schemas import SCHEMA_VERSION
from server.records.scope import subject_of
from server.records.store import RecordStore
from server.sync.cursor import Cursor, CursorInvalid, decode_cursor, encode_cursor
from server.sync.messages import MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, Change, PullResponse

__all__ = ["audit_delivered", "pull_page"]

# What a pulled change needs of a row; the other columns stay in the database. A page's rows (``_Found``) are
# these, then the feed entry's position and entered_seq.
PULL_COLUMNS = (
    Record.id,
    Record.kind,
    Record.case_id,
    Record.version,
    Record.deleted,
    Record.blob,
    Record.schema_version,
    Record.flag,
)


_Found = Sequence[Any]


async def pull_page(
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    keyring: Keyring,
    secret: bytes,
    principal: Principal,
    seen: clock.Seen,
    *,
    cursor_text: str | None,
    limit: int,
    protocol: int | None = None,
    schema_version: int | None = None,
    reads: SharedAppends | None = None,
) -> PullResponse:
    """One page of changes in the caller's scope after the cursor, in ``(seq, id)`` order. A client of an older
    ``schema_version`` gets the fields in its form (:mod:`server.records.legacy`). With ``reads``, the page's read
    entries are written with other requests' (:mod:`server.audit.shared`); they are committed before it returns
    either way."""
    if protocol is not None and protocol < MIN_PROTOCOL_VERSION:
        raise UpgradeRequired("This client speaks an old protocol; update the app.", min_protocol=MIN_PROTOCOL_VERSION)
    if protocol is not None and protocol > PROTOCOL_VERSION:
        raise ValidationFailed(f"Protocol {protocol} is unknown to this server.", field="protocol")
    try:
        cursor = decode_cursor(secret, principal.user_id, cursor_text)
    except CursorInvalid as exc:
        raise ValidationFailed(str(exc), field="cursor") from None
    subject = subject_of(principal)
    organisation = principal.organisation_id
    if cursor.organisation is not None and cursor.organisation != organisation:
        raise CursorExpired("The cursor counts on another organisation's clock; push, then bootstrap again.")
    gen = principal.scope_generation
    if cursor_text and cursor.generation != gen:
        raise CursorExpired("Your role or team changed, and with it what you see; push, then bootstrap again.")

    dialect = engine.dialect.name
    if subject is None or not (cursor.after_id is not None or seen.beyond(organisation, cursor.seq)):
        # Perhaps a device that is up to date: then one statement answers, and no snapshot is opened. (A cursor
        # part-way through a page, or behind what this process saw committed, has news: the snapshot is next.)
        committed = await clock.read(engine, organisation)
        seen.note(organisation, committed.seq)
        if _expired(cursor, committed.horizon):
            raise CursorExpired("The cursor is older than the server keeps deletions; push, then bootstrap again.")
        if subject is None or (cursor.seq >= committed.seq and cursor.after_id is None):
            next_cursor = encode_cursor(
                secret, principal.user_id, Cursor(max(cursor.seq, committed.seq)), organisation, gen
            )
            return PullResponse(changes=[], purge=[], cursor=next_cursor, has_more=False)

    async with sessions() as db:
        if dialect == "postgresql":
            await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        # Again inside the snapshot: H must be the clock of the very snapshot the records are read from.
        high, horizon = await clock.read(db, organisation)
        seen.note(organisation, high)
        if _expired(cursor, horizon):
            raise CursorExpired("The cursor is older than the server keeps deletions; push, then bootstrap again.")
        if cursor.seq >= high and cursor.after_id is None:
            next_cursor = encode_cursor(secret, principal.user_id, Cursor(max(cursor.seq, high)), organisation, gen)
            return PullResponse(changes=[], purge=[], cursor=next_cursor, has_more=False)
        paging = cursor.after_id is not None
        window = {"subject": subject, "from_seq": cursor.seq, "high": high, "page_size": limit + 1}
        if paging:
            window["after_id"] = cursor.after_id
        connection = await db.connection()
        # One range of the subject's feed, each entry with its record (Core rows, read by position: a page holds
        # thousands, and a Row's attribute lookup costs ten times its index).
        entries: list[_Found] = [tuple(row) for row in (await connection.execute(_page(dialect, paging), window)).all()]
        has_more = len(entries) > limit
        entries = entries[:limit]
        end = Cursor(int(entries[-1][_POSITION]), entries[-1][0]) if has_more else Cursor(high)
        # For the device's progress bar ("n of m"): how many changes follow this page in the same snapshot.
        remaining = 0
        if has_more:
            after_end = {"subject": subject, "from_seq": end.seq, "after_id": end.after_id, "high": high}
            remaining = int((await connection.execute(_REMAINING, after_end)).scalar_one())
        # The page's range is the entries'; what it delivers are their records that a device may see: not one a
        # shred emptied, nor a tombstone from before its case entered the scope.
        found = [row for row in entries if _visible(row)]
        store = RecordStore(db, keyring)
        opened = await store.decrypt_plain(
            [(kind, rid, case_id, sv, blob) for rid, kind, case_id, _, _, blob, sv, _, _, _ in found]
        )
        # The scope the columns gave, confirmed by the cases' sealed fields before any fields leave (security.md 59).
        case_records = {
            row[2]: plain
            for row, plain in zip(found, opened, strict=True)
            if row[1] == "case" and row[0] == row[2] and not row[_DELETED] and plain is not None
        }
        confirmed, mismatched = await entitlement.confirmed(
            db, keyring, principal, {row[2] for row in found if not row[_DELETED]}, case_records, store
        )
        # Every case that left the scope in this page's range is purged, even if it came back within the range:
        # the client drops its copy first and then takes the records delivered for the re-entry, so a record
        # deleted while the case was away does not survive on the device.
        # A bootstrap (no cursor) holds nothing yet, so it purges nothing, and does not ask.
        purge: list[uuid.UUID] = []
        if cursor.seq:
            span = {"subject": subject, "from_seq": cursor.seq, "to_seq": end.seq}
            purge = sorted(set((await connection.execute(_LEFT, span)).scalars()))
    damaged = store.damaged
    changes = [
        Change(
            kind=kind,
            id=rid,
            case_id=case_id,
            version=version,
            deleted=deleted,
            # The form the client asked for (its schema_version), not the form the record is stored in.
            fields=None if deleted else _as_read(kind, plain, schema_version),
            flag=flag,
        )
        for (rid, kind, case_id, version, deleted, _, _, flag, _, _), plain in zip(found, opened, strict=True)
        if (not damaged or rid not in damaged)  # left out and reported; sent once it is restored
        and (deleted or case_id in confirmed)
    ]
    if changes and not store.damaged and not mismatched and reads is not None:
        # The common case, written with the other pulls waiting at the same moment (server/audit/shared.py).
        delivered = ((c.case_id, c.id) for c in changes)
        read = audit.per_case(
            action="sync.pull", actor_id=principal.user_id, device_id=principal.device_id, records=delivered
        )
        await reads.append(organisation, read)
    elif changes or store.damaged or mismatched:
        async with sessions() as db:
            await begin_write(db)
            await audit_delivered(
                db, keyring, principal, "sync.pull", store.damaged, ((c.case_id, c.id) for c in changes)
            )
            await entitlement.audit_mismatches(db, keyring, principal, mismatched)
            await db.commit()
    return PullResponse(
        changes=changes,
        purge=purge,
        cursor=encode_cursor(secret, principal.user_id, end, organisation, gen),
        has_more=has_more,
        remaining=remaining,
    )


# The window of a page, bound at execution: the statements below are built once.
_SUBJECT = bindparam("subject", type_=SyncFeed.subject.type)
_FROM_SEQ = bindparam("from_seq", type_=Record.version.type)
_HIGH = bindparam("high", type_=Record.version.type)
_AFTER_ID = bindparam("after_id", type_=Record.id.type)
_PAGE_SIZE = bindparam("page_size", type_=Integer())


def _visible(row: _Found) -> bool:
    """Whether a feed entry's record is sent: it exists with its fields (a shred empties them), and is not a
    tombstone from before its case entered the scope."""
    return row[_BLOB] is not None and (not row[_DELETED] or row[_VERSION] > row[_ENTERED])


# A page's row: PULL_COLUMNS (the id the entry's), then the feed entry's position and entered_seq.
_VERSION, _DELETED, _BLOB = 3, 4, 5
_POSITION, _ENTERED = len(PULL_COLUMNS), len(PULL_COLUMNS) + 1


def _after(paging: bool) -> Any:
    """The feed's entries after the cursor: after its position, or with ``paging`` after its id there."""
    if paging:
        return tuple_(SyncFeed.position, SyncFeed.record_id) > tuple_(_FROM_SEQ, _AFTER_ID)
    return SyncFeed.position > _FROM_SEQ


@functools.cache
def _page(dialect: str, paging: bool) -> Select[Any]:
    """A page of the subject's feed after the cursor up to ``high`` (at most ``page_size`` entries, in
    ``(position, record id)`` order): one range of the feed's primary key, each entry with its record's row
    (outer-joined: a page's range counts its entries, whether or not a record is sent). The entry's record id
    stands in for the record's own."""
    feed = (
        select(SyncFeed.record_id, SyncFeed.position, SyncFeed.entered_seq)
        .where(SyncFeed.subject == _SUBJECT, _after(paging), SyncFeed.position <= _HIGH)
        .order_by(SyncFeed.position, SyncFeed.record_id)
        .limit(_PAGE_SIZE)
        .subquery()
    )
    if dialect == "postgresql":
        # A lateral lookup by primary key: with the page size bound at execution, a generic plan cannot know how
        # few entries a page holds and could hash the whole records table instead. LIMIT 1 (one row per id anyway)
        # keeps the planner from flattening the lateral back into a plain join.
        rows = select(*PULL_COLUMNS[1:]).where(Record.id == feed.c.record_id).limit(1).lateral()
        return (
            select(feed.c.record_id, *rows.c, feed.c.position, feed.c.entered_seq)
            .select_from(feed)
            .outerjoin(rows, true())
            .order_by(feed.c.position, feed.c.record_id)
        )
    return (
        select(feed.c.record_id, *PULL_COLUMNS[1:], feed.c.position, feed.c.entered_seq)
        .select_from(feed)
        .outerjoin(Record, Record.id == feed.c.record_id)
        .order_by(feed.c.position, feed.c.record_id)
    )


# The cases that left the subject's scope within a page's range of positions.
_LEFT = select(ScopeEvent.case_id).where(
    ScopeEvent.subject == _SUBJECT,
    ScopeEvent.seq > _FROM_SEQ,
    ScopeEvent.seq <= bindparam("to_seq", type_=ScopeEvent.seq.type),
    ScopeEvent.entered.is_(False),
)

# How many entries follow a page's end in the same snapshot: a count over one index range.
_REMAINING = (
    select(func.count())
    .select_from(SyncFeed)
    .where(SyncFeed.subject == _SUBJECT, _after(True), SyncFeed.position <= _HIGH)
)


async def audit_delivered(
    db: AsyncSession,
    keyring: Keyring,
    principal: Principal,
    action: str,
    damaged: dict[uuid.UUID, uuid.UUID],
    delivered: Iterable[tuple[uuid.UUID, uuid.UUID]],
) -> None:
    """Audit records sent to a device as read (one entry per case), and each damaged one left out (by id)."""
    for damaged_id, case_id in damaged.items():
        await audit.append(
            db,
            action="record.integrity",
            outcome="damaged",
            actor_id=principal.user_id,
            device_id=principal.device_id,
            case_id=case_id,
            record_ids=[damaged_id],
            organisation=principal.organisation_id,
            key=keyring.audit,
        )
    await audit.append_per_case(
        db,
        action=action,
        actor_id=principal.user_id,
        device_id=principal.device_id,
        records=delivered,
        organisation=principal.organisation_id,
        key=keyring.audit,
    )


def _expired(cursor: Cursor, horizon: int) -> bool:
    """Whether tombstones after ``cursor`` may have been compacted away.

    Compaction removed tombstones up to and including ``seq`` = horizon. A cursor below it, or part-way through
    that very ``seq`` (a page that stopped between two records written by one batch), may have missed one.
    """
    if not cursor.seq:
        return False
    return cursor.seq < horizon or (cursor.seq == horizon and cursor.after_id is not None)


def _as_read(kind: str, plain: bytes | None, schema_version: int | None) -> dict[str, Any] | None:
    """Fields in the form the client reads: the current one, or a version 1 client's.

    Only legal events have had another form; every other kind's decrypted JSON is passed on as it is, without
    being decoded into objects and encoded again (``msgspec.Raw``; it is a JSON object, as the type says).
    """
    if plain is None:
        return None
    if kind not in legacy.KINDS_WITH_HISTORY:
        return cast("dict[str, Any]", msgspec.Raw(plain))
    return legacy.as_read(kind, msgspec.json.decode(plain), schema_version or SCHEMA_VERSION)
