"""Administration over HTTP (administrators only; the page ``/verwaltung``): teams, accounts and devices.

The same work as the ``doorstep`` commands (server/people.py), through the same functions
(server/auth/accounts.py), each change audited with the administrator as its actor.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.auth import accounts
from server.auth import service as auth_service
from server.auth.guards import requires_admin
from server.auth.models import Device, Role, Team, User
from server.auth.schemas import Password, Principal
from server.auth.state import AuthState
from server.problems import UnsupportedMediaType, ValidationFailed

__all__ = ["AdminController", "AdminPage", "DeviceView", "UserView"]

DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]
TeamName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]
Name = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]+$")]


class DeviceView(msgspec.Struct, kw_only=True, frozen=True):
    """A registered device and its owner."""

    id: uuid.UUID
    name: str
    username: str
    display_name: str
    last_seen_at: dt.datetime
    revoked_at: dt.datetime | None


class TeamView(msgspec.Struct, kw_only=True, frozen=True):
    """A team, for the account forms."""

    id: uuid.UUID
    name: str


class NewTeam(msgspec.Struct, kw_only=True, frozen=True):
    """``POST /api/admin/teams``."""

    name: TeamName


class UserView(msgspec.Struct, kw_only=True, frozen=True):
    """An account as the administration page lists it (never its password hash)."""

    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    team_id: uuid.UUID | None
    team_name: str | None
    disabled: bool


class NewUser(msgspec.Struct, kw_only=True, frozen=True):
    """``POST /api/admin/users``: a new account with its first password."""

    username: Name
    display_name: DisplayName
    role: Role
    team_id: uuid.UUID | None = None
    password: Password


class UserChange(msgspec.Struct, kw_only=True, frozen=True):
    """``PATCH /api/admin/users/{id}``: what to change; absent fields stay as they are."""

    role: Role | None = None
    team_id: uuid.UUID | None = None
    display_name: DisplayName | None = None
    disabled: bool | None = None


class NewPassword(msgspec.Struct, kw_only=True, frozen=True):
    """``POST /api/admin/users/{id}/password``."""

    password: Password


class PasswordSet(msgspec.Struct, kw_only=True, frozen=True):
    """How many sessions the new password ended."""

    sessions_ended: int


def _device(device: Device, user: User) -> DeviceView:
    return DeviceView(
        id=device.id,
        name=device.name,
        username=user.username,
        display_name=user.display_name,
        last_seen_at=device.last_seen_at,
        revoked_at=device.revoked_at,
    )


def _user(user: User, team: Team | None) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        team_id=user.team_id,
        team_name=team.name if team else None,
        disabled=user.disabled_at is not None,
    )


async def _view(state: AuthState, user_id: uuid.UUID) -> UserView:
    [found] = [_user(user, team) for user, team in await accounts.list_users(state.sessions) if user.id == user_id]
    return found


class AdminController(Controller):
    """``/api/admin``: what an administrator needs for accounts, teams and lost tablets."""

    path = "/api/admin"
    guards = [requires_admin]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["admin"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/devices")
    async def devices(self, auth: NamedDependency[AuthState]) -> list[DeviceView]:
        """Every registered device, most recently seen first."""
        return [_device(device, user) for device, user in await accounts.list_devices(auth.sessions)]

    @post("/devices/{device_id:uuid}/revoke", status_code=HTTP_200_OK)
    async def revoke(
        self, device_id: FromPath[uuid.UUID], auth: NamedDependency[AuthState], principal: NamedDependency[Principal]
    ) -> DeviceView:
        """Revoke a device: its next request is answered ``401 device-revoked`` and it wipes its data."""
        await accounts.revoke_device(auth.sessions, device_id, actor_id=principal.user_id, key=auth.audit_key())
        [row] = await accounts.list_devices(auth.sessions, device_id=device_id)
        return _device(*row)

    @get("/teams")
    async def teams(self, auth: NamedDependency[AuthState]) -> list[TeamView]:
        """Every team, by name."""
        return [TeamView(id=team.id, name=team.name) for team in await auth_service.teams(auth.sessions)]

    @post("/teams", status_code=HTTP_201_CREATED)
    async def create_team(self, data: JSONBody[NewTeam], auth: NamedDependency[AuthState]) -> TeamView:
        """A new team in the organisation."""
        team = await auth_service.create_team(auth.sessions, data.name)
        return TeamView(id=team.id, name=team.name)

    @get("/users")
    async def users(self, auth: NamedDependency[AuthState]) -> list[UserView]:
        """Every account, by username, disabled ones included."""
        return [_user(user, team) for user, team in await accounts.list_users(auth.sessions)]

    @post("/users", status_code=HTTP_201_CREATED)
    async def create_user(
        self, data: JSONBody[NewUser], auth: NamedDependency[AuthState], principal: NamedDependency[Principal]
    ) -> UserView:
        """A new account (a disabled account holding the username is renamed and keeps its history)."""
        user, _ = await accounts.create_user(
            auth.sessions,
            username=data.username,
            display_name=data.display_name,
            role=data.role,
            password=data.password,
            team_id=data.team_id,
            actor_id=principal.user_id,
            key=auth.audit_key(),
        )
        return await _view(auth, user.id)

    @patch("/users/{user_id:uuid}")
    async def change_user(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserChange],
        auth: NamedDependency[AuthState],
        principal: NamedDependency[Principal],
    ) -> UserView:
        """Change role, team or display name, or disable or enable the account."""
        username = await accounts.username_of(auth.sessions, user_id)
        actor, key = principal.user_id, auth.audit_key()
        change = accounts.Change(role=data.role, team_id=data.team_id, display_name=data.display_name)
        if change != accounts.Change():
            await accounts.change_user(auth.sessions, username, change, actor_id=actor, key=key)
        if data.disabled is True:
            await accounts.disable_user(auth.sessions, username, actor_id=actor, key=key)
        elif data.disabled is False:
            await accounts.enable_user(auth.sessions, username, actor_id=actor, key=key)
        return await _view(auth, user_id)

    @post("/users/{user_id:uuid}/password", status_code=HTTP_200_OK)
    async def set_password(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[NewPassword],
        auth: NamedDependency[AuthState],
        principal: NamedDependency[Principal],
    ) -> PasswordSet:
        """A new password; every session of the account ends."""
        username = await accounts.username_of(auth.sessions, user_id)
        ended = await accounts.reset_password(
            auth.sessions, username, data.password, actor_id=principal.user_id, key=auth.audit_key()
        )
        return PasswordSet(sessions_ended=ended)

    @post("/users/import", status_code=HTTP_200_OK)
    async def import_users(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthState], principal: NamedDependency[Principal]
    ) -> accounts.ImportReport:
        """A list of users as CSV (``username,display_name,role,team``): all lines taken, or none."""
        if request.headers.get("content-type", "").split(";")[0].strip().lower() not in ("text/csv", "text/plain"):
            raise UnsupportedMediaType("Send the list as text/csv.")
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed("The list is not UTF-8 text; save it as CSV UTF-8.") from None
        rows = accounts.read_user_list(text)
        return await accounts.import_users(auth.sessions, rows, actor_id=principal.user_id, key=auth.audit_key())


class AdminPage(Controller):
    """The administrators' page, in any browser: nothing is kept on the device."""

    path = "/verwaltung"
    include_in_schema = False

    @get("/", opt={"exclude_from_auth": True})
    async def page(self) -> Template:
        return Template(template_name="admin.html", context={}, headers={"Cache-Control": "no-store"})
