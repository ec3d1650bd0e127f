"""Tables of the sync area: the first result of every processed mutation, and the cursor secret."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, utcnow

__all__ = ["DeadlineReminder", "MutationLog", "ServerSecret"]


class MutationLog(Base):
    """The stored first results of one push batch, returned again on any replay (kept at least 30 days).

    One row per batch, not per mutation: ``results`` holds the msgspec-encoded list of results for the mids
    from ``first_mid`` to ``last_mid`` that the batch processed.
    """

    __tablename__ = "mutation_log"

    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    first_mid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_mid: Mapped[int] = mapped_column(BigInteger)
    results: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ServerSecret(Base):
    """Random secrets the server generates once (e.g. the key that signs pull cursors)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class DeadlineReminder(Base):
    """A deadline whose assigned worker was reminded (one row per deadline and due date): a push is sent once,
    and again only when the deadline's date moves."""

    __tablename__ = "deadline_reminders"

    action_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    due_on: Mapped[dt.date] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
