"""Session authentication for every route that is not marked public.

A route opts out with ``opt={"exclude_from_auth": True}`` (login, health, the app shell and its static
files). Every other route gets a :class:`~server.auth.schemas.Principal` as ``request.user``;
state-changing methods must carry the ``X-CSRF-Token`` header that login returned.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.auth.service import authenticate
from server.auth.state import auth_state

__all__ = ["SESSION_COOKIE", "SessionAuthMiddleware"]

SESSION_COOKIE = "doorstep_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves the session cookie through :func:`server.auth.service.authenticate`."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        auth = auth_state(connection.app)
        method = str(connection.scope.get("method", "GET"))
        principal = await authenticate(
            auth.engine,
            auth.sessions,
            auth.settings,
            connection.cookies.get(SESSION_COOKIE),
            state_changing=method not in SAFE_METHODS,
            csrf_header=connection.headers.get("x-csrf-token"),
        )
        return AuthenticationResult(user=principal, auth=principal.session_id)
