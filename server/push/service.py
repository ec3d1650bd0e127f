"""The push area's service, as handlers and sync receive it: the VAPID key, subscriptions, waking the dispatcher.

Built once per app in the lifespan, after the VAPID keys are loaded (or created) and the dispatcher is set up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import begin_write
from server.push import subscriptions
from server.push.dispatcher import Dispatcher
from server.push.vapid import VapidKeys
from server.settings import Settings

__all__ = ["PushService"]


@dataclass(frozen=True, slots=True)
class PushService:
    """Web Push for one app. ``dispatcher`` is None when push delivery is switched off."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    keys: VapidKeys
    dispatcher: Dispatcher | None

    def wake(self) -> None:
        """Tell the dispatcher that jobs were queued, so it sends now instead of at its next poll."""
        if self.dispatcher is not None:
            self.dispatcher.wake()

    async def endpoint_of(self, device_id: uuid.UUID) -> str | None:
        """The device's subscription endpoint, if it has one."""
        async with self.sessions() as db:
            return await subscriptions.endpoint_of(db, device_id)

    async def subscribe(self, user_id: uuid.UUID, device_id: uuid.UUID, body: subscriptions.SubscriptionIn) -> str:
        """Store (or replace) the device's subscription after checking it; returns the stored endpoint."""
        async with self.sessions() as db:
            await begin_write(db)
            stored = await subscriptions.subscribe(db, self.settings, user_id, device_id, body)
            endpoint = stored.endpoint
            await db.commit()
        return endpoint

    async def unsubscribe(self, device_id: uuid.UUID) -> None:
        """Forget the device's subscription."""
        async with self.sessions() as db:
            await begin_write(db)
            await subscriptions.remove(db, device_id)
            await db.commit()
