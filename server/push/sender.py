"""The sender: one encrypted Web Push message (RFC 8291, aes128gcm) signed with VAPID (RFC 8292), by pywebpush.

The payload is the event and an opaque id only; the notification text is generic and the app fetches the
details after it has authenticated (docs/security.md part 5).
"""

from __future__ import annotations

import enum
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
from pywebpush import WebPushException, webpush_async

from server.push.vapid import VapidKeys

__all__ = ["Outcome", "Sent", "payload_of", "send"]

logger = logging.getLogger("doorstep.push")


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"  # 429, 5xx, no answer: back off and try again
    GONE = "gone"  # 404/410: the subscription no longer exists
    CONFIG = "config"  # 401/403: our VAPID key or claims are wrong; retrying will not help
    FAILED = "failed"  # any other refusal (400, 413 ...)


@dataclass(frozen=True)
class Sent:
    outcome: Outcome
    status: int | None
    retry_after: float | None = None


def payload_of(event: str, ref_id: uuid.UUID) -> str:
    """The whole message: ``{"t": event, "id": ref_id}``."""
    return json.dumps({"t": event, "id": str(ref_id)}, separators=(",", ":"))


def classify(status: int) -> Outcome:
    if status in (200, 201, 202):
        return Outcome.SENT
    if status in (404, 410):
        return Outcome.GONE
    if status == 429 or status >= 500:
        return Outcome.RETRY
    if status in (401, 403):
        return Outcome.CONFIG
    return Outcome.FAILED


class _NoRedirects:
    """The session as pywebpush sees it, with redirects switched off.

    The endpoint's host was checked against the allow-list when the device subscribed; following a redirect would
    let a push service (or whoever answers in its name) point the server at any other address. A 3xx is therefore
    a failed delivery (``docs/security.md`` case 26).
    """

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._session.post(url, allow_redirects=False, **kwargs)


async def send(
    session: aiohttp.ClientSession,
    keys: VapidKeys,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    event: str,
    ref_id: uuid.UUID,
    topic: str,
    subject: str,
    ttl: int,
    urgency: str,
    seconds: float,
) -> Sent:
    """Send one message and say what happened; never raises for an answer of the push service."""
    expires = int(time.time()) + 12 * 3600  # machine's clock: the push service checks it against its own
    claims: dict[str, str | int] = {"sub": subject, "exp": expires}  # fresh per call
    try:
        response = await webpush_async(
            subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=payload_of(event, ref_id),
            vapid_private_key=keys.signer,
            vapid_claims=claims,
            ttl=ttl,
            headers={"Urgency": urgency, "Topic": topic},
            timeout=aiohttp.ClientTimeout(total=seconds),
            aiohttp_session=_NoRedirects(session),
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status", None)
        if status is None:
            return Sent(Outcome.RETRY, None)
        retry_after = _retry_after(exc.response.headers.get("Retry-After") if exc.response is not None else None)
        return Sent(classify(int(status)), int(status), retry_after)
    except (aiohttp.ClientError, TimeoutError, OSError):
        return Sent(Outcome.RETRY, None)
    status = int(getattr(response, "status", 201))
    return Sent(classify(status), status)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
