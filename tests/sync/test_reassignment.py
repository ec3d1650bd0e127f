"""Rule 7: offline work survives a reassignment, is flagged, and can never move the case."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update

from server.cli import main as cli_main
from server.db import create_engine, session_factory
from server.records.models import ScopeEvent
from server.settings import Settings
from tests.support import clock as pinned
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")


@asynccontextmanager
async def back_in_office(app: Litestar, supervisor: Device) -> AsyncIterator[Device]:
    """The supervisor's device on a fresh connection (the one that made the case is closed)."""
    async with client_from(app) as c:
        supervisor.client = c
        await login(c, "supervisor", device_id=supervisor.device_id)
        yield supervisor


async def reassign(app: Litestar, supervisor: Device, case_id: str, worker_id: str) -> None:
    async with client_from(app) as c:
        supervisor.client = c
        await login(c, "supervisor", device_id=supervisor.device_id)
        await supervisor.pull()
        [result] = await supervisor.push(
            supervisor.put(
                "case", case_id, case_id, {"assigned_worker_id": worker_id}, base=supervisor.records[case_id]["version"]
            )
        )
        assert result["status"] == "applied", result


async def test_a_note_written_offline_after_reassignment_is_accepted_flagged_and_handed_over(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    case_id, supervisor = await supervisor_creates_case(app, org, org.worker1_id)
    old = Device(client, await login(client, "worker1"))
    await old.pull()
    await reassign(app, supervisor, case_id, str(org.worker2_id))

    # The old worker was offline: their note, contact and visit still reach the case.
    note_id, contact_id = new_id(), new_id()
    results = await old.push(
        old.put("note", note_id, case_id, {"text": "Mieterin angetroffen, Unterlagen erhalten", "visit_id": None}),
        old.put("contact", contact_id, case_id, {"channel": "home_visit", "at": "2026-11-20T10:00:00Z"}),
        old.put(
            "case", case_id, case_id, {"assigned_worker_id": str(org.worker1_id)}, base=old.records[case_id]["version"]
        ),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    assert results[0]["flag"] == results[1]["flag"] == "accepted-after-reassignment"
    assert results[2]["error"]["code"] == "forbidden"
    assert results[2]["error"]["field"] == "assigned_worker_id"

    await old.pull()
    assert old.purged == [case_id]
    assert old.records == {}

    async with client_from(app) as c:
        new = Device(c, await login(c, "worker2"))
        await new.pull()
        assert new.records[case_id]["fields"]["assigned_worker_id"] == str(org.worker2_id)
        assert new.records[note_id]["fields"]["text"].startswith("Mieterin")
        assert new.records[note_id]["flag"] == "accepted-after-reassignment"
        assert new.records[contact_id]["flag"] == "accepted-after-reassignment"
        detail = (await c.get(f"/api/cases/{case_id}")).json()
        flagged = {r["id"] for r in detail["records"] if r["flag"] == "accepted-after-reassignment"}
        assert flagged == {note_id, contact_id}


async def test_work_for_a_case_reassigned_more_than_30_days_ago_is_refused(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    case_id, supervisor = await supervisor_creates_case(app, org, org.worker1_id)
    old = Device(client, await login(client, "worker1"))
    await old.pull()
    await reassign(app, supervisor, case_id, str(org.worker2_id))
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        await db.execute(update(ScopeEvent).values(at=pinned.now() - dt.timedelta(days=31)))
        await db.commit()
    await engine.dispose()
    [result] = await old.push(old.put("note", new_id(), case_id, {"text": "zu spät", "visit_id": None}))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "not-found"


async def test_without_a_cursor_from_before_the_reassignment_nothing_is_accepted(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    case_id, supervisor = await supervisor_creates_case(app, org, org.worker1_id)
    await reassign(app, supervisor, case_id, str(org.worker2_id))
    stranger = Device(client, await login(client, "worker1"))
    await stranger.pull()  # the cursor is after the reassignment: the case was never in scope at it
    [result] = await stranger.push(stranger.put("note", new_id(), case_id, {"text": "x", "visit_id": None}))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "not-found"


async def test_during_the_grace_only_work_done_at_the_door_is_accepted_and_nothing_brings_the_case_back(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    # docs/security.md case 25: a worker whose case was moved away, pushing with an old cursor.
    case_id, supervisor = await supervisor_creates_case(app, org, org.worker1_id)
    household, visit = new_id(), new_id()
    async with back_in_office(app, supervisor):
        made = await supervisor.push(
            supervisor.put("household", household, case_id, {"name": "Haushalt Beispiel"}),
            supervisor.put(
                "visit",
                visit,
                case_id,
                {"planned_at": "2026-11-25T10:00:00+01:00", "status": "planned", "assigned_worker_id": None},
            ),
        )
        assert [r["status"] for r in made] == ["applied", "applied"]
    old = Device(client, await login(client, "worker1"))
    await old.pull()
    await reassign(app, supervisor, case_id, str(org.worker2_id))
    conflict_free_base = old.records[visit]["version"]

    refused = await old.push(
        old.delete("household", household, case_id, base=old.records[household]["version"]),
        old.put(
            "visit",
            new_id(),
            case_id,
            {"planned_at": "2027-01-10T10:00:00+01:00", "status": "planned", "assigned_worker_id": str(org.worker1_id)},
        ),
        old.put(
            "visit",
            visit,
            case_id,
            {"status": "planned", "planned_at": "2027-01-11T10:00:00+01:00"},
            base=conflict_free_base,
        ),
        old.put("household", household, case_id, {"phone": "0170 000000"}, base=old.records[household]["version"]),
        old.put(
            "action", new_id(), case_id, {"title": "Wohngeld beantragen", "due_on": "2026-12-01", "status": "open"}
        ),
        old.resolve(new_id(), "keep"),
    )
    assert [r["status"] for r in refused] == ["rejected"] * 5 + ["rejected"]
    assert [r["error"]["code"] for r in refused[:5]] == ["forbidden"] * 5
    assert refused[1]["error"]["field"] == "assigned_worker_id"
    assert refused[2]["error"]["field"] == "planned_at"

    accepted = await old.push(
        old.put("note", new_id(), case_id, {"text": "An der Tür gesprochen", "visit_id": visit}),
        old.put("contact", new_id(), case_id, {"channel": "home_visit", "at": "2026-11-25T10:05:00+01:00"}),
        old.put(
            "visit",
            visit,
            case_id,
            {"status": "done", "visited_at": "2026-11-25T10:00:00+01:00"},
            base=conflict_free_base,
        ),
        old.put("assessment", new_id(), case_id, {"form_version": 1, "energy": {"arrears_cents": 12000}}),
    )
    assert [r["status"] for r in accepted] == ["applied"] * 4
    assert {r["flag"] for r in accepted} == {"accepted-after-reassignment"}

    # The case stays out of the old worker's reach: no read, and the next pull only purges it.
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 404
    await old.pull()
    assert case_id in old.purged
    assert old.records == {}
    async with back_in_office(app, supervisor):
        await supervisor.pull()
    assert household in supervisor.records
    assert not supervisor.records[household]["deleted"]
    assert supervisor.records[household]["fields"]["phone"] == ""


async def test_a_conflict_cannot_be_resolved_during_the_grace(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    case_id, supervisor = await supervisor_creates_case(app, org, org.worker1_id)
    old = Device(client, await login(client, "worker1"))
    await old.pull()
    base = old.records[case_id]["version"]
    async with back_in_office(app, supervisor):
        await supervisor.push(supervisor.put("case", case_id, case_id, {"risk": "acute"}, base=base))
    [conflict] = await old.push(old.put("case", case_id, case_id, {"risk": "low"}, base=base))
    assert conflict["status"] == "conflict"
    await old.pull()
    await reassign(app, supervisor, case_id, str(org.worker2_id))
    [result] = await old.push(old.resolve(conflict["conflict_id"], "low"))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "forbidden"


async def test_work_on_an_erased_case_is_not_found_whatever_the_grace(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An erased (or deleted) case is gone for everybody: work on its own record, or any other, from a tablet whose
    cursor predates the erasure is answered ``not-found``, so that the tablet stops waiting and says so, never
    ``forbidden`` as if the case had gone to a colleague."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    base = worker.records[case_id]["version"]
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    assert await anyio.to_thread.run_sync(lambda: cli_main(["erase-case", case_id])) == 0
    results = await worker.push(
        worker.put("case", case_id, case_id, {"risk": "low"}, base=base),
        worker.put("note", new_id(), case_id, {"text": "An der Tür geschrieben", "visit_id": None}),
    )
    assert [(r["status"], r["error"]["code"]) for r in results] == [("rejected", "not-found")] * 2


async def test_a_court_letter_recorded_at_the_door_after_an_unnoticed_handover_reaches_the_new_worker(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    """The tenant shows the old worker the lawsuit at the door, offline, after the case went to a colleague: the legal
    event (and its deadlines) and the letter's photo are work done at the door, accepted and flagged, never lost."""
    case_id, supervisor = await supervisor_creates_case(app, org, org.worker1_id)
    old = Device(client, await login(client, "worker1"))
    await old.pull()
    await reassign(app, supervisor, case_id, str(org.worker2_id))
    event_id, photo_id = new_id(), new_id()
    lawsuit = {"type": "eviction_lawsuit", "served_on": pinned.day(-2)}
    photo = {"title": "Räumungsklage", "content_type": "image/jpeg", "size": 1000, "sha256": "ab" * 32}
    results = await old.push(
        old.put("legal_event", event_id, case_id, lawsuit),
        old.put("attachment", photo_id, case_id, {**photo, "parent_kind": "legal_event", "parent_id": event_id}),
    )
    assert [(r["status"], r.get("flag")) for r in results] == [("applied", "accepted-after-reassignment")] * 2
    async with client_from(app) as c:
        await login(c, "worker2")
        detail = (await c.get(f"/api/cases/{case_id}")).json()
        assert {d["rule"] for d in detail["deadlines"]} >= {"de.verteidigungsanzeige"}
        assert {r["id"] for r in detail["records"] if r["flag"] == "accepted-after-reassignment"} == {
            event_id,
            photo_id,
        }


async def test_the_old_tablet_finishes_sending_a_photo_whose_record_went_before_the_handover(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    """The record of a photo reached the server, its bytes had not when the case was handed over: the old tablet may
    still send them (rule 7), so the new worker is not left with a document that never downloads."""
    case_id, supervisor = await supervisor_creates_case(app, org, org.worker1_id)
    old = Device(client, await login(client, "worker1"))
    await old.pull()
    content = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    digest = hashlib.sha256(content).hexdigest()
    photo_id = new_id()
    described = {"title": "Mahnung", "content_type": "image/jpeg", "size": len(content), "sha256": digest}
    (made,) = await old.push(old.put("attachment", photo_id, case_id, described))
    assert made["status"] == "applied"
    await reassign(app, supervisor, case_id, str(org.worker2_id))
    declaration = {"case_id": case_id, "size": len(content), "sha256": digest, "content_type": "image/jpeg"}
    opened = await client.post(f"/api/attachments/{photo_id}/upload", json=declaration)
    assert opened.status_code == 201, opened.text
    sent = await client.patch(
        f"/api/attachments/{photo_id}/upload",
        content=content,
        headers={"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
    )
    assert sent.status_code == 200, sent.text
    assert (await client.get(f"/api/attachments/{photo_id}")).status_code == 404  # reading it is the new worker's
    async with client_from(app) as c:
        await login(c, "worker2")
        download = await c.get(f"/api/attachments/{photo_id}")
        assert download.status_code == 200
        assert download.content == content
