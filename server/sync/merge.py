"""The field-level three-way merge of a ``put`` (docs/sync-protocol.md, "Merge rule"). Pure: no I/O.

For each field ``f`` the mutation names, with ``fv[f]`` the seq that last changed it on the server:

* ``base`` given and ``fv[f] <= base``: nobody else changed it; apply.
* ``fv[f] > base`` (or ``base`` null on an existing record): a concurrent change. Equal values are nothing to
  do; different values keep the server's and become a conflict holding both.
* set fields merge by union and never conflict; immutable fields (a note's text) may not change at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["AppendOnlyViolation", "FieldConflict", "MergeOutcome", "merge_put"]


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
        if value == current:
            continue
        if field in immutable_fields:
            raise AppendOnlyViolation(field)
        if field in set_fields:
            union = sorted(set(current or []) | set(value or []))
            if union != current:
                result[field] = union
                changed.add(field)
            continue
        concurrent = base_version is None or field_versions.get(field, 0) > base_version
        if concurrent:
            conflicts.append(FieldConflict(field, current, value))
            continue
        result[field] = value
        changed.add(field)
    return MergeOutcome(result, frozenset(changed), tuple(conflicts))
