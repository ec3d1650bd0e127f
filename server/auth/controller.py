"""HTTP endpoints of the auth area: login, logout, the current user and the team's members."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from server.auth import service
from server.auth.guards import login_from_this_site
from server.auth.middleware import SESSION_COOKIE
from server.auth.schemas import LoginRequest, LoginResponse, Principal, TeamMember
from server.auth.state import AuthState
from server.metrics import LOGINS
from server.problems import RateLimited, Unauthenticated
from server.settings import Settings

__all__ = ["AuthController", "TeamController"]


def _cookie(request: Request[Any, Any, Any], settings: Settings, value: str, max_age: int) -> Cookie:
    # The address the server listens on, not the Host header (a proxy may forward any Host).
    server = request.scope.get("server") or ("", None)
    secure = settings.cookie_secure(str(server[0]))
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=secure,
        samesite="strict",
    )


class AuthController(Controller):
    """``/api/auth/*`` and ``/api/me``."""

    path = "/api"
    tags = ["auth"]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/auth/login", opt={"exclude_from_auth": True}, status_code=HTTP_200_OK, guards=[login_from_this_site])
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest], auth: NamedDependency[AuthState]
    ) -> Response[LoginResponse]:
        """Log in on a device. Sets the HttpOnly session cookie and returns the CSRF token."""
        address = request.client.host if request.client else "unknown"
        try:
            result = await service.login(auth.sessions, auth.settings, data, address)
        except RateLimited:
            LOGINS.labels("throttled").inc()
            raise
        except Unauthenticated:
            LOGINS.labels("refused").inc()
            raise
        LOGINS.labels("ok").inc()
        max_age = auth.settings.session_max_hours * 3600
        body = msgspec.structs.replace(result.principal.as_login_response(), request_key=result.request_key)
        return Response(body, cookies=[_cookie(request, auth.settings, result.token, max_age)])

    @post("/auth/logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        auth: NamedDependency[AuthState],
    ) -> Response[None]:
        """End the current session and clear the cookie."""
        await service.logout(auth.sessions, principal)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[_cookie(request, auth.settings, "", 0)])

    @get("/me")
    async def me(self, principal: NamedDependency[Principal]) -> LoginResponse:
        """The logged-in user, device and CSRF token, as login returned them."""
        return principal.as_login_response()


class TeamController(Controller):
    """``/api/users``: the members of the caller's team, by name (and for a supervisor, to assign visits)."""

    path = "/api"
    tags = ["auth"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/users")
    async def users(self, principal: NamedDependency[Principal], auth: NamedDependency[AuthState]) -> list[TeamMember]:
        """The members of the caller's team; administrators without a team are refused."""
        return await service.team_members(auth.sessions, principal)
