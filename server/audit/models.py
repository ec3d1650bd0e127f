"""The audit log table and the heads of its chains (a head serialises its chain's appends and holds its tip).

There is one chain per organisation (``chain`` is the organisation's id) and the installation's chain (``chain``
is empty) for entries that belong to no organisation (a failed login of an unknown name, a restore, and every
entry written before the chains were split), so that one organisation's writers never wait for another's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base

__all__ = ["GENESIS", "INSTALLATION", "AuditEntry", "AuditHead"]

GENESIS = "0" * 64


INSTALLATION = ""


class AuditHead(Base):
    """One chain's last entry number and hash. Updating it first takes a lock that orders the chain's appends."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


class AuditEntry(Base):
    """Who did what to which case and records, and how it ended. Ids only, never content."""

    __tablename__ = "audit_log"
    # Who did what lately: the duplicate check's limit per user counts its own entries (server/records/service.py).
    __table_args__ = (Index("ix_audit_log_actor_action_at", "actor_id", "action", "at"),)

    chain: Mapped[str] = mapped_column(String(36), primary_key=True, server_default="")
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor_id: Mapped[uuid.UUID | None]
    device_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    record_ids: Mapped[list[Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(20))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
