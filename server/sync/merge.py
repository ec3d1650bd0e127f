"""The field-level three-way merge of a ``put`` (docs/sync-protocol.md, "Merge rule"). Pure: no I/O.

For each field ``f`` the mutation names, with ``fv[f]`` the seq that last changed it on the server:

* ``base`` given and ``fv[f] <= base``: nobody else changed it; apply.
* ``fv[f] > base`` (or ``base`` null on an existing record): a concurrent change. Equal values are nothing to
  do; different values keep the server's and become a conflict holding both.
* set fields merge by union when both sides changed them concurrently, and are replaced otherwise (so an item
  can be removed); immutable fields (all of a note) may not change at all.
* values are compared by meaning: two moments are equal when they name the same instant, whatever their offsets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

__all__ = ["AppendOnlyViolation", "FieldConflict", "MergeOutcome", "merge_put", "same_value", "settle"]


class AppendOnlyViolation(Exception):
    """The mutation changes a field that cannot change after creation."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class FieldConflict(msgspec.Struct, frozen=True):
    """One field both sides changed to different values."""

    field: str
    server_value: Any
    client_value: Any


class MergeOutcome(msgspec.Struct, frozen=True):
    """The record's fields after the merge, the fields that changed, and the conflicts."""

    fields: dict[str, Any]
    changed: frozenset[str]
    conflicts: tuple[FieldConflict, ...]


def merge_put(
    stored: Mapping[str, Any],
    field_versions: Mapping[str, int],
    base_version: int | None,
    incoming: Mapping[str, Any],
    *,
    set_fields: frozenset[str] = frozenset(),
    immutable_fields: frozenset[str] = frozenset(),
) -> MergeOutcome:
    """Merge ``incoming`` (normalised values of the named fields) into ``stored``."""
    result = dict(stored)
    changed: set[str] = set()
    conflicts: list[FieldConflict] = []
    for field, value in incoming.items():
        current = stored.get(field)
        if same_value(value, current):
            continue
        if field in immutable_fields:
            raise AppendOnlyViolation(field)
        concurrent = base_version is None or field_versions.get(field, 0) > base_version
        if field in set_fields:
            merged = sorted(set(current or []) | set(value or [])) if concurrent else sorted(set(value or []))
            if merged != current:
                result[field] = merged
                changed.add(field)
            continue
        if concurrent:
            conflicts.append(FieldConflict(field, current, value))
            continue
        result[field] = value
        changed.add(field)
    return MergeOutcome(result, frozenset(changed), tuple(conflicts))


def same_value(a: Any, b: Any) -> bool:
    """Equal by meaning: moments (RFC 3339 text) compare as instants; lists and objects compare element-wise."""
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        first, second = _instant(a), _instant(b)
        return first is not None and first == second
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return False


def _instant(text: str) -> dt.datetime | None:
    # Only text shaped like a moment with an offset ("2026-11-20T10:12:00Z", "...+01:00") is read as one.
    if not 20 <= len(text) <= 35 or text[10:11] != "T":
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def settle(
    outcome: MergeOutcome,
    stored: Mapping[str, Any],
    incoming: Mapping[str, Any],
    broken: Callable[[dict[str, Any]], str | None],
) -> MergeOutcome:
    """Keep a cross-field rule that only a concurrent edit broke, by turning applied fields into conflicts.

    ``broken`` names the field a merged record fails on, or None. The put's own values were checked against the
    stored record before the merge, so the failure comes from mixing them with a concurrent change: the named field
    (or, if it was not applied, every applied field) keeps the stored value and becomes a conflict holding the
    put's value, until the record passes. The stored record passed, so this ends.
    """
    fields, changed, conflicts = dict(outcome.fields), set(outcome.changed), list(outcome.conflicts)
    while (name := broken(fields)) is not None and changed:
        for field in [name] if name in changed else sorted(changed):
            fields[field] = stored.get(field)
            if field not in stored:
                del fields[field]
            changed.discard(field)
            conflicts.append(FieldConflict(field, stored.get(field), incoming[field]))
    return MergeOutcome(fields, frozenset(changed), tuple(conflicts))
