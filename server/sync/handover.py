"""Writing a record's new state within a push, and the handover that a case's new worker brings with it.

A handover is one server operation (docs/sync-protocol.md "Handover"): when a push gives a case to another worker,
the same transaction gives that worker every planned visit and every open action the previous worker held in the
case, whatever the supervisor's tablet knew of them. Otherwise a return visit the old worker planned offline would
keep the case in the old worker's scope, and a visit nobody holds any more would go unvisited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from msgspec import to_builtins
from sqlalchemy import delete

from server.records import writing
from server.records.models import Record
from server.records.schemas import RecordFields
from server.records.store import RecordRow, StoredRecord
from server.sync.batch import Batch
from server.sync.models import DeadlineReminder

__all__ = ["hand_over", "rewrite"]

# What follows the case to its new worker: the field naming the holder, and the state that means "still to do".
FOLLOWS = {"visit": ("assigned_worker_id", "planned"), "action": ("owner_id", "open")}


async def rewrite(
    batch: Batch,
    row: RecordRow,
    record: StoredRecord,
    fields: RecordFields,
    changed: Iterable[str],
    *,
    flag: str | None = None,
) -> int:
    """Store ``fields`` as the record's new state; the ``changed`` fields get the new ``seq``. Returns it."""
    seq = batch.next_seq()
    if record.kind == "household":  # its duplicate-check tokens follow the new address and names
        batch.households[record.id] = (record.case_id, to_builtins(fields))
    versions = dict(record.field_versions)
    versions.update(dict.fromkeys(changed, seq))
    await batch.store.write(
        row,
        kind=record.kind,
        record_id=record.id,
        case_id=record.case_id,
        fields=fields,
        field_versions=versions,
        seq=seq,
        actor=batch.principal.user_id,
        flag=flag,
    )
    return seq


async def hand_over(batch: Batch, case_id: uuid.UUID, previous: uuid.UUID, successor: uuid.UUID) -> None:
    """Give ``successor`` every planned visit and open action of the case that ``previous`` held, and the reminders
    of its deadlines: those sent to ``previous`` are forgotten, so the next pass reminds ``successor``."""
    await batch.db.execute(delete(DeadlineReminder).where(DeadlineReminder.case_id == case_id))
    rows = await batch.store.select(
        Record.case_id == case_id,
        Record.kind.in_(tuple(FOLLOWS)),
        Record.deleted.is_(False),
        Record.assigned_worker_id == previous,
    )
    for row, record in zip(rows, await batch.store.decrypt(rows), strict=True):
        holder, to_do = FOLLOWS[row.kind]
        fields = record.fields
        if fields is None or fields.get("status") != to_do or str(fields.get(holder)) != str(previous):
            continue
        batch.rows[row.id] = row
        await rewrite(batch, row, record, writing.validated(row.kind, {**fields, holder: str(successor)}), [holder])
        batch.touch(case_id, row.id, row.kind)
        if row.kind == "visit":
            batch.notice_visit(row.id, {**fields, holder: str(successor)})
