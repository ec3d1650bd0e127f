"""What every record kind is built from: the base of a kind's fields, value types and cross-field checks.

Amounts are integer cents in EUR; dates are ``date`` (``YYYY-MM-DD``) and moments are ``datetime`` (RFC 3339
with an offset). The kinds themselves are in :mod:`server.records.schemas`, :mod:`server.records.assessment` and
:mod:`server.records.casework`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar

import msgspec

__all__ = [
    "Cents",
    "Count",
    "FieldRuleFailed",
    "Minutes",
    "Moment",
    "NoteText",
    "PositiveCents",
    "RecordFields",
    "Short",
    "Text",
    "Title",
    "Year",
    "day_start",
    "must",
]

Cents = Annotated[int, msgspec.Meta(ge=0, le=10_000_000_00, description="EUR amount in cents")]
PositiveCents = Annotated[int, msgspec.Meta(gt=0, le=10_000_000_00, description="EUR amount in cents, > 0")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=20_000)]
NoteText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=24 * 60)]
Year = Annotated[int, msgspec.Meta(ge=1900, le=2100)]
Count = Annotated[int, msgspec.Meta(ge=0, le=50)]
# RFC 3339 with an offset; a moment without a time zone is ambiguous and refused.
Moment = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class RecordFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every kind's fields.

    ``SET_FIELDS`` merge by union instead of conflicting; ``IMMUTABLE_FIELDS`` cannot change after creation
    (a change is rejected with ``append-only``); ``CLEAR`` names the fields copied into clear columns for
    queries and access control (docs/security.md part 1: only ids, assignee, team, dates, status and outcome).
    """

    KIND: ClassVar[str] = ""
    SET_FIELDS: ClassVar[frozenset[str]] = frozenset()
    IMMUTABLE_FIELDS: ClassVar[frozenset[str]] = frozenset()
    REQUIRED_ON_CREATE: ClassVar[frozenset[str]] = frozenset()
    # Moments of something that has happened (a visit made, a contact held): never later than the server's clock.
    PAST_MOMENTS: ClassVar[frozenset[str]] = frozenset()
    # Fields that name the user who created the record: the server sets them to the writer on creation.
    WRITER_FIELDS: ClassVar[frozenset[str]] = frozenset()

    def clear_status(self) -> str | None:
        """The status enum kept in clear, if the kind has one."""
        return None

    def clear_at(self) -> dt.datetime | None:
        """The date that orders and filters this record in clear (planned time, due date ...)."""
        return None

    def clear_assignee(self) -> uuid.UUID | None:
        """The user this record is assigned to, in clear for scope rules."""
        return None

    def clear_outcome(self) -> str | None:
        """The outcome enum kept in clear (closed cases), for reports."""
        return None

    def clear_minutes(self) -> int | None:
        """A duration in minutes kept in clear (contacts), for counting counselling time."""
        return None

    def clear_reached(self) -> bool | None:
        """Whether a contact reached the tenant, in clear (consultations and attempts are counted from it)."""
        return None

    def clear_incoming(self) -> bool | None:
        """Whether a contact came in from the tenant, in clear (written help is what the team sent)."""
        return None


def day_start(value: dt.date | None) -> dt.datetime | None:
    """Midnight UTC of ``value``: the clear moment a date-only record is ordered by."""
    return None if value is None else dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)


class FieldRuleFailed(ValueError):
    """A cross-field rule that failed, naming the field to show the error on."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


def must(condition: bool, message: str, field: str | None = None) -> None:
    """Raise :class:`FieldRuleFailed` naming ``field`` unless ``condition`` holds (call from ``__post_init__``)."""
    # msgspec turns a ValueError raised in __post_init__ into a ValidationError whose __cause__ is this error.
    if not condition:
        raise FieldRuleFailed(message, field)
