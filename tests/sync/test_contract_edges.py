"""Edges of the sync contract where data could be lost or left behind (docs/sync-protocol.md: the merge rule, pull,
conflicts of deleted records, work for a deleted case). Each test describes what a device would have seen go wrong;
they run over HTTP on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from litestar import Litestar

from server.db import create_engine, session_factory
from server.records import clock
from server.settings import Settings
from tests.support import clock as pinned
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")
Client = httpx.AsyncClient


@asynccontextmanager
async def device(app: Litestar, username: str, device_id: str | None = None) -> AsyncIterator[Device]:
    """A device of ``username`` on its own connection."""
    async with client_from(app) as client:
        yield Device(client, await login(client, username, device_id=device_id))


async def test_a_record_deleted_while_its_case_was_away_does_not_survive_the_return(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    note = new_id()
    await worker.push(worker.put("note", note, case_id, {"text": "Erstbesuch", "visit_id": None}))
    await worker.pull()
    assert note in worker.records
    async with device(app, "supervisor") as boss:
        await boss.pull()
        await boss.push(boss.delete("note", note, case_id, base=boss.records[note]["version"]))
        for worker_id in (org.worker2_id, org.worker1_id):  # away and back, between two pulls of the tablet
            await boss.pull()
            version = boss.records[case_id]["version"]
            await boss.push(boss.put("case", case_id, case_id, {"assigned_worker_id": str(worker_id)}, base=version))
    await worker.pull()
    assert case_id in worker.records
    assert note not in worker.records


async def test_a_cursor_part_way_through_the_horizons_seq_is_expired(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker2_id)
    async with device(app, "worker2") as other:
        await other.push(*(other.put("note", new_id(), case_id, {"text": f"n{i}", "visit_id": None}) for i in range(3)))
    async with device(app, "supervisor") as boss:
        await boss.pull()
        version = boss.records[case_id]["version"]
        await boss.push(boss.put("case", case_id, case_id, {"assigned_worker_id": str(org.worker1_id)}, base=version))
    await login(client, "worker1")
    first = await client.get("/api/sync/pull", params={"limit": 1})  # the case entered: all its records at one seq
    assert first.json()["has_more"]
    entered = max(change["version"] for change in (await client.get("/api/sync/pull")).json()["changes"])
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        await clock.lock(db, org.organisation_id)
        await clock.raise_horizon(
            db, org.organisation_id, entered
        )  # compaction removed a tombstone written at that very seq
        await db.commit()
    await engine.dispose()
    resumed = await client.get("/api/sync/pull", params={"cursor": first.json()["cursor"]})
    assert resumed.status_code == 410
    assert resumed.json()["type"].endswith("/cursor-expired")


async def test_a_concurrent_edit_that_breaks_a_rule_only_when_merged_is_a_conflict(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    a = Device(client, await login(client, "worker1"))
    agreement = new_id()
    fields = {"creditor": "landlord", "total_cents": 100000, "monthly_rate_cents": 10000, "start_on": "2026-12-01"}
    await a.push(a.put("installment_agreement", agreement, case_id, fields))
    await a.pull()
    base = a.records[agreement]["version"]
    async with device(app, "worker1") as b:
        await b.pull()
        assert (await a.push(a.put("installment_agreement", agreement, case_id, {"total_cents": 20000}, base=base)))[0][
            "status"
        ] == "applied"
        [result] = await b.push(
            b.put(
                "installment_agreement",
                agreement,
                case_id,
                {"total_cents": 500000, "monthly_rate_cents": 300000},
                base=base,
            )
        )
        assert result["status"] == "conflict"
        await b.pull()
        kept = {
            r["fields"]["field"]: r["fields"]["client_value"]
            for r in b.records.values()
            if r["kind"] == "conflict" and r["fields"]["record_id"] == agreement
        }
        assert kept == {"total_cents": 500000, "monthly_rate_cents": 300000}  # B's values are kept for a person
        assert b.records[agreement]["fields"]["total_cents"] == 20000
        assert b.records[agreement]["fields"]["monthly_rate_cents"] == 10000


async def test_a_document_can_be_unticked(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    assessment = new_id()
    await worker.push(worker.put("assessment", assessment, case_id, {"form_version": 1, "documents": ["id", "lease"]}))
    await worker.pull()
    base = worker.records[assessment]["version"]
    [result] = await worker.push(worker.put("assessment", assessment, case_id, {"documents": ["id"]}, base=base))
    assert result["status"] == "applied"
    await worker.pull()
    assert worker.records[assessment]["fields"]["documents"] == ["id"]


async def action_conflict(app: Litestar, client: Client, org: Org) -> tuple[str, str, Device, Device, str]:
    """Two devices of worker1 change an action's title concurrently: (case, action, a, b, conflict id)."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    a = Device(client, await login(client, "worker1"))
    action = new_id()
    await a.push(a.put("action", action, case_id, {"title": "Wohngeld beantragen", "due_on": "2026-12-15"}))
    await a.pull()
    base = a.records[action]["version"]
    b_client = client_from(app)
    b = Device(b_client, await login(b_client, "worker1"))
    await b.pull()
    await a.push(a.put("action", action, case_id, {"title": "Wohngeld bis Freitag beantragen"}, base=base))
    [result] = await b.push(b.put("action", action, case_id, {"title": "Wohngeld mit Frau K. beantragen"}, base=base))
    assert result["status"] == "conflict"
    return case_id, action, a, b, str(result["conflict_id"])


