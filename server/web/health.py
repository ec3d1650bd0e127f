"""``GET /health``: is the process up, and can it reach its database?"""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["Health", "health"]


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
