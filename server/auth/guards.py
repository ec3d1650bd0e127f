"""Role checks as Litestar guards, declared on the controllers whose every route needs the role.

A guard answers one question, "does this user's role allow this kind of route?", before the handler runs.
Whether a particular case is theirs to see is a scope question and stays in the services
(:mod:`server.records.scope`).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.auth.models import Role
from server.auth.schemas import Principal
from server.problems import Forbidden

__all__ = ["requires_admin", "requires_supervisor"]


def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The signed-in user; None only for the CORS preflight (``OPTIONS``), which carries no session."""
    if connection.scope.get("method") == "OPTIONS":
        return None
    principal = connection.user
    assert isinstance(principal, Principal)  # the session middleware runs before every other guarded request
    return principal


def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Administrators only (device management)."""
    principal = _principal(connection)
    if principal is not None and principal.role is not Role.ADMIN:
        raise Forbidden("Only an administrator manages devices.")


def requires_supervisor(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A team's supervisor only (reports, the team's members)."""
    principal = _principal(connection)
    if principal is not None and (principal.role is not Role.SUPERVISOR or principal.team_id is None):
        raise Forbidden("This is for a team's supervisor.")
