"""Older forms of the records, translated on the way in and out (docs/sync-protocol.md, "Versions").

Schema version 2 replaced a legal event's one ``date`` and ``received_on`` by dates that say what they are
(``dated_on``, ``served_on``, ``scheduled_at``, ``until_on``). A tablet that was offline during the upgrade still
holds version 1 changes in its outbox; push never refuses them for their version, so they are translated here:
``date`` becomes ``scheduled_at`` for a hearing or an eviction appointment (at noon local time: the hour was never
recorded, and noon keeps the date the same wherever in Europe a tablet's clock is set) and ``dated_on`` for every
other type; ``received_on`` becomes ``served_on``. A pull for a version 1 client adds ``date`` and ``received_on``
back. Stored records are rewritten once at start (:mod:`server.records.upgrade`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from server.records.casework import APPOINTMENTS

__all__ = ["LEGACY_FIELDS", "downgrade", "needs_upgrade", "upgrade"]

LEGACY_FIELDS = frozenset({"date", "received_on"})
# Germany and Austria share one civil time.
_LOCAL = ZoneInfo("Europe/Berlin")


# The kinds that have had an older form (every other kind is read as it is stored).
KINDS_WITH_HISTORY = frozenset({"legal_event"})


def needs_upgrade(kind: str, fields: Mapping[str, Any]) -> bool:
    """Whether ``fields`` use a form older than the current schema."""
    return kind == "legal_event" and not LEGACY_FIELDS.isdisjoint(fields)


def upgrade(kind: str, fields: Mapping[str, Any], stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``fields`` (all of a record, or the ones a change names) in the current form. ``stored`` gives the type of
    an existing event when the change does not name it."""
    result = dict(fields)
    if not needs_upgrade(kind, fields):
        return result
    event_type = result.get("type", (stored or {}).get("type"))
    day = result.pop("date", None)
    received = result.pop("received_on", None)
    if day is not None:
        try:
            parsed = dt.date.fromisoformat(str(day))
        except ValueError:
            result["date"] = day  # not a date: refused by validation like any unknown value, naming the field
        else:
            if event_type in APPOINTMENTS:
                start = dt.datetime.combine(parsed, dt.time(12), tzinfo=_LOCAL)
                result.setdefault("scheduled_at", start.isoformat())
            else:
                result.setdefault("dated_on", parsed.isoformat())
    if received is not None:
        result.setdefault("served_on", received)
    return result


def downgrade(kind: str, fields: Mapping[str, Any] | None, schema_version: int) -> Mapping[str, Any] | None:
    """``fields`` as a client of ``schema_version`` 1 reads them: with ``date`` (and ``received_on``) again."""
    if fields is None or kind != "legal_event" or schema_version >= 2:
        return fields
    result = dict(fields)
    scheduled = fields.get("scheduled_at")
    day = (
        dt.datetime.fromisoformat(str(scheduled)).astimezone(_LOCAL).date().isoformat()
        if scheduled
        else fields.get("dated_on") or fields.get("served_on") or fields.get("until_on")
    )
    result["date"] = day
    result["received_on"] = fields.get("served_on")
    return result


def as_read(kind: str, fields: Mapping[str, Any] | None, schema_version: int) -> dict[str, Any] | None:
    """Stored ``fields`` in the form a client of ``schema_version`` reads: the current one, or a version 1
    client's."""
    if fields is None:
        return None
    current = upgrade(kind, fields) if needs_upgrade(kind, fields) else fields
    older = downgrade(kind, current, schema_version)
    return None if older is None else dict(older)
