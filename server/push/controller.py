"""``/api/push``: the application server key, and the current device's subscription."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from server.auth.schemas import Principal
from server.push import subscriptions
from server.push.service import PushService

__all__ = ["PushController"]


class PushKey(msgspec.Struct, kw_only=True, frozen=True):
    """The VAPID public key, base64url, for ``pushManager.subscribe({applicationServerKey})``."""

    public_key: str


class SubscriptionState(msgspec.Struct, kw_only=True, frozen=True):
    """Whether the current device has a subscription the server will send to."""

    active: bool
    host: str | None = None


class PushController(Controller):
    """The VAPID key and the current device's subscription."""

    path = "/api/push"
    tags = ["push"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/key")
    async def key(self, push: NamedDependency[PushService]) -> PushKey:
        """The application server key of this installation."""
        return PushKey(public_key=push.keys.public_key)

    @get("/subscriptions")
    async def state(
        self, principal: NamedDependency[Principal], push: NamedDependency[PushService]
    ) -> SubscriptionState:
        """The current device's subscription, as the server sees it."""
        endpoint = await push.endpoint_of(principal.device_id)
        if endpoint is None:
            return SubscriptionState(active=False)
        # The push service's host only: the endpoint URL itself is a capability and stays on the server.
        return SubscriptionState(active=True, host=subscriptions.host_of(endpoint))

    @post("/subscriptions", status_code=HTTP_200_OK)
    async def subscribe(
        self,
        data: JSONBody[subscriptions.SubscriptionIn],
        principal: NamedDependency[Principal],
        push: NamedDependency[PushService],
    ) -> SubscriptionState:
        """Store (or replace) the current device's subscription; bad endpoints and keys are a 422 problem."""
        endpoint = await push.subscribe(principal.user_id, principal.device_id, data)
        return SubscriptionState(active=True, host=subscriptions.host_of(endpoint))

    @delete("/subscriptions", status_code=HTTP_204_NO_CONTENT)
    async def unsubscribe(self, principal: NamedDependency[Principal], push: NamedDependency[PushService]) -> None:
        """Forget the current device's subscription."""
        await push.unsubscribe(principal.device_id)
