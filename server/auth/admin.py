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
from server.auth.guards import requires_admin
from server.auth.models import Device, User
from server.auth.state import AuthState

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


class AdminController(Controller):
    """``/api/admin/devices``: what an administrator needs when a tablet is lost."""

    path = "/api/admin"
    guards = [requires_admin]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["admin"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/devices")
    async def devices(self, auth: NamedDependency[AuthState]) -> list[DeviceView]:
        """Every registered device, most recently seen first."""
        return [_view(device, user) for device, user in await service.list_devices(auth.sessions)]

    @post("/devices/{device_id:uuid}/revoke", status_code=HTTP_200_OK)
    async def revoke(self, device_id: FromPath[uuid.UUID], auth: NamedDependency[AuthState]) -> DeviceView:
        """Revoke a device: its next request is answered ``401 device-revoked`` and it wipes its data."""
        await service.revoke_device(auth.sessions, device_id)
        [row] = await service.list_devices(auth.sessions, device_id=device_id)
        return _view(*row)
