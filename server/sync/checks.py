"""The protocol's checks of one mutation before it touches a record, each raising the per-mutation rejection.

Broken text, work for a deleted case, a damaged record: what a record may hold and who may write it are the
record's rules (:mod:`server.records.writing`), not these.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from server.sync.batch import Batch, Rejected
from server.text import BROKEN_TEXT

__all__ = ["case_not_deleted", "intact", "no_broken_text"]


def case_not_deleted(batch: Batch, case_id: uuid.UUID) -> None:
    """Work for a deleted case is refused, never acknowledged and then unreachable: the device keeps it as refused
    work and the worker is told (until the case is restored, when it can be sent again)."""
    case = batch.rows.get(case_id)
    if case is not None and case.deleted:
        raise Rejected("not-found", "The case was deleted; this change cannot be kept unless the case is restored.")


def intact(batch: Batch, record_id: uuid.UUID) -> None:
    """A record whose stored ciphertext is damaged cannot be merged into; it waits for its restore."""
    if record_id in batch.store.damaged:
        raise Rejected("validation", "The stored record is damaged and cannot be changed until it is restored.")


# ``BROKEN_TEXT`` as it reads inside a field's JSON.
_BROKEN = msgspec.json.encode(BROKEN_TEXT).decode()[1:-1]


def no_broken_text(fields: dict[str, Any]) -> None:
    """Half an emoji (replaced by ``BROKEN_TEXT`` on the way in) or a NUL character refuses this mutation alone."""
    for name, value in fields.items():
        text = msgspec.json.encode(value).decode()
        if _BROKEN in text:
            raise Rejected(
                "validation", "The text holds a broken character (half of an emoji?); please type it again.", name
            )
        if "\\u0000" in text:
            raise Rejected("validation", "Text may not contain NUL characters.", name)
