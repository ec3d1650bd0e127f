"""Session authentication for every route that is not marked public.

A route opts out with ``opt={"exclude_from_auth": True}`` (login, health, the app shell and its static
files). Every other route gets a :class:`~server.auth.schemas.Principal` as ``request.user``;
state-changing methods must carry the ``X-CSRF-Token`` header that login returned. The API answers no page load
(a browser's navigation to ``/api/...``), and a session bound to its device needs the device's key in
``X-Doorstep-Key`` on every API request (docs/security.md case 58).
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.auth.models import Role
from server.auth.service import authenticate
from server.auth.state import auth_state
from server.problems import Forbidden

__all__ = ["SESSION_COOKIE", "SessionAuthMiddleware"]

SESSION_COOKIE = "doorstep_session"
# All a referrer reaches (docs/security.md "Referrals"): their referrals, their own session.
REFERRER_PATHS = ("/api/referrals", "/api/me", "/api/auth/logout")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves the session cookie through :func:`server.auth.service.authenticate`."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        auth = auth_state(connection.app)
        method = str(connection.scope.get("method", "GET"))
        api = connection.url.path.startswith("/api/")
        if api and _navigation(connection):
            raise Forbidden("The API answers the app, not a page load in the browser.")
        principal = await authenticate(
            auth.engine,
            auth.sessions,
            auth.settings,
            connection.cookies.get(SESSION_COOKIE),
            state_changing=method not in SAFE_METHODS,
            csrf_header=connection.headers.get("x-csrf-token"),
            key_header=connection.headers.get("x-doorstep-key"),
            needs_key=api,
        )
        if principal.role is Role.REFERRER and not connection.url.path.startswith(REFERRER_PATHS):
            raise Forbidden("Property management hands households over and follows them; nothing else.")
        return AuthenticationResult(user=principal, auth=principal.session_id)


def _navigation(connection: ASGIConnection) -> bool:  # type: ignore[type-arg]
    """Whether the browser loads this as a page (typed in the address bar, a link followed), not a fetch."""
    return (
        connection.headers.get("sec-fetch-mode") == "navigate" or connection.headers.get("sec-fetch-dest") == "document"
    )
