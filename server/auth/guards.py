"""Role checks as Litestar guards, declared on the controllers whose every route needs the role.

A guard answers one question, "does this user's role allow this kind of route?", before the handler runs.
Whether a particular case is theirs to see is a scope question and stays in the services
(:mod:`server.records.scope`).

The guards are coroutines although they never wait: Litestar runs a plain function guard in a thread pool, and
that hand-over to a thread and back cost every guarded request more than the rest of its checks.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.auth.models import Role
from server.auth.schemas import Principal
from server.problems import Forbidden, UnsupportedMediaType

__all__ = [
    "login_from_this_site",
    "refuses_manager",
    "requires_admin",
    "requires_manager",
    "requires_reporter",
    "requires_supervisor",
]


def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The signed-in user; None only for the CORS preflight (``OPTIONS``), which carries no session."""
    if connection.scope.get("method") == "OPTIONS":
        return None
    principal = connection.user
    assert isinstance(principal, Principal)  # the session middleware runs before every other guarded request
    return principal


async def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Administrators only (device management)."""
    principal = _principal(connection)
    if principal is not None and principal.role is not Role.ADMIN:
        raise Forbidden("Only an administrator manages devices.")


async def requires_supervisor(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A team's supervisor only (reports, the team's members)."""
    principal = _principal(connection)
    if principal is not None and (principal.role is not Role.SUPERVISOR or principal.team_id is None):
        raise Forbidden("This is for a team's supervisor.")


async def requires_manager(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The organisation's management (Leitung) only: the figures of every team."""
    principal = _principal(connection)
    if principal is not None and (principal.role is not Role.MANAGER or principal.team_id is None):
        raise Forbidden("This is for the organisation's management.")


async def requires_reporter(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A team's supervisor (their team's figures) or the management (the organisation's): the printed report."""
    principal = _principal(connection)
    if principal is not None and (principal.role not in (Role.SUPERVISOR, Role.MANAGER) or principal.team_id is None):
        raise Forbidden("This is for a team's supervisor or the organisation's management.")


async def refuses_manager(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Case data is for the teams: a manager reads figures, never a case (docs/security.md)."""
    principal = _principal(connection)
    if principal is not None and principal.role is Role.MANAGER:
        raise Forbidden("The management reads the figures of the teams, not their cases.")


async def login_from_this_site(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Login takes JSON sent by this site's own pages, nothing else (login CSRF, docs/security.md case 28).

    A cross-site form or ``text/plain`` post could otherwise log a victim's browser into an attacker's account.
    ``application/json`` cannot be sent cross-site without a CORS preflight, which this server never grants, and a
    browser's ``Sec-Fetch-Site`` and ``Origin`` headers name where the request came from.
    """
    media_type = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("Send the login as application/json.", field="content-type")
    fetch_site = connection.headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site not in ("same-origin", "none"):
            raise Forbidden("A login must come from this site's own pages.")
        return
    # A browser without Fetch Metadata: its Origin header, when it sends one, must be this server's.
    origin = connection.headers.get("origin")
    if origin is not None and origin.rstrip("/") != _own_origin(connection):
        raise Forbidden("A login must come from this site's own pages.")


def _own_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return f"{connection.url.scheme}://{connection.url.netloc}"
