"""Validating and storing push subscriptions (docs/security.md part 5, cases 14 and 15).

Only ``https`` endpoints on an allow-listed push-service host are accepted: the server makes requests to these
URLs, so anything else would let a client aim it at internal addresses. A loopback push service is allowed only
in test settings.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import uuid
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import utcnow
from server.problems import Conflict, Unprocessable
from server.push.models import PushSubscription
from server.settings import Settings

__all__ = ["SubscriptionIn", "allowed_endpoint", "endpoint_of", "host_of", "remove", "subscribe"]


class SubscriptionKeys(msgspec.Struct, kw_only=True):
    p256dh: str
    auth: str


class SubscriptionIn(msgspec.Struct, kw_only=True):
    """The browser's ``PushSubscription.toJSON()``: endpoint and keys (``expirationTime`` is ignored)."""

    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=r"^[^\x00-\x20]+$")]
    keys: SubscriptionKeys
    expirationTime: int | None = None


def _decode(value: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise Unprocessable("Not base64url.", field=field) from None


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _dns_name(host: str) -> bool:
    """Whether ``host`` is a valid DNS name (internationalised names in their IDNA form): no percent signs,
    spaces or other characters that a resolver or an allow-list suffix match would read differently."""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    return len(ascii_host) <= 253 and len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def allowed_endpoint(settings: Settings, endpoint: str) -> bool:
    """Whether the server may send to ``endpoint``."""
    if len(endpoint) > 1024:
        return False
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    if not _dns_name(host) and not (settings.environment == "test" and host == "127.0.0.1"):
        return False
    if settings.environment == "test" and settings.push_allow_loopback and host == "127.0.0.1":
        return parts.scheme in {"http", "https"}
    if parts.scheme != "https" or port not in (None, 443):
        return False
    try:
        ipaddress.ip_address(host)
        return False  # push services are named hosts; an address literal is refused (private ranges included)
    except ValueError:
        pass
    for allowed in settings.push_host_list:
        if allowed.startswith("*."):
            if host.endswith(allowed[1:]) and host != allowed[2:]:
                return True
        elif host == allowed:
            return True
    return False


def validate(settings: Settings, body: SubscriptionIn) -> tuple[str, str, str]:
    """The endpoint and keys, or a 422 problem naming the field."""
    if not allowed_endpoint(settings, body.endpoint):
        raise Unprocessable("The endpoint must be an https URL of a known push service.", field="endpoint")
    point = _decode(body.keys.p256dh, "keys.p256dh")
    if len(point) != 65 or point[0] != 4:
        raise Unprocessable("p256dh must be an uncompressed P-256 point of 65 bytes.", field="keys.p256dh")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise Unprocessable("p256dh is not a point on P-256.", field="keys.p256dh") from None
    if len(_decode(body.keys.auth, "keys.auth")) != 16:
        raise Unprocessable("auth must be 16 bytes.", field="keys.auth")
    return body.endpoint, body.keys.p256dh, body.keys.auth


async def subscribe(
    db: AsyncSession, settings: Settings, user_id: uuid.UUID, device_id: uuid.UUID, body: SubscriptionIn
) -> PushSubscription:
    """Store the device's subscription, replacing its earlier one. An endpoint bound to another user is refused."""
    endpoint, p256dh, auth = validate(settings, body)
    holder = await db.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if holder is not None and holder.user_id != user_id:
        raise Conflict("This push subscription belongs to another user's device.")
    if holder is not None and holder.device_id != device_id:
        await db.delete(holder)  # the same browser, now registered as another device of the same user
        await db.flush()
    current = await db.scalar(select(PushSubscription).where(PushSubscription.device_id == device_id))
    now = utcnow()
    if current is None:
        current = PushSubscription(device_id=device_id, user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth)
        db.add(current)
    else:
        current.endpoint, current.p256dh, current.auth, current.user_id = endpoint, p256dh, auth, user_id
    current.updated_at = now
    await db.flush()
    return current


async def remove(db: AsyncSession, device_id: uuid.UUID) -> bool:
    """Delete the device's subscription; whether there was one."""
    result = await db.execute(delete(PushSubscription).where(PushSubscription.device_id == device_id))
    return bool(getattr(result, "rowcount", 0))


async def endpoint_of(db: AsyncSession, device_id: uuid.UUID) -> str | None:
    """The device's subscription endpoint, if it has one."""
    query = select(PushSubscription.endpoint).where(PushSubscription.device_id == device_id)
    found: str | None = await db.scalar(query)
    return found


def host_of(endpoint: str) -> str | None:
    return urlsplit(endpoint).hostname
