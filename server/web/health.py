"""``GET /health``: is the process up, and can it reach its database? ``GET /ready``: may it take traffic (the
database answers, its schema is at the newest migration, the keys are loaded)?"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["Health", "Readiness", "Ready", "health", "ready"]

INSTANCE = secrets.token_hex(4)


class Health(msgspec.Struct, kw_only=True, frozen=True):
    """Liveness and database reachability, for load balancers and for people."""

    status: str
    database: str


@get("/health", opt={"exclude_from_auth": True}, tags=["system"])
async def health(engine: NamedDependency[AsyncEngine]) -> Response[Health]:
    """``ok`` with 200 when the database answers, ``unavailable`` with 503 when it does not."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return Response(Health(status="unavailable", database="unreachable"), status_code=HTTP_503_SERVICE_UNAVAILABLE)
    return Response(Health(status="ok", database="ok"), status_code=HTTP_200_OK)


@dataclass(frozen=True)
class Readiness:
    """The checks ``/ready`` runs, by name (the plugin builds them once the process has started)."""

    checks: Mapping[str, Callable[[], Awaitable[bool]]]


class Ready(msgspec.Struct, kw_only=True, frozen=True):
    """Whether this process may take traffic, each check's answer, and which process answered (several serve
    behind one address): a random name it took at start, not its process id."""

    status: str
    checks: dict[str, str]
    instance: str


@get("/ready", opt={"exclude_from_auth": True}, tags=["system"])
async def ready(readiness: NamedDependency[Readiness]) -> Response[Ready]:
    """``ready`` with 200 when every check passes; ``not ready`` with 503 naming the failed ones."""
    answers: dict[str, str] = {}
    for name, check in readiness.checks.items():
        try:
            answers[name] = "ok" if await check() else "failed"
        except (SQLAlchemyError, OSError):
            answers[name] = "failed"
    ok = all(answer == "ok" for answer in answers.values())
    return Response(
        Ready(status="ready" if ok else "not ready", checks=answers, instance=INSTANCE),
        status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
    )
