"""``/api/push``: the application server key, and the current device's subscription."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from server.auth.schemas import Principal
from server.db import begin_write
from server.push import subscriptions
from server.runtime import Runtime

__all__ = ["PushController"]


class PushKey(msgspec.Struct, kw_only=True, frozen=True):
    """The VAPID public key, base64url, for ``pushManager.subscribe({applicationServerKey})``."""

    public_key: str


class SubscriptionState(msgspec.Struct, kw_only=True, frozen=True):
    """Whether the current device has a subscription the server will send to."""

    active: bool
    host: str | None = None


class PushController(Controller):
    path = "/api/push"
    tags = ["push"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/key")
    async def key(self, runtime: NamedDependency[Runtime]) -> PushKey:
        """The application server key of this installation."""
        assert runtime.push is not None
        return PushKey(public_key=runtime.push.keys.public_key)

    @get("/subscriptions")
    async def state(
        self, principal: NamedDependency[Principal], runtime: NamedDependency[Runtime]
    ) -> SubscriptionState:
        """The current device's subscription, as the server sees it."""
        async with runtime.sessions() as db:
            endpoint = await subscriptions.endpoint_of(db, principal.device_id)
        if endpoint is None:
            return SubscriptionState(active=False)
        # The push service's host only: the endpoint URL itself is a capability and stays on the server.
        return SubscriptionState(active=True, host=subscriptions.host_of(endpoint))

    @post("/subscriptions", status_code=HTTP_200_OK)
    async def subscribe(
        self,
        data: JSONBody[subscriptions.SubscriptionIn],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> SubscriptionState:
        """Store (or replace) the current device's subscription; bad endpoints and keys are a 422 problem."""
        async with runtime.sessions() as db:
            await begin_write(db)
            stored = await subscriptions.subscribe(db, runtime.settings, principal.user_id, principal.device_id, data)
            host = subscriptions.host_of(stored.endpoint)
            await db.commit()
        return SubscriptionState(active=True, host=host)

    @delete("/subscriptions", status_code=HTTP_204_NO_CONTENT)
    async def unsubscribe(self, principal: NamedDependency[Principal], runtime: NamedDependency[Runtime]) -> None:
        """Forget the current device's subscription."""
        async with runtime.sessions() as db:
            await begin_write(db)
            await subscriptions.remove(db, principal.device_id)
            await db.commit()
