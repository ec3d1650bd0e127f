"""The working day on the server: intake by a worker, closure with approval, own visits, handover, notes by author,
the duplicate check over a blind index, and the office search (docs/domain.md "The working day")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from sqlalchemy import select, text

from server.app import create_app
from server.audit import AuditEntry
from server.db import create_engine, session_factory
from server.records.models import BlindIndex
from server.settings import Settings
from tests.support import clock as pinned
from tests.support.accounts import Org, login
from tests.support.app import client_from, running
from tests.support.cases import case_fields, supervisor_creates_case
from tests.support.clock import TestClock
from tests.support.syncing import Device, new_id

Client = httpx.AsyncClient


def household(name: str, street: str, number: str, postcode: str = "10115", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "members": [{"name": name, "relation": "tenant", "birth_year": 1980}],
        "address": {"street": street, "house_number": number, "postcode": postcode, "city": "Berlin"},
        "phone": "+49 30 1234567",
        **extra,
    }


async def intake(device: Device, org: Org, worker: str, house: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """A case and its household in one batch, the way the tablet's intake sends them."""
    case_id, household_id = new_id(), new_id()
    fields = case_fields(org, None, household_id=household_id, opened_on=pinned.today().isoformat())
    fields["assigned_worker_id"] = worker
    results = await device.push(
        device.put("case", case_id, case_id, fields), device.put("household", household_id, case_id, house)
    )
    return case_id, results


async def test_a_worker_takes_on_a_case_for_themselves_and_not_for_a_colleague(client: Client, org: Org) -> None:
    device = Device(client, await login(client, "worker1"))
    case_id, results = await intake(device, org, str(org.worker1_id), household("Ayşe Yılmaz", "Hauptstraße", "5"))
    assert [r["status"] for r in results] == ["applied", "applied"]
    await device.pull()
    assert device.records[case_id]["fields"]["intake_by"] == str(org.worker1_id)

    _, refused = await intake(device, org, str(org.worker2_id), household("Max Muster", "Weg", "1"))
    assert refused[0]["status"] == "rejected"
    assert refused[0]["error"]["code"] == "forbidden"
    assert refused[0]["error"]["field"] == "assigned_worker_id"
    assert refused[1]["status"] == "rejected"  # the household of a case that does not exist

    other_team = case_fields(org, org.worker1_id, team_id=str(org.other_team_id))
    cross = new_id()
    (result,) = await device.push(device.put("case", cross, cross, other_team))
    assert result["status"] == "rejected"
    assert result["error"]["field"] == "team_id"


