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


async def test_a_case_names_its_own_household_and_only_the_supervisor_links_another_cases(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    # docs/security.md case 51: otherwise the right of access for one household would hand out another's case.
    worker = Device(client, await login(client, "worker1"))
    own, household = new_id(), new_id()
    intake = [
        worker.put("case", own, own, {**case_fields(org, org.worker1_id), "household_id": household}),
        worker.put("household", household, own, {"name": "Familie Eigen"}),
    ]
    assert {r["status"] for r in await worker.push(*intake)} == {"applied"}  # the intake: case, then household
    other = new_id()
    (made,) = await worker.push(worker.put("case", other, other, case_fields(org, org.worker1_id)))
    assert made["status"] == "applied"
    (refused,) = await worker.push(worker.put("case", other, other, {"household_id": household}, base=made["version"]))
    assert (refused["status"], refused["error"]["code"], refused["error"]["field"]) == (
        "rejected",
        "forbidden",
        "household_id",
    )
    (not_a_household,) = await worker.push(
        worker.put("case", other, other, {"household_id": own}, base=made["version"])
    )
    assert (not_a_household["status"], not_a_household["error"]["field"]) == ("rejected", "household_id")

    async with client_from(app) as office:
        supervisor = Device(office, await login(office, "supervisor"))
        await supervisor.pull()
        base = supervisor.records[other]["version"]
        (linked,) = await supervisor.push(supervisor.put("case", other, other, {"household_id": household}, base=base))
        assert linked["status"] == "applied"  # two cases of one household, linked by the supervisor
        foreign_team = new_id()
        fields = {**case_fields(org, None), "team_id": str(org.other_team_id), "household_id": household}
        other_boss = Device(office, await login(office, "supervisor2"))
        (crossed,) = await other_boss.push(other_boss.put("case", foreign_team, foreign_team, fields))
        assert (crossed["status"], crossed["error"]["field"]) == ("rejected", "household_id")
