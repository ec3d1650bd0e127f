"""Wire messages of the auth area (docs/sync-protocol.md, "Authentication")."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from server.auth.models import Role

__all__ = ["LoginRequest", "LoginResponse", "Principal", "TeamMember", "UserOut"]

# No NUL anywhere (PostgreSQL cannot store it in text; docs/security.md case 36), no control characters in names.
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=r"^[^\x00]+$")]
# Printable text only: a device name reaches administrators' terminals (``doorstep devices``), where control
# characters would be terminal escapes (docs/security.md case 27).
DeviceName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]


class LoginRequest(msgspec.Struct, kw_only=True, frozen=True):
    """``POST /api/auth/login``. ``device_id`` is null on a device that has never logged in."""

    username: Username
    password: Password
    device_name: DeviceName = "Tablet"
    device_id: uuid.UUID | None = None
    # Bind the session to the device: the answer carries a ``request_key`` that every API request must then send
    # as ``X-Doorstep-Key`` (the tablet app keeps it sealed under its device key), so the cookie alone is not
    # enough (docs/security.md case 58).
    bound: bool = False


class UserOut(msgspec.Struct, kw_only=True, frozen=True):
    """The logged-in user as the client sees it."""

    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    team_id: uuid.UUID | None


class LoginResponse(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """Answer of login and of ``GET /api/me``; ``request_key`` only in the answer of a bound login, once."""

    user: UserOut
    device_id: uuid.UUID
    csrf_token: str
    request_key: str | None = None


class TeamMember(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """One row of ``GET /api/users``: a worker sees names and roles only, a supervisor also the usernames."""

    id: uuid.UUID
    display_name: str
    role: Role
    # False for a former member: still named in the case history, no longer offered for assignments.
    active: bool
    username: str | None = None


class Principal(msgspec.Struct, kw_only=True, frozen=True):
    """Who is calling: the authenticated user on a registered device, attached to every request."""

    user_id: uuid.UUID
    username: str
    display_name: str
    role: Role
    team_id: uuid.UUID | None
    device_id: uuid.UUID
    session_id: uuid.UUID
    csrf_token: str
    # The organisation of the caller's team: its sync clock and audit chain are the ones the caller writes to.
    organisation_id: uuid.UUID | None = None
    # Grows with every change of the user's role or team: a sync cursor of an older one is expired.
    scope_generation: int = 0

    @property
    def is_supervisor(self) -> bool:
        """Whether the caller steers a team."""
        return self.role is Role.SUPERVISOR and self.team_id is not None

    def as_login_response(self) -> LoginResponse:
        """The body of ``GET /api/me``, identical in shape to the login answer."""
        return LoginResponse(
            user=UserOut(
                id=self.user_id,
                username=self.username,
                display_name=self.display_name,
                role=self.role,
                team_id=self.team_id,
            ),
            device_id=self.device_id,
            csrf_token=self.csrf_token,
        )
