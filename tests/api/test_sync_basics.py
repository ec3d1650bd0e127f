"""Sync protocol basics through HTTP: replays, limits, cursors, merge and conflicts, append-only notes."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest
from litestar import Litestar

from server.problems import PROBLEM_BASE
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import case_fields, supervisor_creates_case, worker_device
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")

Client = httpx.AsyncClient


async def test_replaying_a_batch_returns_the_first_results_and_writes_nothing(
    app: Litestar, client: Client, org: Org
) -> None:
    # docs/security.md case 21 and guarantee 2: whole, partial and reordered replays.
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    batch = [worker.put("note", new_id(), case_id, {"text": f"Notiz {i}", "visit_id": None}) for i in range(5)] + [
        worker.put("case", case_id, case_id, {"risk": "low"}, base=worker.records[case_id]["version"])
    ]
    first = await worker.push(*batch)
    assert [r["status"] for r in first] == ["applied"] * 6
    await worker.pull()
    snapshot = {k: v["version"] for k, v in worker.records.items()}
    again = await worker.push(*batch)
    assert again == first
    partial = batch[2:4]
    random.Random(1).shuffle(partial)
    assert await worker.push(*partial) == sorted(first[2:4], key=lambda r: r["mid"])
    changes = await worker.pull()
    assert changes == []
    assert {k: v["version"] for k, v in worker.records.items()} == snapshot


async def test_an_unseen_mid_at_or_below_last_mid_is_stale(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    worker.mid = 10
    await worker.push(worker.put("note", new_id(), case_id, {"text": "a", "visit_id": None}))
    worker.mid = 4  # a gap below last_mid that the server never saw
    [result] = await worker.push(worker.put("note", new_id(), case_id, {"text": "b", "visit_id": None}))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "stale-mid"


async def test_a_batch_of_501_is_413_batch_too_large(client: Client) -> None:
    worker = Device(client, await login(client, "worker1"))
    case_id = new_id()
    mutations = [worker.put("note", new_id(), case_id, {"text": "x", "visit_id": None}) for _ in range(501)]
    response = await worker.push_raw(mutations)
    assert response.status_code == 413
    assert response.json()["type"] == PROBLEM_BASE + "batch-too-large"


async def test_a_body_over_4_mib_is_413_batch_too_large(client: Client) -> None:
    worker = Device(client, await login(client, "worker1"))
    case_id = new_id()
    mutations = [worker.put("note", new_id(), case_id, {"text": "x" * 19_000, "visit_id": None}) for _ in range(230)]
    response = await worker.push_raw(mutations)
    assert response.status_code == 413
    assert response.json()["type"] == PROBLEM_BASE + "batch-too-large"


@pytest.mark.parametrize("kind", ["forged", "foreign", "malformed"])
async def test_a_bad_cursor_is_a_400(app: Litestar, client: Client, org: Org, kind: str) -> None:
    # docs/security.md case 22
    await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    assert worker.cursor is not None
    if kind == "forged":
        body, mac = worker.cursor.split(".")
        cursor = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
    elif kind == "foreign":
        async with client_from(app) as other:
            other_device = Device(other, await login(other, "worker2"))
            await other_device.pull()
            cursor = str(other_device.cursor)
    else:
        cursor = "not-a-cursor"
    response = await client.get("/api/sync/pull", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["type"] == PROBLEM_BASE + "validation"
    assert response.json()["field"] == "cursor"


async def test_concurrent_edits_of_one_field_make_a_conflict_with_both_values(
    app: Litestar, client: Client, org: Org
) -> None:
    # Guarantee 5: the first to commit wins, the other value is kept in a conflict; resolving updates both.
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    a = Device(client, await login(client, "worker1"))
    async with client_from(app) as other:
        b = Device(other, await login(other, "worker1"))
        await a.pull()
        await b.pull()
        base = a.records[case_id]["version"]
        [first] = await a.push(a.put("case", case_id, case_id, {"risk": "acute", "title": "Neu A"}, base=base))
        assert first["status"] == "applied"
        [second] = await b.push(b.put("case", case_id, case_id, {"risk": "low", "phase": "court"}, base=base))
        assert second["status"] == "conflict"
        await a.pull()
        await b.pull()
        case = a.records[case_id]["fields"]
        assert (case["risk"], case["title"], case["phase"]) == ("acute", "Neu A", "court")
        conflict = a.records[second["conflict_id"]]["fields"]
        assert conflict["field"] == "risk"
        assert (conflict["server_value"], conflict["client_value"]) == ("acute", "low")
        assert conflict["status"] == "open"
        [resolved] = await b.push(b.resolve(second["conflict_id"], "high"))
        assert resolved["status"] == "applied"
        await a.pull()
        await b.pull()
        assert a.records[case_id]["fields"]["risk"] == b.records[case_id]["fields"]["risk"] == "high"
        assert a.records[second["conflict_id"]]["fields"]["status"] == "resolved"
        assert a.records == b.records


async def test_notes_are_append_only_and_never_conflict(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    note_id = new_id()
    await worker.push(worker.put("note", note_id, case_id, {"text": "Original", "visit_id": None}))
    await worker.pull()
    [changed] = await worker.push(
        worker.put("note", note_id, case_id, {"text": "Geändert"}, base=worker.records[note_id]["version"])
    )
    assert changed["status"] == "rejected"
    assert changed["error"] == {"code": "append-only", "detail": changed["error"]["detail"], "field": "text"}
    [correction] = await worker.push(
        worker.put("note", new_id(), case_id, {"text": "Korrektur", "visit_id": None, "corrects_note_id": note_id})
    )
    assert correction["status"] == "applied"


async def test_a_deleted_notes_text_cannot_be_rewritten_through_a_conflict(
    app: Litestar, client: Client, org: Org
) -> None:
    # docs/security.md case 34: delete, put new text with the old base, resolve "keep" must not rewrite a note.
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    note_id, visit_id = new_id(), new_id()
    await worker.push(worker.put("note", note_id, case_id, {"text": "Original", "visit_id": None}))
    await worker.pull()
    base = worker.records[note_id]["version"]
    await worker.push(worker.delete("note", note_id, case_id, base=base))
    [rewritten] = await worker.push(worker.put("note", note_id, case_id, {"text": "REWRITTEN"}, base=base))
    assert rewritten["status"] == "rejected"
    assert rewritten["error"]["code"] == "append-only"
    assert rewritten["error"]["field"] == "text"
    # A note is append-only as a whole (docs/sync-protocol.md, issue of notes conflicting on visit_id).
    [moved] = await worker.push(worker.put("note", note_id, case_id, {"visit_id": visit_id}, base=base))
    assert moved["status"] == "rejected"
    assert moved["error"]["field"] == "visit_id"


async def test_edit_versus_delete_is_a_conflict_resolved_with_keep(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    a = Device(client, await login(client, "worker1"))
    action_id = new_id()
    await a.push(a.put("action", action_id, case_id, {"title": "Antrag stellen", "due_on": "2026-12-01"}))
    await a.pull()
    base = a.records[action_id]["version"]
    [deleted] = await a.push(a.delete("action", action_id, case_id, base))
    assert deleted["status"] == "applied"
    [edit] = await a.push(a.put("action", action_id, case_id, {"title": "Antrag heute stellen"}, base=base))
    assert edit["status"] == "conflict"
    await a.pull()
    assert action_id not in a.records  # stays deleted until a person decides
    assert a.records[edit["conflict_id"]]["fields"]["field"] is None
    [kept] = await a.push(a.resolve(edit["conflict_id"], "keep"))
    assert kept["status"] == "applied"
    await a.pull()
    assert a.records[action_id]["fields"]["title"] == "Antrag heute stellen"


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        (
            "installment_agreement",
            {"creditor": "landlord", "total_cents": 100000, "monthly_rate_cents": -5, "start_on": "2026-12-01"},
            "monthly_rate_cents",
        ),
        ("benefit_application", {"kind": "wohngeld", "submitted_on": "2026-11-01", "decided_on": "2026-10-01"}, None),
        (
            "referral",
            {"service": "Schuldnerberatung", "consent_id": "00000000-0000-4000-8000-000000000000"},
            "consent_id",
        ),
        ("visit", {"status": "planned", "planned_at": "2026-12-01T09:00:00"}, "planned_at"),
        ("contact", {"channel": "pigeon", "at": "2026-12-01T09:00:00Z"}, "channel"),
        ("note", {"text": "ohne visit_id"}, "visit_id"),
    ],
    ids=[
        "negative-rate",
        "decision-before-submission",
        "referral-without-consent",
        "naive-time",
        "bad-channel",
        "note-missing-field",
    ],
)
async def test_bad_values_are_rejected_per_mutation_with_the_field(
    app: Litestar, client: Client, org: Org, kind: str, fields: dict[str, object], field: str | None
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    good = worker.put("note", new_id(), case_id, {"text": "gültig", "visit_id": None})
    bad = worker.put(kind, new_id(), case_id, fields)
    after = worker.put("note", new_id(), case_id, {"text": "auch gültig", "visit_id": None})
    response = await worker.push_raw([good, bad, after])
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "applied"]
    assert body["results"][1]["error"]["code"] == "validation"
    if field:
        assert body["results"][1]["error"]["field"] == field
    assert body["last_mid"] == after["mid"]


async def test_bootstrap_pages_through_every_record_exactly_once(app: Litestar, client: Client, org: Org) -> None:
    case_ids = [(await supervisor_creates_case(app, org, org.worker1_id))[0] for _ in range(3)]
    worker = Device(client, await login(client, "worker1"))
    notes = [worker.put("note", new_id(), case_ids[i % 3], {"text": f"n{i}", "visit_id": None}) for i in range(40)]
    await worker.push(*notes)
    fresh = Device(client, {"device_id": worker.device_id, "user": {"id": worker.user_id}})
    seen = await fresh.pull(limit=7)
    ids = [c["id"] for c in seen]
    assert len(ids) == len(set(ids)) == 43
    assert set(fresh.records) == {n["id"] for n in notes} | set(case_ids)


async def test_a_supervisor_creates_cases_only_for_their_own_team(client: Client, org: Org) -> None:
    supervisor = Device(client, await login(client, "supervisor"))
    case_id = new_id()
    fields = case_fields(org, org.worker1_id) | {"team_id": str(org.other_team_id)}
    [result] = await supervisor.push(supervisor.put("case", case_id, case_id, fields))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "forbidden"
    worker = Device(client, await login(client, "worker1"))
    other = new_id()
    # A worker takes on cases only for themselves (tests/api/test_working_day.py has the rest of intake).
    [by_worker] = await worker.push(worker.put("case", other, other, case_fields(org, org.worker2_id)))
    assert by_worker["status"] == "rejected"
    assert by_worker["error"]["code"] == "forbidden"
    assert uuid.UUID(other)


async def test_the_supervisor_lists_open_conflicts_and_resolves_one_from_the_office(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    async with client_from(app) as c1, client_from(app) as c2:
        a = Device(c1, await login(c1, "worker1"))
        b = Device(c2, await login(c2, "worker1"))
        await a.pull()
        await b.pull()
        base = a.records[case_id]["version"]
        await a.push(a.put("case", case_id, case_id, {"title": "Titel A"}, base=base))
        [conflict] = await b.push(b.put("case", case_id, case_id, {"title": "Titel B"}, base=base))
        assert conflict["status"] == "conflict"
        outsider = Device(c2, await login(c2, "supervisor2"))
        assert (await outsider.client.get("/api/conflicts")).json() == []
    await login(client, "supervisor")
    listing = (await client.get("/api/conflicts")).json()
    assert [(c["id"], c["field"], c["server_value"], c["client_value"]) for c in listing] == [
        (conflict["conflict_id"], "title", "Titel A", "Titel B")
    ]
    bad = await client.post(f"/api/conflicts/{conflict['conflict_id']}/resolve", json={"value": ""})
    assert bad.status_code == 400
    assert bad.json()["field"] == "title"
    resolved = await client.post(f"/api/conflicts/{conflict['conflict_id']}/resolve", json={"value": "Titel B"})
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "applied"
    assert (await client.get("/api/conflicts")).json() == []
    assert [c["resolution"] for c in (await client.get("/api/conflicts", params={"status": "resolved"})).json()] == [
        "Titel B"
    ]
    detail = (await client.get(f"/api/cases/{case_id}")).json()
    assert detail["case"]["fields"]["title"] == "Titel B"
    missing = await client.post(f"/api/conflicts/{uuid.uuid4()}/resolve", json={"value": "x"})
    assert missing.status_code == 404


async def test_pull_asks_an_old_client_to_update_and_refuses_an_unknown_protocol(client: Client, org: Org) -> None:
    await login(client, "worker1")
    old = await client.get("/api/sync/pull", params={"protocol": 0})
    assert old.status_code == 426
    assert old.headers["content-type"].startswith("application/problem+json")
    assert old.json()["type"] == f"{PROBLEM_BASE}upgrade-required"
    assert old.json()["min_protocol"] == 1
    unknown = await client.get("/api/sync/pull", params={"protocol": 2})
    assert unknown.status_code == 400
    assert unknown.json()["type"] == f"{PROBLEM_BASE}validation"
    assert unknown.json()["field"] == "protocol"
    assert (await client.get("/api/sync/pull", params={"protocol": 1})).status_code == 200


async def test_an_unknown_op_is_rejected_on_its_own_and_the_rest_of_the_batch_applies(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    # docs/sync-protocol.md "Push details": one place, one rule.
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    device = await worker_device(client)
    note = device.put("note", new_id(), case_id, {"text": "Erstgespräch", "visit_id": None})
    future = {"op": "archive", "mid": note["mid"] + 1, "kind": "note", "id": new_id(), "case_id": case_id}
    response = await device.push_raw([note, future])
    assert response.status_code == 200, response.text
    applied, refused = response.json()["results"]
    assert applied["status"] == "applied"
    assert (refused["status"], refused["error"]["code"], refused["error"]["field"]) == ("rejected", "validation", "op")
    without_mid = {"op": "archive", "kind": "note", "id": new_id(), "case_id": case_id}
    assert (await device.push_raw([without_mid])).status_code == 400
