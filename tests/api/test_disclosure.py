"""The right of access (Art. 15 GDPR): a supervisor exports everything the team holds about a household."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select

from server.audit import AuditEntry
from server.auth.state import AuthState
from server.plugin import service_of
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import case_fields
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")


async def test_a_supervisor_exports_everything_held_about_a_household(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    async with client_from(app) as office:
        supervisor = Device(office, await login(office, "supervisor"))
        first, second, other = new_id(), new_id(), new_id()
        household = new_id()
        pushes = [
            supervisor.put("case", first, first, {**case_fields(org, org.worker1_id), "household_id": household}),
            supervisor.put("household", household, first, {"name": "Familie Auskunft", "phone": "030 1234"}),
            supervisor.put("case", second, second, {**case_fields(org, None), "household_id": household}),
            supervisor.put("case", other, other, case_fields(org, None, title="Mietrückstand Nachbar")),
            supervisor.put("note", new_id(), second, {"text": "Zweiter Fall, gleiche Familie", "visit_id": None}),
            supervisor.put("note", new_id(), other, {"text": "Nicht diese Familie", "visit_id": None}),
        ]
        assert {r["status"] for r in await supervisor.push(*pushes)} == {"applied"}
        export = await office.get(f"/api/cases/{second}/disclosure")
        assert export.status_code == 200, export.text
        body = export.json()
        assert body["household_id"] == household
        assert sorted(c["case"]["id"] for c in body["cases"]) == sorted([first, second])
        texts = [r["fields"].get("text") for c in body["cases"] for r in c["records"] if r["kind"] == "note"]
        assert texts == ["Zweiter Fall, gleiche Familie"]
        names = [r["fields"]["name"] for c in body["cases"] for r in c["records"] if r["kind"] == "household"]
        assert names == ["Familie Auskunft"]
        assert all(c["history"] for c in body["cases"])  # each case's recorded course
        assert "Nachbar" not in export.text

    await login(client, "worker1")
    assert (await client.get(f"/api/cases/{first}/disclosure")).status_code == 403  # the supervisor's task
    await login(client, "supervisor2")
    assert (await client.get(f"/api/cases/{first}/disclosure")).status_code == 404  # another team's case
    async with service_of(app, AuthState).sessions() as db:
        actions = (
            await db.scalars(select(AuditEntry.outcome).where(AuditEntry.action == "household.disclosure"))
        ).all()
    assert sorted(actions) == ["denied", "ok"]