async def test_only_the_supervisor_closes_a_case(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    version = worker.records[case_id]["version"]
    closed = {"status": "closed", "outcome": "secured", "closed_on": pinned.today().isoformat()}
    (refused,) = await worker.push(worker.put("case", case_id, case_id, closed, base=version))
    assert refused["status"] == "rejected"
    assert refused["error"] == {
        "code": "forbidden",
        "detail": "Only the team's supervisor approves a closure; request it instead (status closing_requested).",
        "field": "status",
    }
    request = {"status": "closing_requested", "outcome": "secured", "closing_note": "Ratenplan läuft."}
    (requested,) = await worker.push(worker.put("case", case_id, case_id, request, base=version))
    assert requested["status"] == "applied"
    without_outcome = {"status": "closing_requested", "outcome": None}
    (no_outcome,) = await worker.push(worker.put("case", case_id, case_id, without_outcome, base=requested["version"]))
    assert no_outcome["status"] == "rejected"
    assert no_outcome["error"]["field"] == "outcome"

    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        await boss.pull()
        assert boss.records[case_id]["fields"]["status"] == "closing_requested"
        approve = {"status": "closed", "closed_on": pinned.today().isoformat()}
        (approved,) = await boss.push(boss.put("case", case_id, case_id, approve, base=requested["version"]))
        assert approved["status"] == "applied"
        listed = (await office.get("/api/cases", params={"status": "closed"})).json()
        assert [c["id"] for c in listed] == [case_id]

    await worker.pull()
    assert worker.records[case_id]["fields"]["status"] == "closed"  # a closed case stays in the worker's list
    reopen = {"status": "open", "outcome": None, "closed_on": None}
    (no_reason,) = await worker.push(worker.put("case", case_id, case_id, reopen, base=approved["version"]))
    assert no_reason["error"]["field"] == "reopen_reason"
    reopen["reopen_reason"] = "Neue Mahnung"
    (reopened,) = await worker.push(worker.put("case", case_id, case_id, reopen, base=approved["version"]))
    assert reopened["status"] == "applied"


async def test_after_the_approval_a_worker_changes_no_closing_field_and_retention_is_untouched(
    app: Litestar, client: Client, org: Org
) -> None:
    # docs/security.md case 47
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    request = {"status": "closing_requested", "outcome": "secured", "closing_note": "Ratenplan läuft."}
    (requested,) = await worker.push(
        worker.put("case", case_id, case_id, request, base=worker.records[case_id]["version"])
    )
    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        approve = {"status": "closed", "closed_on": pinned.day(0)}
        (approved,) = await boss.push(boss.put("case", case_id, case_id, approve, base=requested["version"]))
        assert approved["status"] == "applied"

        for change in (
            {"closed_on": "2015-01-02"},
            {"outcome": "lost_homeless"},
            {"closing_note": "anders"},
            {"status": "closed", "closed_on": "2015-01-02"},
            {"status": "open", "reopen_reason": "Neue Mahnung", "outcome": "lost_homeless"},
        ):
            (refused,) = await worker.push(worker.put("case", case_id, case_id, change, base=approved["version"]))
            assert refused["status"] == "rejected", change
            assert refused["error"]["code"] == "forbidden", refused
            assert refused["error"]["field"] in {"closed_on", "outcome", "closing_note"}

        retention = (await office.get("/api/retention")).json()
        assert retention["due"] == []  # closed today: nothing to erase, nothing announced
        listed = (await office.get("/api/cases", params={"status": "closed"})).json()
        assert [c["id"] for c in listed] == [case_id]
        await boss.pull()
        fields = boss.records[case_id]["fields"]
        assert (fields["outcome"], fields["closed_on"], fields["closing_note"]) == (
            "secured",
            pinned.day(0),
            "Ratenplan läuft.",
        )
        # The supervisor corrects the closing, even its day years back: retention still counts from the approval,
        # which the server recorded today, so nothing is due and nothing is announced.
        correction = {"outcome": "secured_benefit", "closed_on": "2015-01-02"}
        (corrected,) = await boss.push(boss.put("case", case_id, case_id, correction, base=approved["version"]))
        assert corrected["status"] == "applied"
        assert (await office.get("/api/retention")).json()["due"] == []
    reopen = {"status": "open", "outcome": None, "closed_on": None, "reopen_reason": "Neue Mahnung"}
    (reopened,) = await worker.push(worker.put("case", case_id, case_id, reopen, base=corrected["version"]))
    assert reopened["status"] == "applied"


async def test_the_supervisor_returns_a_closure_request_with_a_comment(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    base = worker.records[case_id]["version"]
    (requested,) = await worker.push(
        worker.put("case", case_id, case_id, {"status": "closing_requested", "outcome": "no_contact"}, base=base)
    )
    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        back = {"status": "open", "outcome": None, "closing_comment": "Bitte noch einen Hausbesuch."}
        (returned,) = await boss.push(boss.put("case", case_id, case_id, back, base=requested["version"]))
        assert returned["status"] == "applied"
    await worker.pull()
    fields = worker.records[case_id]["fields"]
    assert (fields["status"], fields["closing_comment"]) == ("open", "Bitte noch einen Hausbesuch.")


async def test_a_worker_moves_their_own_visits_and_not_the_supervisors(app: Litestar, client: Client, org: Org) -> None:
    case_id, boss = await supervisor_creates_case(app, org, org.worker1_id)
    planned = (pinned.now() + dt.timedelta(days=2)).isoformat()
    later = (pinned.now() + dt.timedelta(days=5)).isoformat()
    assigned = new_id()
    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        visit = {"planned_at": planned, "status": "planned", "assigned_worker_id": str(org.worker1_id)}
        (made,) = await boss.push(boss.put("visit", assigned, case_id, visit))
        assert made["status"] == "applied"
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    assert worker.records[assigned]["fields"]["planned_by"] == str(org.supervisor_id)
    (moved,) = await worker.push(worker.put("visit", assigned, case_id, {"planned_at": later}, base=made["version"]))
    assert moved["status"] == "rejected"
    assert (moved["error"]["code"], moved["error"]["field"]) == ("forbidden", "planned_at")
    (deleted,) = await worker.push(worker.delete("visit", assigned, case_id, base=made["version"]))
    assert (deleted["status"], deleted["error"]["code"]) == ("rejected", "forbidden")  # deleting is cancelling
    # The tablet sends the outcome with the planned time as it holds it, in Berlin's offset: the same instant is no
    # move ("meaning, not spelling").
    same_moment = dt.datetime.fromisoformat(planned).astimezone(pinned.BERLIN).isoformat()
    assert same_moment != planned
    visited = {"status": "not_home", "visited_at": pinned.now().isoformat(), "card_left": True}
    (outcome,) = await worker.push(
        worker.put("visit", assigned, case_id, {**visited, "planned_at": same_moment}, base=made["version"])
    )
    assert outcome["status"] == "applied", outcome

    own = new_id()
    mine = {"planned_at": planned, "status": "planned", "assigned_worker_id": str(org.worker1_id)}
    (created,) = await worker.push(worker.put("visit", own, case_id, mine))
    (rescheduled,) = await worker.push(
        worker.put("visit", own, case_id, {"planned_at": later}, base=created["version"])
    )
    assert rescheduled["status"] == "applied"
    forged = new_id()
    (refused,) = await worker.push(worker.put("visit", forged, case_id, {**mine, "planned_by": str(org.supervisor_id)}))
    assert (refused["status"], refused["error"]["field"]) == ("rejected", "planned_by")


async def test_a_note_carries_its_author_and_a_contact_its_direction_and_duration(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    hour_ago = (pinned.now() - dt.timedelta(hours=1)).isoformat()
    note, contact, missed = new_id(), new_id(), new_id()
    results = await worker.push(
        worker.put("note", note, case_id, {"text": "Vermieter angerufen.", "visit_id": None, "written_at": hour_ago}),
        worker.put(
            "contact", missed, case_id, {"channel": "phone", "at": hour_ago, "direction": "outgoing", "reached": False}
        ),
        worker.put(
            "contact",
            contact,
            case_id,
            {"channel": "phone", "at": hour_ago, "direction": "incoming", "reached": True, "duration_minutes": 12},
        ),
    )
    assert [r["status"] for r in results] == ["applied"] * 3
    detail = (await client.get(f"/api/cases/{case_id}")).json()
    by_id = {r["id"]: r["fields"] for r in detail["records"]}
    assert by_id[note]["author_id"] == str(org.worker1_id)
    assert (by_id[missed]["reached"], by_id[contact]["duration_minutes"]) == (False, 12)


async def test_handover_moves_the_case_and_its_open_visits_to_the_new_worker(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    old = Device(client, await login(client, "worker1"))
    visit = new_id()
    planned = (pinned.now() + dt.timedelta(days=3)).isoformat()
    (made,) = await old.push(
        old.put(
            "visit",
            visit,
            case_id,
            {"planned_at": planned, "status": "planned", "assigned_worker_id": str(org.worker1_id)},
        )
    )
    await old.pull()
    assert case_id in {r["case_id"] for r in old.records.values()}
    async with client_from(app) as office, client_from(app) as other:
        boss = Device(office, await login(office, "supervisor"))
        await boss.pull()
        handover = {
            "assigned_worker_id": str(org.worker2_id),
            "handover_from": str(org.worker1_id),
            "handover_note": "Frau Y. erwartet Rückruf wegen Jobcenter.",
            "handed_over_on": pinned.today().isoformat(),
        }
        results = await boss.push(
            boss.put("case", case_id, case_id, handover, base=boss.records[case_id]["version"]),
            boss.put("visit", visit, case_id, {"assigned_worker_id": str(org.worker2_id)}, base=made["version"]),
        )
        assert [r["status"] for r in results] == ["applied", "applied"]
        new = Device(other, await login(other, "worker2"))
        await new.pull()
        assert new.records[case_id]["fields"]["handover_note"] == "Frau Y. erwartet Rückruf wegen Jobcenter."
        assert new.records[visit]["fields"]["assigned_worker_id"] == str(org.worker2_id)
        # The visit worker1 planned is now worker2's to move; a supervisor's plan would not be.
        later = (pinned.now() + dt.timedelta(days=6)).isoformat()
        version = new.records[visit]["version"]
        (moved,) = await new.push(new.put("visit", visit, case_id, {"planned_at": later}, base=version))
        assert moved["status"] == "applied"
    await old.pull()
    assert case_id in old.purged
    assert not [r for r in old.records.values() if r["case_id"] == case_id]


async def test_the_duplicate_check_finds_another_spelling_and_the_index_holds_no_address(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    worker = Device(client, await login(client, "worker1"))
    case_id, _ = await intake(worker, org, str(org.worker1_id), household("Ayşe Yılmaz", "Hauptstraße", "5"))
    async with client_from(app) as office:
        await login(office, "worker2")
        asked = {"street": "Hauptstr.", "house_number": "5", "postcode": "10115", "names": []}
        answer = (await office.post("/api/cases/duplicates", json=asked)).json()
        assert answer == {"matches": [{"reason": "address", "responsible_id": str(org.worker1_id), "case_id": None}]}
        by_name = {"street": "", "house_number": "", "postcode": "10115", "names": ["Yilmaz, Ayse"]}
        assert (await office.post("/api/cases/duplicates", json=by_name)).json()["matches"][0]["reason"] == "tenant"
        elsewhere = {"street": "Hauptstraße", "house_number": "7", "postcode": "10115", "names": ["Müller"]}
        assert (await office.post("/api/cases/duplicates", json=elsewhere)).json() == {"matches": []}
        await login(office, "supervisor")
        mine = (await office.post("/api/cases/duplicates", json=asked)).json()
        assert mine["matches"][0]["case_id"] == case_id  # the supervisor may open it
        await login(office, "worker3")  # another team: nothing
        assert (await office.post("/api/cases/duplicates", json=asked)).json() == {"matches": []}
        bad = await office.post("/api/cases/duplicates", json={"street": 5})
        assert bad.status_code == 400

    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            tokens = (await db.scalars(select(BlindIndex.token))).all()
            assert tokens
            for table in ("blind_index", "records", "audit_log"):
                rows = (await db.execute(text(f"SELECT * FROM {table}"))).all()
                dump = repr(rows).casefold()
                for clear in ("hauptstr", "yilmaz", "yılmaz"):
                    assert clear not in dump
    finally:
        await engine.dispose()


async def test_the_duplicate_check_is_limited_per_user_and_audits_every_case_it_revealed(
    org: Org, settings: Settings, clock: TestClock
) -> None:
    # docs/security.md case 56: no list of names runs through it, and what it told whom is on record.
    limited = create_app(msgspec.structs.replace(settings, duplicate_checks_per_window=3))
    async with running(limited), client_from(limited) as client, client_from(limited) as other:
        worker = Device(client, await login(client, "worker1"))
        case_id, _ = await intake(worker, org, str(org.worker1_id), household("Ayşe Yılmaz", "Hauptstraße", "5"))
        await login(other, "worker2")
        asked = {"street": "Hauptstraße", "house_number": "5", "postcode": "10115", "names": ["Yılmaz"]}
        for _ in range(3):
            answer = await other.post("/api/cases/duplicates", json=asked)
            assert answer.status_code == 200
            assert answer.json()["matches"][0]["case_id"] is None  # worker1's case, named by its worker only
        refused = await other.post("/api/cases/duplicates", json=asked)
        assert refused.status_code == 429
        assert refused.json()["type"].endswith("rate-limited")
        assert 1 <= int(refused.headers["Retry-After"]) <= 600
        assert (await client.post("/api/cases/duplicates", json=asked)).status_code == 200  # per user
        clock.travel(clock.now() + dt.timedelta(minutes=10, seconds=1))
        assert (await other.post("/api/cases/duplicates", json=asked)).status_code == 200  # the window has passed
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            checks = (
                await db.execute(
                    select(AuditEntry.actor_id, AuditEntry.record_ids).where(
                        AuditEntry.action == "case.duplicate_check", AuditEntry.actor_id == org.worker2_id
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert len(checks) == 4
    assert all(record_ids == [case_id] for _, record_ids in checks)


async def test_the_office_searches_names_addresses_phones_and_references(
    app: Litestar, client: Client, org: Org
) -> None:
    worker = Device(client, await login(client, "worker1"))
    first, _ = await intake(worker, org, str(org.worker1_id), household("Ayşe Yılmaz", "Hauptstraße", "5"))
    second, _ = await intake(worker, org, str(org.worker1_id), household("Jonas Berg", "Lindenweg", "12"))
    event = {"type": "eviction_lawsuit", "date": pinned.today().isoformat(), "reference": "12 C 345/26"}
    await worker.push(worker.put("legal_event", new_id(), second, event))
    async with client_from(app) as office:
        await login(office, "supervisor")

        async def found(q: str) -> set[str]:
            response = await office.post("/api/cases/search", json={"q": q})
            assert response.status_code == 200, response.text
            return {c["id"] for c in response.json()}

        # docs/security.md case 55: a search term never travels in a URL.
        in_url = await office.get("/api/cases", params={"q": "yilmaz"})
        assert (in_url.status_code, in_url.json()["field"]) == (400, "q")
        assert "yilmaz" not in in_url.text.lower()

        assert await found("yilmaz") == {first}
        assert await found("Hauptstr 5") == {first}
        assert await found("030 1234567") == {first, second}
        assert await found("12 C 345") == {second}
        assert await found("Lindenweg Berg") == {second}
        assert await found("nirgendwo") == set()
        assert await found("  ") == {first, second}  # nothing typed: every case


async def test_a_closure_request_or_withdrawal_meeting_the_approval_becomes_a_conflict_on_status(
    app: Litestar, client: Client, org: Org
) -> None:
    """A rule broken only because of a concurrent edit is a conflict for people to decide, not a refusal: the
    supervisor's approval stands, the worker's other changes apply, and both see the conflict."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    requested = {"status": "closing_requested", "outcome": "secured", "closing_note": "Ratenplan läuft."}
    (made,) = await worker.push(
        worker.put("case", case_id, case_id, requested, base=worker.records[case_id]["version"])
    )
    base = made["version"]
    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        approve = {"status": "closed", "closed_on": pinned.day(0), "outcome": "secured_benefit"}
        (approved,) = await boss.push(boss.put("case", case_id, case_id, approve, base=base))
        assert approved["status"] == "applied"
        # Offline meanwhile, the worker withdrew the request (and changed the risk) from the version they knew.
        withdrawal = {"status": "open", "outcome": None, "closing_note": "", "risk": "low"}
        (answer,) = await worker.push(worker.put("case", case_id, case_id, withdrawal, base=base))
        assert answer["status"] == "conflict", answer
        await boss.pull()
        fields = boss.records[case_id]["fields"]
        assert (fields["status"], fields["outcome"], fields["closing_note"]) == (
            "closed",
            "secured_benefit",
            "Ratenplan läuft.",
        )
        assert fields["risk"] == "low"  # the rest of the write applied
        conflicts = [r["fields"] for r in boss.records.values() if r["kind"] == "conflict"]
        assert {c["field"] for c in conflicts} >= {"status"}
        assert next(c for c in conflicts if c["field"] == "status")["client_value"] == "open"


async def test_a_handover_moves_every_planned_visit_and_open_action_whatever_the_supervisor_knew(
    app: Litestar, client: Client, org: Org
) -> None:
    """The supervisor's tablet hands the case over knowing nothing of the return visit and the action the old worker
    added meanwhile: the server moves them too, in the same push, so the old worker leaves the case's scope."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    async with client_from(app) as office, client_from(app) as other:
        boss = Device(office, await login(office, "supervisor"))
        await boss.pull()  # before the worker's additions
        old = Device(client, await login(client, "worker1"))
        visit, action, done = new_id(), new_id(), new_id()
        planned = (pinned.now() + dt.timedelta(days=2)).isoformat()
        results = await old.push(
            old.put(
                "visit",
                visit,
                case_id,
                {"planned_at": planned, "status": "planned", "assigned_worker_id": str(org.worker1_id)},
            ),
            old.put(
                "action",
                action,
                case_id,
                {"title": "Jobcenter anrufen", "due_on": pinned.day(3), "owner_id": str(org.worker1_id)},
            ),
            old.put(
                "action",
                done,
                case_id,
                {
                    "title": "Brief geschrieben",
                    "due_on": pinned.day(-1),
                    "owner_id": str(org.worker1_id),
                    "status": "done",
                },
            ),
        )
        assert [r["status"] for r in results] == ["applied"] * 3
        await old.pull()
        handover = {"assigned_worker_id": str(org.worker2_id), "handed_over_on": pinned.day(0)}
        (handed,) = await boss.push(boss.put("case", case_id, case_id, handover, base=boss.records[case_id]["version"]))
        assert handed["status"] == "applied"
        new = Device(other, await login(other, "worker2"))
        await new.pull()
        assert new.records[visit]["fields"]["assigned_worker_id"] == str(org.worker2_id)
        assert new.records[action]["fields"]["owner_id"] == str(org.worker2_id)
        assert new.records[done]["fields"]["owner_id"] == str(org.worker1_id)  # done work stays who did it
    await old.pull()
    assert case_id in old.purged
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 404
