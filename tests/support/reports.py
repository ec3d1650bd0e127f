"""Building a known set of records for the reports' tests: cases, contacts and the rest written through the sync
API as a supervisor, and the management's account."""

from __future__ import annotations

import uuid
from typing import Any

from server.auth.models import Role
from server.settings import Settings
from tests.support.accounts import Org, add_user
from tests.support.cases import case_fields
from tests.support.syncing import Device, new_id

__all__ = ["CANARY", "Builder", "add_manager"]

# A name in every case's title and notes: no report, CSV or print page may show it.
CANARY = "Kanarienvogel-7Q9 Musterfrau"


async def add_manager(settings: Settings, org: Org, password_hash: str, name: str = "leitung") -> uuid.UUID:
    """The organisation's management (Leitung), attached to Team Nord as the accounts are."""
    return await add_user(settings.resolved_database_url, name, Role.MANAGER, org.team_id, password_hash)


class Builder:
    """Writes records through the sync API as a supervisor, one push per call."""

    def __init__(self, device: Device, org: Org, team: str) -> None:
        self.device, self.org, self.team = device, org, team

    async def put(self, kind: str, case_id: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        record_id = record_id or new_id()
        results = await self.device.push(self.device.put(kind, record_id, case_id, fields))
        assert results[0]["status"] == "applied", (kind, results)
        return record_id

    async def change(self, kind: str, record_id: str, case_id: str, fields: dict[str, Any]) -> None:
        await self.device.pull()
        base = self.device.records[record_id]["version"]
        results = await self.device.push(self.device.put(kind, record_id, case_id, fields, base))
        assert results[0]["status"] == "applied", results

    async def case(self, opened: str, *, closed: str | None = None, outcome: str | None = None, **extra: Any) -> str:
        case_id = new_id()
        fields = {
            **case_fields(self.org, None, title=f"Mietrückstand {CANARY}"),
            "team_id": self.team,
            "opened_on": opened,
            **extra,
        }
        if closed:
            fields.update(status="closed", closed_on=closed, outcome=outcome)
        await self.put("case", case_id, fields, case_id)
        await self.put("note", case_id, {"text": f"Gespräch mit {CANARY} über die Mietschulden", "visit_id": None})
        return case_id
