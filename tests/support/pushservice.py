"""A push service for the tests, on loopback: it checks what a real one checks and decrypts what it receives.

It verifies the VAPID JWT (ES256) against the public key in the request and the server's key, checks the claims
(``aud`` is this service's origin, ``exp`` within 24 hours, ``sub`` a ``mailto:``), and decrypts the
``aes128gcm`` body with the subscriber's private key and auth secret, as the browser would. Answers can be
programmed per subscription (``410``, ``429`` ...); the default is ``201``.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.support.live import free_port

__all__ = ["Delivery", "LocalPushService", "Subscriber"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """A browser's side of a subscription: its key pair and auth secret."""

    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def subscription(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the app."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}


@dataclass
class Delivery:
    token: str
    payload: dict[str, Any]
    raw: bytes
    headers: dict[str, str]
    claims: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)


class LocalPushService:
    """``await service.start()``; subscribers from :meth:`subscriber`; ``deliveries`` and ``answers``."""

    def __init__(self, server_public_key: str | None = None) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.server_public_key = server_public_key
        self.subscribers: dict[str, Subscriber] = {}
        self.deliveries: list[Delivery] = []
        self.rejected: list[str] = []
        self.answers: dict[str, list[int]] = {}
        # Where a 3xx answer points (a redirect the server must not follow).
        self.redirect_to: str | None = None
        self.received = 0
        self._runner: web.AppRunner | None = None

    def subscriber(self) -> Subscriber:
        token = b64url(os.urandom(12))
        subscriber = Subscriber(
            token=token,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=os.urandom(16),
            endpoint=f"{self.origin}/push/{token}",
        )
        self.subscribers[token] = subscriber
        return subscriber

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{token}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _verify_vapid(self, header: str) -> dict[str, Any]:
        scheme, _, params = header.partition(" ")
        assert scheme.lower() == "vapid", header
        parts = dict(item.strip().split("=", 1) for item in params.split(","))
        key = parts["k"]
        if self.server_public_key is not None:
            assert key == self.server_public_key, "signed with another key than the server publishes"
        head, body, signature = parts["t"].split(".")
        assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
        raw = unb64url(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        claims: dict[str, Any] = json.loads(unb64url(body))
        assert claims["aud"] == self.origin, claims
        now = time.time()  # machine's clock: a push service checks the claim against its own
        assert now < claims["exp"] <= now + 24 * 3600, claims
        assert str(claims["sub"]).startswith("mailto:"), claims
        return claims

    async def _receive(self, request: web.Request) -> web.Response:
        self.received += 1
        token = request.match_info["token"]
        subscriber = self.subscribers.get(token)
        if subscriber is None:
            return web.Response(status=404)
        raw = await request.read()
        try:
            claims = self._verify_vapid(request.headers["Authorization"])
            assert request.headers["Content-Encoding"] == "aes128gcm"
            assert int(request.headers["TTL"]) > 0
            plain = http_ece.decrypt(
                raw, private_key=subscriber.private_key, auth_secret=subscriber.auth, version="aes128gcm"
            )
        except Exception as exc:  # a refused request is recorded, and answered like a real service
            self.rejected.append(f"{type(exc).__name__}: {exc}")
            return web.Response(status=400)
        queue = self.answers.get(token) or []
        status = queue.pop(0) if queue else 201
        names = ("TTL", "Urgency", "Topic", "Content-Encoding")
        headers = {name: request.headers[name] for name in names if name in request.headers}
        self.deliveries.append(Delivery(token, json.loads(plain), plain, headers, claims, status))
        if 300 <= status < 400:
            return web.Response(status=status, headers={"Location": self.redirect_to or self.origin})
        return web.Response(status=status, headers={"Retry-After": "0"} if status == 429 else None)

    def delivered(self, token: str | None = None) -> list[Delivery]:
        """Messages accepted (2xx), for one subscriber or all."""
        return [d for d in self.deliveries if d.status < 300 and (token is None or d.token == token)]
