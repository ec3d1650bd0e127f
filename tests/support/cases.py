"""Cases made over the sync API, the way a supervisor's device makes them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from litestar import Litestar

from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.syncing import Device, new_id

__all__ = ["case_fields", "supervisor_creates_case", "worker_device"]


def case_fields(org: Org, worker: uuid.UUID | None, **extra: Any) -> dict[str, Any]:
    """The fields of an open rent-arrears case of Team Nord, assigned to ``worker``."""
    return {
        "team_id": str(org.team_id),
        "assigned_worker_id": str(worker) if worker else None,
        "type": "rent_arrears",
        "status": "open",
        "risk": "high",
        "title": "Mietrückstand Testfall",
        **extra,
    }


async def supervisor_creates_case(
    app: Litestar, org: Org, worker: uuid.UUID | None, **extra: Any
) -> tuple[str, Device]:
    """The supervisor pushes a new case for ``worker``; returns its id and the supervisor's device."""
    async with client_from(app) as c:
        device = Device(c, await login(c, "supervisor"))
        case_id = new_id()
        results = await device.push(device.put("case", case_id, case_id, case_fields(org, worker, **extra)))
        assert results[0]["status"] == "applied", results
    return case_id, device


async def worker_device(client: httpx.AsyncClient, name: str = "worker1") -> Device:
    """A device of ``name`` logged in on ``client``."""
    return Device(client, await login(client, name))
