"""Prometheus metrics (``GET /metrics``, docs/operations.md "Metrics").

No label carries personal data or an id: requests are labelled by method, the route's template
(``/api/cases/{case_id}``, never the path asked for) and status; logins by outcome; nothing else has labels.
Queued and failed Web Push jobs are counted in the database when scraped, so every process reports the same.

Several processes behind one port (``doorstep serve --workers``) share their figures through prometheus_client's
multiprocess mode: ``doorstep serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at an emptied directory under the data
directory before the workers start, and ``/metrics`` then adds up every worker's files.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = [
    "LOGINS",
    "PULL_CHANGES",
    "PULL_SECONDS",
    "PUSH_MUTATIONS",
    "PUSH_SECONDS",
    "REQUESTS",
    "MetricsMiddleware",
    "exposition",
]

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Histogram(
    "doorstep_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PUSH_MUTATIONS = Histogram(
    "doorstep_sync_push_mutations", "Mutations in one sync push.", buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500)
)
PUSH_SECONDS = Histogram(
    "doorstep_sync_push_duration_seconds", "Time to apply one sync push.", buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5)
)
PULL_CHANGES = Histogram(
    "doorstep_sync_pull_changes", "Changes in one pulled page.", buckets=(0, 1, 10, 50, 100, 500, 1000, 2000)
)
PULL_SECONDS = Histogram(
    "doorstep_sync_pull_duration_seconds", "Time to answer one pull.", buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5)
)
LOGINS = Counter(
    "doorstep_logins", "Login attempts by outcome: ok, refused (wrong credentials), throttled.", ["outcome"]
)


def exposition(extra: list[tuple[str, str, float]]) -> bytes:
    """The text exposition of every metric (every worker's, in multiprocess mode), then ``extra`` gauges given as
    (name, help, value)."""
    if os.environ.get(MULTIPROCESS):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest()
    lines = [f"# HELP {name} {help_}\n# TYPE {name} gauge\n{name} {value}\n" for name, help_, value in extra]
    return text + "".join(lines).encode()


class MetricsMiddleware:
    """Times every routed request. The route is the template the router matched, so no id reaches a label."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("path_template") or "unmatched"
            REQUESTS.labels(scope.get("method", ""), route, str(status)).observe(time.perf_counter() - began)
