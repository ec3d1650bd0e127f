"""Database plumbing: the engine, the session factory, the declarative base and migrations.

This package knows nothing of the domain; the areas (``auth``, ``records``, ``sync`` ...) declare their tables
on :class:`Base` and use :func:`create_engine` and :func:`session_factory`.
"""

from server.db.base import Base, UUIDType, shift_clock, utcnow
from server.db.engine import (
    DatabaseFileExposed,
    among_bound,
    begin_write,
    create_engine,
    read_one,
    session_factory,
)
from server.db.migrate import at_head, migrate

__all__ = [
    "Base",
    "DatabaseFileExposed",
    "UUIDType",
    "among_bound",
    "at_head",
    "begin_write",
    "create_engine",
    "migrate",
    "read_one",
    "session_factory",
    "shift_clock",
    "utcnow",
]
