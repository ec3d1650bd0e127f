"""Encrypted case records through the API: docs/security.md cases 1, 4 to 9 and 19, and key handling at start."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select, text, update

from server.audit import AuditEntry, verify_all, verify_chain
from server.cli import main as cli_main
from server.db import create_engine, session_factory
from server.plugin import service_of
from server.records.keyring import Keyring, KeyringError
from server.records.models import CaseKey, Record
from server.records.store import RecordStore
from server.settings import Settings
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case, worker_device
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")

Client = httpx.AsyncClient
CANARY = "Kanarienvogel-7Q9 Erika Musterfrau"


async def engine_for(settings: Settings) -> Any:
    return create_engine(settings.resolved_database_url)


async def test_canary_never_appears_in_the_database_logs_or_other_users_answers(
    app: Litestar, client: Client, org: Org, settings: Settings, caplog: pytest.LogCaptureFixture, backend: str
) -> None:
    # docs/security.md case 4
    caplog.set_level(logging.DEBUG)
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = await worker_device(client)
    note_id = new_id()
    [result] = await worker.push(worker.put("note", note_id, case_id, {"text": f"Notiz: {CANARY}", "visit_id": None}))
    assert result["status"] == "applied"
    bad = await worker.push(worker.put("note", new_id(), case_id, {"text": CANARY, "visit_id": CANARY}))
    assert bad[0]["status"] == "rejected"
    bodies = [json.dumps(bad)]
    async with client_from(app) as other:
        outsider = Device(other, await login(other, "worker3"))
        await outsider.pull()
        bodies.append(json.dumps(outsider.records))
        for path in (f"/api/cases/{case_id}", "/api/cases"):
            bodies.append((await other.get(path)).text)
        bodies.append(
            json.dumps(await outsider.push(outsider.put("note", new_id(), case_id, {"text": "x", "visit_id": None})))
        )
    for body in bodies:
        assert CANARY not in body
        assert "Kanarienvogel" not in body
    assert CANARY not in caplog.text
    engine = await engine_for(settings)
    async with engine.connect() as connection:
        tables = [t.name for t in Record.metadata.sorted_tables]
        for table in tables:
            rows = (await connection.execute(text(f'SELECT * FROM "{table}"'))).all()
            assert "Kanarienvogel" not in repr(rows), table
    await engine.dispose()
    if backend == "sqlite":
        db_file = Path(settings.resolved_database_url.split("///", 1)[1])
        for path in db_file.parent.glob(db_file.name + "*"):
            assert b"Kanarienvogel" not in path.read_bytes()
    # ...while the owner reads it back in clear.
    await worker.pull()
    assert CANARY in worker.records[note_id]["fields"]["text"]


async def test_a_blob_copied_to_another_record_fails_to_decrypt(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    # docs/security.md case 1, on the stored rows
    case_a, _ = await supervisor_creates_case(app, org, org.worker1_id)
    case_b, _ = await supervisor_creates_case(app, org, org.worker1_id)
    engine = await engine_for(settings)
    sessions = session_factory(engine)
    async with sessions() as db:
        a = await db.get(Record, uuid.UUID(case_a))
        assert a is not None
        await db.execute(update(Record).where(Record.id == uuid.UUID(case_b)).values(blob=a.blob))
        await db.commit()
    keyring = Keyring(settings)
    await keyring.load(engine)
    async with sessions() as db:
        row = await db.get(Record, uuid.UUID(case_b))
        assert row is not None
        store = RecordStore(db, keyring)
        [opened] = await store.decrypt([row])
        # The moved blob does not open under its new place: nothing of case A is shown as case B's.
        assert opened.fields is None
        assert store.damaged == {uuid.UUID(case_b): uuid.UUID(case_b)}
    await engine.dispose()


async def test_rotation_keeps_every_row_readable_including_deleted_ones(
    app: Litestar, client: Client, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/security.md case 5
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = await worker_device(client)
    action_id = new_id()
    await worker.push(
        worker.put("action", action_id, case_id, {"title": "Wohngeld beantragen", "due_on": "2026-12-01"})
    )
    await worker.pull()
    [deleted] = await worker.push(worker.delete("action", action_id, case_id, worker.records[action_id]["version"]))
    assert deleted["status"] == "applied"
    engine = await engine_for(settings)
    async with session_factory(engine)() as db:
        blobs_before = {r.id: r.blob for r in (await db.scalars(select(Record))).all()}
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    import anyio.to_thread

    assert await anyio.to_thread.run_sync(lambda: cli_main(["rotate-kek"])) == 0
    assert await anyio.to_thread.run_sync(lambda: cli_main(["retire-kek"])) == 0
    keys = json.loads((Path(settings.data_dir) / "keys" / "kek.json").read_text())
    assert list(keys["keys"]) == ["2"]
    keyring = Keyring(settings)
    await keyring.load(engine)
    async with session_factory(engine)() as db:
        assert set((await db.scalars(select(CaseKey.kek_version))).all()) == {2}
        rows = (await db.scalars(select(Record))).all()
        assert {r.id: r.blob for r in rows} == blobs_before  # the data was not re-encrypted
        records = await RecordStore(db, keyring).decrypt(rows)
    await engine.dispose()
    tombstone = next(r for r in records if str(r.id) == action_id)
    assert tombstone.deleted
    assert tombstone.fields is not None
    assert tombstone.fields["title"] == "Wohngeld beantragen"


async def test_an_erased_case_is_unreadable_its_audit_survives_and_a_restore_is_shredded_again(
    app: Litestar, client: Client, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/security.md case 6
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = await worker_device(client)
    await worker.pull()
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 200
    engine = await engine_for(settings)
    async with session_factory(engine)() as db:
        audit_before = (await db.scalars(select(AuditEntry).where(AuditEntry.case_id == uuid.UUID(case_id)))).all()
        saved_key = await db.get(CaseKey, uuid.UUID(case_id))
        assert saved_key is not None
        saved = {
            "case_id": saved_key.case_id,
            "dek_id": saved_key.dek_id,
            "wrapped": saved_key.wrapped,
            "kek_version": saved_key.kek_version,
        }
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    import anyio.to_thread

    assert await anyio.to_thread.run_sync(lambda: cli_main(["erase-case", case_id])) == 0
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 404
    await worker.pull()
    assert case_id in worker.purged
    assert not any(r["case_id"] == case_id for r in worker.records.values())
    async with session_factory(engine)() as db:
        audit_after = (await db.scalars(select(AuditEntry).where(AuditEntry.case_id == uuid.UUID(case_id)))).all()
        assert {(a.chain, a.seq) for a in audit_before} <= {(a.chain, a.seq) for a in audit_after}
        assert all(report.ok for report in (await verify_all(db, service_of(app, Keyring).audit)).values())
        assert all(
            r.blob is None for r in (await db.scalars(select(Record).where(Record.case_id == uuid.UUID(case_id)))).all()
        )
        # A backup from before the erasure is restored: the key row is back.
        db.add(CaseKey(**saved))
        await db.commit()
    keyring = Keyring(settings)
    await keyring.load(engine)
    async with session_factory(engine)() as db:
        assert await db.get(CaseKey, uuid.UUID(case_id)) is None
    await engine.dispose()


async def test_a_worker_of_another_team_gets_404_and_nothing_leaks(app: Litestar, client: Client, org: Org) -> None:
    # docs/security.md case 7: read, change and pull.
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id, title="Fall Team Nord")
    outsider = await worker_device(client, "worker3")
    missing = await client.get(f"/api/cases/{uuid.uuid4()}")
    foreign = await client.get(f"/api/cases/{case_id}")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert "Nord" not in (await client.get("/api/cases")).text
    await outsider.pull()
    assert outsider.records == {}
    [result] = await outsider.push(outsider.put("note", new_id(), case_id, {"text": "Hallo", "visit_id": None}))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "not-found"
    [change] = await outsider.push(outsider.put("case", case_id, case_id, {"risk": "low"}, base=1))
    assert change["status"] == "rejected"
    assert change["error"]["code"] == "not-found"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"team_id": "OTHER"}, "team_id", "forbidden"),
        ({"assigned_worker_id": "WORKER2"}, "assigned_worker_id", "forbidden"),
        ({"version": 99999}, "version", "validation"),
    ],
)
async def test_a_worker_cannot_set_server_controlled_fields(
    app: Litestar, client: Client, org: Org, fields: dict[str, Any], field: str, code: str
) -> None:
    # docs/security.md case 8
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = await worker_device(client)
    await worker.pull()
    values = {"OTHER": str(org.other_team_id), "WORKER2": str(org.worker2_id)}
    fields = {k: values.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    [result] = await worker.push(worker.put("case", case_id, case_id, fields, base=worker.records[case_id]["version"]))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == code
    assert result["error"]["field"] == field
    # Sending the unchanged value is not a change.
    [same] = await worker.push(
        worker.put(
            "case",
            case_id,
            case_id,
            {"assigned_worker_id": str(org.worker1_id), "risk": "acute"},
            base=worker.records[case_id]["version"],
        )
    )
    assert same["status"] == "applied"


async def test_unassignment_ends_access_and_the_next_pull_purges(app: Litestar, client: Client, org: Org) -> None:
    # docs/security.md case 9
    case_id, supervisor = await supervisor_creates_case(app, org, org.worker1_id)
    worker = await worker_device(client)
    await worker.pull()
    assert case_id in worker.records
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 200
    async with client_from(app) as c:
        supervisor.client = c
        await login(c, "supervisor", device_id=supervisor.device_id)
        await supervisor.pull()
        [result] = await supervisor.push(
            supervisor.put(
                "case",
                case_id,
                case_id,
                {"assigned_worker_id": str(org.worker2_id)},
                base=supervisor.records[case_id]["version"],
            )
        )
        assert result["status"] == "applied", result
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 404
    await worker.pull()
    assert worker.purged == [case_id]
    assert worker.records == {}


async def test_every_case_read_is_audited_including_denials_and_tampering_is_detected(
    app: Litestar, client: Client, org: Org, settings: Settings, backend: str
) -> None:
    # docs/security.md case 19
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    await worker_device(client, "worker1")
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 200
    await login(client, "worker3")
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 404
    engine = await engine_for(settings)
    async with session_factory(engine)() as db:
        reads = (
            await db.scalars(select(AuditEntry).where(AuditEntry.action == "case.read").order_by(AuditEntry.seq))
        ).all()
        assert [(r.outcome, str(r.case_id)) for r in reads] == [("ok", case_id), ("denied", case_id)]
        assert all(report.ok for report in (await verify_all(db, service_of(app, Keyring).audit)).values())
    # The database refuses changes to the log...
    async with engine.connect() as connection:
        with pytest.raises(Exception, match="append-only"):
            await connection.execute(text("UPDATE audit_log SET outcome = 'ok'"))
    # ...and an attacker who removes that guard is caught by the chain.
    async with engine.begin() as connection:
        if backend == "postgresql":
            await connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            await connection.execute(text("DROP TRIGGER audit_log_no_update"))
        await connection.execute(text("UPDATE audit_log SET outcome = 'ok' WHERE outcome = 'denied'"))
    async with session_factory(engine)() as db:
        report = await verify_chain(db, service_of(app, Keyring).audit, chain=reads[1].chain)
    await engine.dispose()
    assert not report.ok
    assert report.broken_at == reads[1].seq


async def test_the_server_refuses_to_start_without_its_key_or_with_a_wrong_one(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    await supervisor_creates_case(app, org, org.worker1_id)
    engine = await engine_for(settings)
    key_file = Path(settings.data_dir) / "keys" / "kek.json"
    assert key_file.stat().st_mode & 0o777 == 0o600
    original = key_file.read_text()
    key_file.unlink()
    with pytest.raises(KeyringError, match="missing"):
        await Keyring(settings).load(engine)
    key_file.write_text(json.dumps({"current": 1, "keys": {"1": "A" * 43 + "="}}))
    key_file.chmod(0o600)
    with pytest.raises(KeyringError, match="wrong"):
        await Keyring(settings).load(engine)
    key_file.write_text(original)
    key_file.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        await Keyring(settings).load(engine)
    key_file.chmod(0o600)
    await Keyring(settings).load(engine)
    await engine.dispose()


async def test_case_list_filters_and_scope_by_open_visit(app: Litestar, client: Client, org: Org) -> None:
    mine, supervisor = await supervisor_creates_case(app, org, org.worker1_id, risk="acute")
    theirs, _ = await supervisor_creates_case(app, org, org.worker2_id, risk="low")
    async with client_from(app) as c:
        supervisor.client = c
        await login(c, "supervisor", device_id=supervisor.device_id)
        [visit] = await supervisor.push(
            supervisor.put(
                "visit",
                new_id(),
                theirs,
                {"assigned_worker_id": str(org.worker1_id), "status": "planned", "planned_at": "2020-01-01T09:00:00Z"},
            )
        )
        assert visit["status"] == "applied", visit
    await login(client, "worker1")
    listing = (await client.get("/api/cases")).json()
    assert {c["id"] for c in listing} == {mine, theirs}  # the visit brings worker2's case into scope
    assert [c["id"] for c in (await client.get("/api/cases", params={"risk": "acute"})).json()] == [mine]
    overdue = (await client.get("/api/cases", params={"overdue": "true"})).json()
    assert [(c["id"], c["overdue_visits"]) for c in overdue] == [(theirs, 1)]
