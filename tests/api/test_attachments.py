"""Attachment bytes over the upload protocol (docs/sync-protocol.md "Attachments"): resumable and idempotent,
every bad upload refused with a clear problem, scope and audit as for records, nothing partial ever downloadable,
and nothing decryptable left after ``erase-case``."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from typing import Any

import anyio.to_thread
import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from server.app import create_app
from server.audit import AuditEntry
from server.cli import main
from server.db import create_engine, session_factory
from server.jobs.housekeeping import run_housekeeping
from server.records.models import AttachmentChunk, AttachmentUpload, CaseKey
from server.settings import Settings
from tests.support.accounts import Org, login
from tests.support.app import client_from, running
from tests.support.cases import supervisor_creates_case
from tests.support.clock import TestClock
from tests.support.syncing import Device, new_id

Client = httpx.AsyncClient
CHUNK = "application/offset+octet-stream"


def jpeg(size: int) -> bytes:
    """Bytes that start like a JPEG (the server checks the type by the first bytes)."""
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


def declaration(case_id: str, content: bytes, content_type: str = "image/jpeg") -> dict[str, Any]:
    return {
        "case_id": case_id,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content_type": content_type,
    }


def described(content: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Räumungsklage",
        "content_type": "image/jpeg",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        **extra,
    }


async def send(client: Client, attachment_id: str, offset: int, body: bytes) -> httpx.Response:
    return await client.patch(
        f"/api/attachments/{attachment_id}/upload",
        content=body,
        headers={"Content-Type": CHUNK, "Upload-Offset": str(offset)},
    )


async def upload(client: Client, attachment_id: str, case_id: str, content: bytes, chunk: int = 100_000) -> None:
    opened = await client.post(f"/api/attachments/{attachment_id}/upload", json=declaration(case_id, content))
    assert opened.status_code in (200, 201), opened.text
    for offset in range(opened.json()["offset"], len(content), chunk):
        answer = await send(client, attachment_id, offset, content[offset : offset + chunk])
        assert answer.status_code == 200, answer.text


async def worker_case(app: Litestar, client: Client, org: Org) -> tuple[str, Device]:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    return case_id, Device(client, await login(client, "worker1"))


async def test_a_file_uploaded_in_chunks_is_downloaded_whole_by_the_supervisor(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    case_id, worker = await worker_case(app, client, org)
    content, attachment_id = jpeg(250_000), new_id()
    opened = await client.post(f"/api/attachments/{attachment_id}/upload", json=declaration(case_id, content))
    assert opened.status_code == 201
    assert opened.json() | {"chunk_size": 0} == {
        "id": attachment_id,
        "case_id": case_id,
        "size": 250_000,
        "offset": 0,
        "complete": False,
        "chunk_size": 0,
    }
    again = await client.post(f"/api/attachments/{attachment_id}/upload", json=declaration(case_id, content))
    assert again.status_code == 200  # the same declaration, sent again after a lost answer
    first = await send(client, attachment_id, 0, content[:100_000])
    assert first.headers["Upload-Offset"] == "100000"
    # A replayed chunk (its answer was lost) changes nothing and answers where the upload stands.
    replay = await send(client, attachment_id, 0, content[:100_000])
    assert replay.status_code == 200
    assert replay.json()["offset"] == 100_000
    state = await client.get(f"/api/attachments/{attachment_id}/upload")
    assert (state.json()["offset"], state.headers["Upload-Offset"]) == (100_000, "100000")
    await send(client, attachment_id, 100_000, content[100_000:200_000])
    last = await send(client, attachment_id, 200_000, content[200_000:])
    assert last.json()["complete"] is True

    (result,) = await worker.push(worker.put("attachment", attachment_id, case_id, described(content)))
    assert result["status"] == "applied", result

    async with httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url)) as office:
        await login(office, "supervisor")
        download = await office.get(f"/api/attachments/{attachment_id}")
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"] == f'attachment; filename="{attachment_id}.jpg"'
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "no-store"

    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        chunks = (await db.scalars(select(AttachmentChunk).order_by(AttachmentChunk.idx))).all()
        actions = (await db.execute(select(AuditEntry.action, AuditEntry.outcome, AuditEntry.actor_id))).all()
    await engine.dispose()
    assert [c.length for c in chunks] == [100_000, 100_000, 50_000]  # the replay stored nothing
    assert all(content[:64] not in c.blob and content[-64:] not in c.blob for c in chunks)
    assert ("attachment.upload", "ok", org.worker1_id) in actions
    assert ("attachment.read", "ok", org.supervisor_id) in actions


async def test_every_bad_upload_is_refused_with_a_clear_problem(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await worker_case(app, client, org)
    content, attachment_id = jpeg(200_000), new_id()
    url = f"/api/attachments/{attachment_id}/upload"

    too_large = await client.post(url, json={**declaration(case_id, content), "size": 20 * 1024 * 1024 + 1})
    assert (too_large.status_code, too_large.json()["type"].rsplit("/", 1)[1]) == (413, "attachment-too-large")
    html = await client.post(url, json=declaration(case_id, content, "text/html"))
    assert (html.status_code, html.json()["field"]) == (400, "content_type")
    assert (await client.post(url, json={**declaration(case_id, content), "sha256": "x"})).status_code == 400
    assert (await send(client, attachment_id, 0, content[:10])).status_code == 404  # nothing declared yet

    assert (await client.post(url, json=declaration(case_id, content))).status_code == 201
    other = await client.post(url, json=declaration(case_id, jpeg(200_000)))
    assert other.status_code == 409  # another file under the same id

    pdf = await send(client, attachment_id, 0, b"%PDF-1.7\n" + content[9:100_000])
    assert (pdf.status_code, pdf.json()["type"].rsplit("/", 1)[1]) == (415, "attachment-type")
    await send(client, attachment_id, 0, content[:100_000])
    skipped = await send(client, attachment_id, 150_000, content[150_000:])
    assert (skipped.status_code, skipped.json()["type"].rsplit("/", 1)[1]) == (409, "upload-offset")
    assert skipped.headers["Upload-Offset"] == "100000"
    changed_replay = await send(client, attachment_id, 0, jpeg(100_000))
    assert changed_replay.status_code == 409  # not the bytes the server holds at 0
    beyond = await send(client, attachment_id, 100_000, content[100_000:] + b"more")
    assert (beyond.status_code, beyond.json()["type"].rsplit("/", 1)[1]) == (413, "attachment-too-large")
    as_json = await client.patch(url, content=content[100_000:], headers={"Upload-Offset": "100000"})
    assert as_json.status_code == 415
    huge = await send(client, attachment_id, 100_000, b"\0" * (2 * 1024 * 1024 + 1))
    assert huge.status_code == 413

    # The last chunk does not make the declared hash: everything is dropped, and nothing can be downloaded.
    wrong = await send(client, attachment_id, 100_000, bytes(100_000))
    assert (wrong.status_code, wrong.json()["type"].rsplit("/", 1)[1]) == (422, "upload-hash-mismatch")
    assert (await client.get(url)).json()["offset"] == 0
    worker = Device(client, await login(client, "worker1"))
    (result,) = await worker.push(worker.put("attachment", attachment_id, case_id, described(content)))
    assert result["status"] == "applied"
    pending = await client.get(f"/api/attachments/{attachment_id}")
    assert (pending.status_code, pending.json()["type"].rsplit("/", 1)[1]) == (409, "attachment-pending")
    await upload(client, attachment_id, case_id, content)
    assert (await client.get(f"/api/attachments/{attachment_id}")).content == content


async def test_a_record_that_describes_other_bytes_is_never_served(app: Litestar, client: Client, org: Org) -> None:
    case_id, worker = await worker_case(app, client, org)
    content, attachment_id = jpeg(50_000), new_id()
    await upload(client, attachment_id, case_id, content)
    (result,) = await worker.push(worker.put("attachment", attachment_id, case_id, described(jpeg(50_000))))
    assert result["status"] == "applied"
    assert (await client.get(f"/api/attachments/{attachment_id}")).status_code == 409
    # An attachment names a record of its own case, of the kind it says.
    (orphan,) = await worker.push(
        worker.put("attachment", new_id(), case_id, described(content, parent_kind="legal_event", parent_id=new_id()))
    )
    assert (orphan["status"], orphan["error"]["field"]) == ("rejected", "parent_id")


async def test_an_upload_to_a_foreign_case_is_not_found_and_audited(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    case_id, worker = await worker_case(app, client, org)
    content, attachment_id = jpeg(50_000), new_id()
    await upload(client, attachment_id, case_id, content)
    await worker.push(worker.put("attachment", attachment_id, case_id, described(content)))
    async with httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url)) as stranger:
        await login(stranger, "worker3")  # Team Süd
        foreign = await stranger.post(f"/api/attachments/{new_id()}/upload", json=declaration(case_id, content))
        assert (foreign.status_code, foreign.json()["type"].rsplit("/", 1)[1]) == (404, "not-found")
        assert (await stranger.get(f"/api/attachments/{attachment_id}")).status_code == 404
        assert (await stranger.get(f"/api/attachments/{attachment_id}/upload")).status_code == 404
        assert (await send(stranger, attachment_id, 0, content[:100])).status_code == 404
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        denied = (await db.scalars(select(AuditEntry.action).where(AuditEntry.outcome == "denied"))).all()
    await engine.dispose()
    assert sorted(denied) == ["attachment.read", "attachment.upload", "attachment.upload"]


async def test_erase_case_leaves_no_decryptable_chunk(
    app: Litestar, client: Client, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id, worker = await worker_case(app, client, org)
    content, attachment_id = jpeg(150_000), new_id()
    await upload(client, attachment_id, case_id, content)
    await worker.push(worker.put("attachment", attachment_id, case_id, described(content)))
    engine = create_engine(settings.resolved_database_url)

    async def left() -> tuple[int, int, int]:
        async with session_factory(engine)() as db:
            where = uuid.UUID(case_id)
            chunks = await db.scalar(select(func.count()).where(AttachmentChunk.case_id == where))
            uploads = await db.scalar(select(func.count()).where(AttachmentUpload.case_id == where))
            keys = await db.scalar(select(func.count()).where(CaseKey.case_id == where))
        return int(chunks or 0), int(uploads or 0), int(keys or 0)

    assert await left() == (2, 1, 1)
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    assert await anyio.to_thread.run_sync(lambda: main(["erase-case", case_id])) == 0
    assert await left() == (0, 0, 0)
    await engine.dispose()
    assert (await client.get(f"/api/attachments/{attachment_id}")).status_code == 404
    again = await client.post(f"/api/attachments/{new_id()}/upload", json=declaration(case_id, content))
    assert again.status_code == 404


async def test_housekeeping_drops_the_bytes_of_deleted_and_abandoned_uploads(
    app: Litestar, client: Client, org: Org, settings: Settings, clock: TestClock
) -> None:
    case_id, worker = await worker_case(app, client, org)
    kept, deleted, abandoned = new_id(), new_id(), new_id()
    for attachment_id in (kept, deleted):
        content = jpeg(30_000)
        await upload(client, attachment_id, case_id, content)
        await worker.push(worker.put("attachment", attachment_id, case_id, described(content)))
    half = jpeg(30_000)
    await client.post(f"/api/attachments/{abandoned}/upload", json=declaration(case_id, half))
    await send(client, abandoned, 0, half[:10_000])
    await worker.pull()
    (gone,) = await worker.push(worker.delete("attachment", deleted, case_id, worker.records[deleted]["version"]))
    assert gone["status"] == "applied"

    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    today = await run_housekeeping(sessions, settings)
    later = await run_housekeeping(sessions, settings, now=clock.now() + dt.timedelta(days=31))
    horizon = dt.timedelta(days=settings.tombstone_horizon_days + 1)
    last = await run_housekeeping(sessions, settings, now=clock.now() + horizon)
    async with sessions() as db:
        left = set((await db.scalars(select(AttachmentUpload.id))).all())
        chunks = set((await db.scalars(select(AttachmentChunk.attachment_id))).all())
    await engine.dispose()
    # The abandoned upload after 30 days; the deleted one's bytes once its tombstone is past the horizon, when no
    # device can bring it back with "keep" any more.
    assert (today.attachments, later.attachments, last.attachments) == (0, 1, 1)
    assert left == chunks == {uuid.UUID(kept)}
    await login(client, "worker1")  # the session itself was a month old for that second pass
    assert (await client.get(f"/api/attachments/{kept}")).status_code == 200


async def test_a_declaration_that_contradicts_the_attachment_record_is_refused_and_blocks_nothing(
    app: Litestar, client: Client, org: Org
) -> None:
    # docs/security.md case 49
    case_id, worker = await worker_case(app, client, org)
    content = jpeg(50_000)
    attachment_id = new_id()
    (made,) = await worker.push(worker.put("attachment", attachment_id, case_id, described(content)))
    assert made["status"] == "applied"
    async with client_from(app) as office:
        await login(office, "supervisor")  # in scope too: a colleague or another tablet
        for name, value in (("size", 40_000), ("sha256", "0" * 64), ("content_type", "application/pdf")):
            wrong = {**declaration(case_id, content), name: value}
            refused = await office.post(f"/api/attachments/{attachment_id}/upload", json=wrong)
            assert refused.status_code == 409, refused.text
            assert refused.json()["field"] == name
    await upload(client, attachment_id, case_id, content)  # the tablet's true file goes through
    assert (await client.get(f"/api/attachments/{attachment_id}")).content == content


async def test_an_unknown_upload_and_someone_elses_get_the_same_answer(app: Litestar, client: Client, org: Org) -> None:
    # docs/security.md case 50
    case_id, _ = await worker_case(app, client, org)
    theirs = new_id()
    content = jpeg(20_000)
    opened = await client.post(f"/api/attachments/{theirs}/upload", json=declaration(case_id, content))
    assert opened.status_code == 201
    async with client_from(app) as other:
        await login(other, "worker3")  # another team
        unknown = await send(other, new_id(), 0, content)
        foreign = await send(other, theirs, 0, content)
        asked_unknown = await other.get(f"/api/attachments/{new_id()}/upload")
        asked_foreign = await other.get(f"/api/attachments/{theirs}/upload")
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json()
    assert asked_unknown.status_code == asked_foreign.status_code == 404
    assert asked_unknown.json() == asked_foreign.json()


async def test_unfinished_uploads_are_limited_per_device_per_user_and_per_organisation(
    org: Org, settings: Settings, clock: TestClock
) -> None:
    # docs/security.md case 57
    quota = {"uploads_open_per_device": 2, "uploads_open_per_user": 3, "upload_bytes_open_per_organisation": 400_000}
    app = create_app(msgspec.structs.replace(settings, **quota))
    async with running(app), client_from(app) as tablet, client_from(app) as second, client_from(app) as colleague:
        case_id, _ = await worker_case(app, tablet, org)
        files = [jpeg(50_000) for _ in range(6)]
        ids = [new_id() for _ in files]

        async def declare(client: Client, index: int) -> int:
            answer = await client.post(f"/api/attachments/{ids[index]}/upload", json=declaration(case_id, files[index]))
            return answer.status_code

        assert [await declare(tablet, 0), await declare(tablet, 1)] == [201, 201]
        refused = await tablet.post(f"/api/attachments/{ids[2]}/upload", json=declaration(case_id, files[2]))
        assert (refused.status_code, refused.json()["type"].rsplit("/", 1)[-1]) == (429, "rate-limited")
        assert "Retry-After" in refused.headers
        assert await declare(tablet, 0) == 200  # asking again for an open one is no new upload
        await upload(tablet, ids[0], case_id, files[0])  # finished: its place is free again
        assert await declare(tablet, 2) == 201

        await login(second, "worker1")  # the same worker's second device: the user's quota is shared
        assert await declare(second, 3) == 201  # open for worker1: ids 1, 2, 3
        assert await declare(second, 4) == 429

        await login(colleague, "supervisor")  # another user of the organisation: only the bytes are shared
        big = jpeg(300_000)
        too_much = await colleague.post(f"/api/attachments/{new_id()}/upload", json=declaration(case_id, big))
        assert too_much.status_code == 429  # 150,000 declared and unfinished + 300,000 > 400,000
        assert await declare(colleague, 4) == 201

        # A day on, the half-sent files no longer count against the worker (their bytes still do, until housekeeping).
        clock.travel(clock.now() + dt.timedelta(days=1, seconds=1))
        await login(second, "worker1")  # the session of the day before has ended
        assert await declare(second, 5) == 201


async def test_every_fact_of_a_signature_is_append_only(
    app: Litestar, client: Client, org: Org, clock: TestClock
) -> None:
    # Who signed, in which role and when cannot be changed after signing; the title and notes can.
    case_id, worker = await worker_case(app, client, org)
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(2_000)
    signature_id = new_id()
    signed = {
        **described(png),
        "title": "Unterschrift Einwilligung",
        "content_type": "image/png",
        "purpose": "signature",
        "signer_name": "Erika Beispiel",
        "signer_role": "tenant",
        "signed_at": (clock.now() - dt.timedelta(minutes=5)).isoformat(),
    }
    (made,) = await worker.push(worker.put("attachment", signature_id, case_id, signed))
    assert made["status"] == "applied"
    for change in ({"signer_name": "Jemand anderes"}, {"signer_role": "worker"}, {"signed_at": "2020-01-01T10:00:00Z"}):
        (refused,) = await worker.push(worker.put("attachment", signature_id, case_id, change, base=made["version"]))
        assert (refused["status"], refused["error"]["code"]) == ("rejected", "append-only"), change
        assert refused["error"]["field"] == next(iter(change))
    (retitled,) = await worker.push(
        worker.put("attachment", signature_id, case_id, {"title": "Einwilligung, unterschrieben"}, base=made["version"])
    )
    assert retitled["status"] == "applied"


async def test_keep_after_housekeeping_brings_the_attachment_back_with_its_file(
    app: Litestar, client: Client, org: Org, settings: Settings, clock: TestClock
) -> None:
    """A document deleted on one tablet and edited on another that was offline: an edit-versus-delete conflict.
    Housekeeping passes, even after the tombstone horizon, while the conflict is open; "keep" restores the record
    and its file downloads whole."""
    case_id, worker = await worker_case(app, client, org)
    content = jpeg(40_000)
    attachment_id = new_id()
    await upload(client, attachment_id, case_id, content)
    (made,) = await worker.push(worker.put("attachment", attachment_id, case_id, described(content)))
    async with client_from(app) as offline:
        other = Device(offline, await login(offline, "worker1"))  # the second tablet, last synced before the delete
        await other.pull()
        (gone,) = await worker.push(worker.delete("attachment", attachment_id, case_id, made["version"]))
        assert gone["status"] == "applied"
        retitled = other.put("attachment", attachment_id, case_id, {"title": "Mahnung Stadtwerke"}, made["version"])
        (edited,) = await other.push(retitled)
        assert edited["status"] == "conflict"
        engine = create_engine(settings.resolved_database_url)
        sessions = session_factory(engine)
        months = dt.timedelta(days=settings.tombstone_horizon_days + 30)
        report = await run_housekeeping(sessions, settings, now=clock.now() + months)
        await engine.dispose()
        assert (report.attachments, report.tombstones) == (0, 0)
        clock.travel(clock.now() + months)  # the worker decides months later, on a new login
        other = Device(offline, await login(offline, "worker1"))
        (kept,) = await other.push(other.resolve(edited["conflict_id"], "keep"))
        assert kept["status"] == "applied"
        download = await offline.get(f"/api/attachments/{attachment_id}")
        assert download.status_code == 200
        assert download.content == content
