"""The declarative base shared by every table, and the column types the areas use."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, MetaData, TypeDecorator, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base", "UTCDateTime", "UUIDType", "shift_clock", "utcnow"]

# Stable constraint names, so that Alembic migrations can refer to them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UUIDType = Uuid(as_uuid=True)


# How far this process's clock runs from the machine's: zero, except in a test server whose clock the tests set to
# a chosen instant (a Sunday, New Year's Eve, the night the clocks change). See Settings.clock_shift_seconds.
_shift = dt.timedelta(0)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC; the only clock the server uses."""
    return dt.datetime.now(dt.UTC) + _shift


def shift_clock(seconds: float) -> None:
    """Make :func:`utcnow` run ``seconds`` ahead of the machine's clock (behind, when negative), from now on.

    Time keeps flowing; only the instant it starts from moves. Production never calls this with anything but 0
    (:class:`server.settings.Settings` refuses a shift outside a test server).
    """
    global _shift
    _shift = dt.timedelta(seconds=seconds)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always stored and returned in UTC.

    SQLite keeps no time zone, so values come back naive; this type puts UTC back on them so that the rest of
    the code compares aware datetimes only.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base; every table of every area hangs off this metadata."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dt.datetime: UTCDateTime(),
        uuid.UUID: UUIDType,
    }
