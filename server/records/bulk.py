"""Writing many records at once, outside sync: the demo's seed and the benchmarks' caseloads.

One call validates every record against its kind's schema, hands out one ``seq`` each from the organisation's
sync clock, seals and writes them through the store (executemany at the flush) and brings the scope up to date
for their cases, all in the caller's transaction. A record written here is read, pulled and reported exactly like
one a tablet sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from server.records import clock
from server.records.scope import refresh_membership
from server.records.store import RecordStore
from server.records.validation import validate_fields

__all__ = ["BulkItem", "write_all"]

# One record to write: its kind, id, case id and fields (as a tablet would send them).
BulkItem = tuple[str, uuid.UUID, uuid.UUID, dict[str, Any]]


async def write_all(
    store: RecordStore,
    organisation_id: uuid.UUID | None,
    items: Sequence[BulkItem],
    *,
    actor: uuid.UUID | None = None,
) -> int:
    """Write ``items`` in order, in the store's transaction, with their cases' scope; returns the first ``seq``
    (the items have ``first``, ``first + 1``, …). A record that breaks its schema raises before anything is
    flushed."""
    validated = [validate_fields(kind, fields) for kind, _, _, fields in items]
    case_ids = list(dict.fromkeys(case_id for _, _, case_id, _ in items))
    first = await clock.allocate(store.db, organisation_id, len(items))
    await store.prepare_write(case_ids)
    for offset, ((kind, record_id, case_id, fields), record) in enumerate(zip(items, validated, strict=True)):
        seq = first + offset
        await store.write(
            None,
            kind=kind,
            record_id=record_id,
            case_id=case_id,
            fields=record,
            field_versions=dict.fromkeys(fields, seq),
            seq=seq,
            actor=actor,
        )
    await store.flush()
    await refresh_membership(store.db, case_ids, first + len(items) - 1)
    return first
