"""Queueing push messages, in the caller's transaction: a message exists if and only if the change that caused it
was committed."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import utcnow
from server.push.models import PushJob, PushSubscription

__all__ = ["CASE_ASSIGNED", "REFERRAL_RECEIVED", "SYNC_HINT", "VISIT_ASSIGNED", "enqueue", "topic_for"]

VISIT_ASSIGNED = "visit_assigned"
CASE_ASSIGNED = "case_assigned"  # a referral taken on as a new case for the worker
REFERRAL_RECEIVED = "referral_received"  # a household handed over to the team: to its supervisors
SYNC_HINT = "sync"


def topic_for(event: str, ref_id: uuid.UUID) -> str:
    """A ``Topic`` (at most 32 URL-safe characters): repeats for the same visit replace each other at the push
    service, so a worker offline during three reschedules gets one message."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(f"{event}|{ref_id}".encode()).digest()).decode()
    return digest[:32].replace("=", "")


async def enqueue(db: AsyncSession, messages: Iterable[tuple[uuid.UUID, str, uuid.UUID]]) -> int:
    """Queue ``(user_id, event, ref_id)`` for every subscription of each user; returns the number of jobs."""
    wanted = list(dict.fromkeys(messages))
    if not wanted:
        return 0
    users = {user_id for user_id, _, _ in wanted}
    subscriptions: dict[uuid.UUID, list[uuid.UUID]] = {}
    found = select(PushSubscription.id, PushSubscription.user_id).where(PushSubscription.user_id.in_(users))
    for sub_id, user_id in (await db.execute(found)).all():
        subscriptions.setdefault(user_id, []).append(sub_id)
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "subscription_id": sub_id,
            "event": event,
            "ref_id": ref_id,
            "topic": topic_for(event, ref_id),
            "state": "pending",
            "due_at": now,
            "attempts": 0,
            "created_at": now,
        }
        for user_id, event, ref_id in wanted
        for sub_id in subscriptions.get(user_id, [])
    ]
    if rows:
        await db.execute(insert(PushJob), rows)
    return len(rows)
