"""``GET /metrics``: the Prometheus text exposition (server/metrics.py), for the organisation's monitoring.

It needs no login, but answers only a scraper on loopback, or, when ``DOORSTEP_METRICS_TOKEN`` is set, also one
elsewhere that sends it as ``Authorization: Bearer``; anyone else gets 403. A request that came through a proxy on
the same host is not a scraper on loopback, whatever address it arrives from: it carries ``X-Forwarded-For`` (or
``Forwarded``), and without ``--forwarded-allow-ips`` its address would be the proxy's own.
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
# The classic text exposition format (version 0.0.4), which Prometheus 2 and 3 both read.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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
    proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    local = request.client is not None and request.client.host in LOOPBACK and not proxied
    token = bool(scrape.token) and hmac.compare_digest(sent.encode(), f"Bearer {scrape.token}".encode())
    if not (local or token):
        return Response(b"", status_code=HTTP_403_FORBIDDEN)
    body = exposition(await scrape.gauges())
    # The exposition format's own content type, exactly (Litestar would add a second charset to a text/ type).
    return Response(body, headers={"content-type": CONTENT_TYPE})
