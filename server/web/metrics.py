"""``GET /metrics``: the Prometheus text exposition (server/metrics.py), for the organisation's monitoring.

It needs no login, but answers only a scraper on loopback, or one that sends ``Authorization: Bearer`` with
``DOORSTEP_METRICS_TOKEN`` when that is set; anyone else gets 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_403_FORBIDDEN

from server.metrics import exposition

__all__ = ["Scrape", "metrics"]

LOOPBACK = {"127.0.0.1", "::1"}


@dataclass(frozen=True)
class Scrape:
    """What ``/metrics`` needs from the app: the token (empty: loopback only) and the gauges read from the
    database at each scrape, as (name, help, value)."""

    token: str
    gauges: Callable[[], Awaitable[list[tuple[str, str, float]]]]


@get("/metrics", opt={"exclude_from_auth": True}, tags=["system"], include_in_schema=False)
async def metrics(request: Request[Any, Any, Any], scrape: NamedDependency[Scrape]) -> Response[bytes]:
    """Every metric in Prometheus' text format (version 0.0.4)."""
    sent = request.headers.get("authorization", "")
    if scrape.token:
        allowed = hmac.compare_digest(sent.encode(), f"Bearer {scrape.token}".encode())
    else:
        allowed = request.client is not None and request.client.host in LOOPBACK
    if not allowed:
        return Response(b"", status_code=HTTP_403_FORBIDDEN)
    body = exposition(await scrape.gauges())
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
