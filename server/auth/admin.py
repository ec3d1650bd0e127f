"""Administration over HTTP: list registered devices and revoke a lost tablet (administrators only)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from server.auth import service
from server.auth.models import Device, Role, User
from server.auth.schemas import Principal
from server.problems import Forbidden
from server.runtime import Runtime

__all__ = ["AdminController", "DeviceView"]


class DeviceView(msgspec.Struct, kw_only=True, frozen=True):
    """A registered device and its owner."""

    id: uuid.UUID
    name: str
    username: str
    display_name: str
    last_seen_at: dt.datetime
    revoked_at: dt.datetime | None


def _view(device: Device, user: User) -> DeviceView:
    return DeviceView(
        id=device.id,
        name=device.name,
        username=user.username,
        display_name=user.display_name,
        last_seen_at=device.last_seen_at,
        revoked_at=device.revoked_at,
    )


def _require_admin(principal: Principal) -> None:
    if principal.role is not Role.ADMIN:
        raise Forbidden("Only an administrator manages devices.")


class AdminController(Controller):
    """``/api/admin/devices``: what an administrator needs when a tablet is lost."""

    path = "/api/admin"
    tags = ["admin"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/devices")
    async def devices(
        self, principal: NamedDependency[Principal], runtime: NamedDependency[Runtime]
    ) -> list[DeviceView]:
        """Every registered device, most recently seen first."""
        _require_admin(principal)
        return [_view(device, user) for device, user in await service.list_devices(runtime.sessions)]

    @post("/devices/{device_id:uuid}/revoke", status_code=HTTP_200_OK)
    async def revoke(
        self, device_id: FromPath[uuid.UUID], principal: NamedDependency[Principal], runtime: NamedDependency[Runtime]
    ) -> DeviceView:
        """Revoke a device: its next request is answered ``401 device-revoked`` and it wipes its data."""
        _require_admin(principal)
        await service.revoke_device(runtime.sessions, device_id)
        [row] = await service.list_devices(runtime.sessions, device_id=device_id)
        return _view(*row)
