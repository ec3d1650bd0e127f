"""Tables of Web Push: one subscription per device, and the queue of messages to send."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, utcnow

__all__ = ["PushJob", "PushSubscription"]


class PushSubscription(Base):
    """A browser's push subscription, bound to one device (and so to one user). The endpoint is unique: the same
    browser cannot be subscribed for two users."""

    __tablename__ = "push_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PushJob(Base):
    """One message to one subscription: the event and an opaque id, nothing else.

    ``state`` is ``pending`` until sent, then ``sent``; ``gone`` when the push service said the subscription
    no longer exists, ``failed`` after a configuration error or too many attempts. A dispatcher claims a job by
    setting ``claimed_until``; a claim that outlives a crashed process expires and the job is sent again.
    """

    __tablename__ = "push_jobs"
    __table_args__ = (Index("ix_push_jobs_due", "state", "due_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[uuid.UUID]
    topic: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
