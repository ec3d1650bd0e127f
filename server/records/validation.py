"""Checking a record's fields against its kind's schema, and their canonical form.

What is encrypted, compared and sent is the validated fields' canonical JSON (:func:`to_builtins`); an invalid set
of fields is a :class:`ValidationIssue` naming the first offending field, without its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from server.problems import without_values
from server.records.schemas import KINDS, RecordFields

__all__ = ["ValidationIssue", "to_builtins", "validate_fields"]


class ValidationIssue(Exception):
    """Fields that break their kind's schema; ``field`` names the first offending field if known."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def _field_from_error(message: str) -> str | None:
    # msgspec: "Expected `int`, got `str` - at `$.household.adults`" or "Object missing required field `x`".
    for marker in ("missing required field `", "unknown field `"):
        if marker in message:
            return message.split(marker, 1)[1].split("`", 1)[0]
    if "- at `$." in message:
        path = message.rsplit("- at `$.", 1)[1].rstrip("`")
        return path.split(".", 1)[0].split("[", 1)[0]
    return None


def validate_fields(kind: str, fields: Mapping[str, Any]) -> RecordFields:
    """Validate a complete set of fields against the kind's schema, or raise :class:`ValidationIssue`."""
    schema = KINDS.get(kind)
    if schema is None:
        raise ValidationIssue("unknown record kind", "kind")
    try:
        return msgspec.convert(dict(fields), schema)
    except msgspec.ValidationError as exc:
        message = str(exc)
        return_field = getattr(exc.__cause__, "field", None) or _field_from_error(message)
        raise ValidationIssue(without_values(message.split(" - at ")[0]), return_field) from None


def to_builtins(value: RecordFields) -> dict[str, Any]:
    """The canonical JSON form of validated fields (what is encrypted, compared and sent)."""
    result: dict[str, Any] = msgspec.to_builtins(value)
    return result