async def test_a_conflict_is_closed_when_its_record_is_deleted(app: Litestar, client: Client, org: Org) -> None:
    case_id, action, a, b, conflict_id = await action_conflict(app, client, org)
    await a.pull()
    await a.push(a.delete("action", action, case_id, base=a.records[action]["version"]))
    await b.pull()
    assert b.records[conflict_id]["fields"]["status"] == "obsolete"
    assert (await client.get("/api/conflicts")).json() == []
    [again] = await b.push(b.resolve(conflict_id, "x"))
    assert again["status"] == "rejected"
    await b.client.aclose()


async def test_a_resolve_of_an_old_conflict_does_not_overwrite_a_newer_edit(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, action, a, b, conflict_id = await action_conflict(app, client, org)
    await a.pull()
    newest = "Wohngeld heute beantragen"
    await a.push(a.put("action", action, case_id, {"title": newest}, base=a.records[action]["version"]))
    [stale] = await b.push(b.resolve(conflict_id, "Wohngeld mit Frau K. beantragen"))
    assert stale["status"] == "rejected"
    assert stale["error"]["code"] == "stale"
    await b.pull()
    assert b.records[action]["fields"]["title"] == newest
    assert b.records[conflict_id]["fields"]["server_value"] == newest  # refreshed: decide again with what is there
    assert b.records[conflict_id]["fields"]["status"] == "open"
    [decided] = await b.push(b.resolve(conflict_id, "Wohngeld mit Frau K. beantragen"))
    assert decided["status"] == "applied"
    await b.client.aclose()


async def test_work_for_a_deleted_case_is_refused_not_acknowledged_and_lost(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    action = new_id()
    await worker.push(worker.put("action", action, case_id, {"title": "Anrufen", "due_on": "2026-12-15"}))
    await worker.pull()
    async with device(app, "supervisor") as boss:
        await boss.pull()
        await boss.push(boss.delete("case", case_id, case_id, base=boss.records[case_id]["version"]))
    results = await worker.push(
        worker.put("action", action, case_id, {"title": "Anrufen, dringend"}, base=worker.records[action]["version"]),
        worker.put("note", new_id(), case_id, {"text": "Mieter erreicht", "visit_id": None}),
    )
    assert [(r["status"], r["error"]["code"]) for r in results] == [("rejected", "not-found")] * 2


async def test_the_same_moment_written_with_another_offset_is_no_conflict(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    a = Device(client, await login(client, "worker1"))
    visit = new_id()
    await a.push(a.put("visit", visit, case_id, {"planned_at": "2026-11-20T10:00:00+01:00", "status": "planned"}))
    await a.pull()
    base = a.records[visit]["version"]
    async with device(app, "worker1") as b:
        await b.pull()
        await a.push(
            a.put("visit", visit, case_id, {"status": "done", "visited_at": "2026-11-20T10:12:00Z"}, base=base)
        )
        [same] = await b.push(
            b.put("visit", visit, case_id, {"status": "done", "visited_at": "2026-11-20T11:12:00+01:00"}, base=base)
        )
    assert same["status"] == "applied"


async def test_a_worker_sending_back_the_assignee_they_pulled_keeps_the_rest_of_the_put(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    visit = new_id()
    planned = {
        "planned_at": "2026-12-02T10:00:00+01:00",
        "status": "planned",
        "assigned_worker_id": str(org.worker1_id),
    }
    await worker.push(worker.put("visit", visit, case_id, planned))
    await worker.pull()
    base = worker.records[visit]["version"]
    async with device(app, "supervisor") as boss:
        await boss.pull()
        version = boss.records[visit]["version"]
        await boss.push(boss.put("visit", visit, case_id, {"assigned_worker_id": str(org.worker2_id)}, base=version))
    [result] = await worker.push(
        worker.put(
            "visit", visit, case_id, {"assigned_worker_id": str(org.worker1_id), "purpose": "Unterlagen"}, base=base
        )
    )
    assert result["status"] == "applied"
    async with device(app, "supervisor") as boss:
        await boss.pull()
        assert boss.records[visit]["fields"]["purpose"] == "Unterlagen"
        assert boss.records[visit]["fields"]["assigned_worker_id"] == str(org.worker2_id)


async def test_malformed_mutations_are_rejected_one_by_one(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    good = worker.put("note", new_id(), case_id, {"text": "gut", "visit_id": None})
    negative = {**worker.put("note", new_id(), case_id, {"text": "x", "visit_id": None}), "base_version": -1}
    long_kind = {**worker.put("note", new_id(), case_id, {"text": "x", "visit_id": None}), "kind": "n" * 40}
    not_uuid = {**worker.put("note", new_id(), case_id, {"text": "x", "visit_id": None}), "id": "kein-uuid"}
    results = await worker.push(good, negative, long_kind, not_uuid)
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "rejected"]
    assert [r["error"]["field"] for r in results[1:]] == ["base_version", "kind", "id"]
    assert all(r["error"]["code"] == "validation" for r in results[1:])
    no_mid = await worker.push_raw([{"op": "put", "kind": "note"}])
    assert no_mid.status_code == 400  # a mutation without a mid cannot be answered on its own


async def test_a_visit_made_in_the_future_is_refused(app: Litestar, client: Client, org: Org) -> None:
    # A tablet whose clock runs three days ahead: the visit's outcome is refused with the field, and nothing lands.
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    ahead = (pinned.now() + dt.timedelta(days=3)).isoformat()
    results = await worker.push(
        worker.put("visit", new_id(), case_id, {"planned_at": ahead, "status": "done", "visited_at": ahead}),
        worker.put("contact", new_id(), case_id, {"channel": "phone", "at": ahead}),
        worker.put("visit", new_id(), case_id, {"planned_at": ahead, "status": "planned"}),  # planning ahead is fine
    )
    assert [(r["status"], (r.get("error") or {}).get("field")) for r in results] == [
        ("rejected", "visited_at"),
        ("rejected", "at"),
        ("applied", None),
    ]
    assert "date and time set on the tablet" in results[0]["error"]["detail"]


async def test_a_workers_second_edit_continues_the_first_instead_of_conflicting_with_it(
    app: Litestar, client: Client, org: Org
) -> None:
    # Two puts of one record from the same pulled copy, the second naming only fields of the first: in one batch,
    # and again after a lost answer (the first is replayed beside the second).
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    event = new_id()
    await worker.push(worker.put("legal_event", event, case_id, {"type": "court_date", "date": "2026-12-10"}))
    await worker.pull()
    base = worker.records[event]["version"]
    together = await worker.push(
        worker.put("legal_event", event, case_id, {"reference": "A"}, base=base),
        worker.put("legal_event", event, case_id, {"reference": "B"}, base=base),
    )
    assert [r["status"] for r in together] == ["applied", "applied"]
    await worker.pull()
    assert worker.records[event]["fields"]["reference"] == "B"
    base = worker.records[event]["version"]
    first = worker.put("legal_event", event, case_id, {"reference": "C"}, base=base)
    await worker.push(first)  # the answer is lost; the tablet sends it again with the next edit
    again = await worker.push(first, worker.put("legal_event", event, case_id, {"reference": "D"}, base=base))
    assert [r["status"] for r in again] == ["applied", "applied"]
    await worker.pull()
    assert worker.records[event]["fields"]["reference"] == "D"
    assert not [r for r in worker.records.values() if r["kind"] == "conflict"]


async def test_every_page_of_a_long_pull_says_how_many_changes_follow_it(
    app: Litestar, client: Client, org: Org
) -> None:
    """The tablet's progress bar ("312 of 1,200"): each page's ``remaining`` is exactly what the following pages
    bring, for a first sync and for a sync after new work, and the last page says none are left."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.push(*(worker.put("note", new_id(), case_id, {"text": f"n{i}", "visit_id": None}) for i in range(7)))

    async def pages(limit: int) -> list[tuple[int, int, bool]]:
        """(changes, remaining, has_more) of each page until has_more is false."""
        seen = []
        while True:
            params = {"limit": limit} | ({"cursor": worker.cursor} if worker.cursor else {})
            page = (await client.get("/api/sync/pull", params=params)).json()
            worker.cursor = page["cursor"]
            seen.append((len(page["changes"]), page["remaining"], page["has_more"]))
            if not page["has_more"]:
                return seen

    def follow(seen: list[tuple[int, int, bool]]) -> None:
        for index, (_, remaining, _) in enumerate(seen):
            assert remaining == sum(changes for changes, _, _ in seen[index + 1 :]), seen
        assert seen[-1][1:] == (0, False)

    first = await pages(3)  # a first sync: the case and its 7 notes, 3 at a time
    assert sum(changes for changes, _, _ in first) >= 8
    assert len(first) >= 3
    follow(first)
    await worker.push(*(worker.put("note", new_id(), case_id, {"text": f"m{i}", "visit_id": None}) for i in range(5)))
    later = await pages(2)  # the 5 new notes, 2 at a time
    assert [changes for changes, _, _ in later] == [2, 2, 1]
    follow(later)
