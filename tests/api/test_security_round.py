"""The second security round (docs/security.md cases 26 to 33): login CSRF, the existence oracle, private database
files, printable device names, the Secure cookie flag, HSTS, the OpenAPI document and CSV injection."""

from __future__ import annotations

import io
import os
import stat
import uuid
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import select, update

from server.app import create_app
from server.audit import AuditEntry, entry_hash
from server.auth.models import Device as DeviceRow
from server.cli import main
from server.db import DatabaseFileExposed, create_engine, session_factory
from server.plugin import service_of
from server.records.keyring import Keyring
from server.records.models import CaseKey, Record, ScopeMember
from server.reports.export import neutralised
from server.settings import Settings
from server.sync.models import MutationLog
from tests.support.accounts import PASSWORD, Org, login
from tests.support.app import client_from, running
from tests.support.cases import supervisor_creates_case
from tests.support.syncing import Device, new_id

Client = httpx.AsyncClient
LOGIN = {"username": "worker1", "password": PASSWORD, "device_name": "Tablet"}


@pytest.mark.usefixtures("org")
async def test_login_takes_json_from_this_site_only(client: Client) -> None:
    # docs/security.md case 28: a cross-site form or text/plain post cannot log a browser into an account.
    as_text = await client.post(
        "/api/auth/login", content=msgspec.json.encode(LOGIN), headers={"Content-Type": "text/plain"}
    )
    assert as_text.status_code == 415
    as_form = await client.post("/api/auth/login", data=LOGIN)
    assert as_form.status_code == 415
    cross_site = await client.post("/api/auth/login", json=LOGIN, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    other_origin = await client.post("/api/auth/login", json=LOGIN, headers={"Origin": "https://evil.example"})
    assert other_origin.status_code == 403
    for refused in (as_text, as_form, cross_site, other_origin):
        assert "set-cookie" not in refused.headers
    own = await client.post(
        "/api/auth/login", json=LOGIN, headers={"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}
    )
    assert own.status_code == 200


async def test_an_id_of_another_scope_is_answered_as_an_unknown_id(app: Litestar, client: Client, org: Org) -> None:
    # docs/security.md case 30: the answer must not tell that the id exists in a case the writer cannot see.
    theirs, _ = await supervisor_creates_case(app, org, org.worker2_id)
    mine, _ = await supervisor_creates_case(app, org, org.worker1_id)
    async with client_from(app) as other:
        owner = Device(other, await login(other, "worker2"))
        secret_note = new_id()
        await owner.push(owner.put("note", secret_note, theirs, {"text": "vertraulich", "visit_id": None}))
    worker = Device(client, await login(client, "worker1"))
    await worker.pull()
    known = await worker.push(worker.put("note", secret_note, mine, {"text": "x", "visit_id": None}, base=5))
    unknown = await worker.push(worker.put("note", new_id(), mine, {"text": "x", "visit_id": None}, base=5))
    strip = [{k: v for k, v in r.items() if k != "mid"} for r in known + unknown]
    assert strip[0] == strip[1]
    assert strip[0]["error"]["code"] == "not-found"
    guessed = await worker.push(worker.put("note", secret_note, mine, {"text": "x", "visit_id": None}))
    assert guessed[0]["error"] == strip[0]["error"]


def test_the_database_file_is_private_and_an_exposed_one_is_refused(tmp_path: Path) -> None:
    # docs/security.md case 31
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'doorstep.db'}"
    create_engine(url).sync_engine.dispose()
    assert stat.S_IMODE(os.stat(tmp_path / "var").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "var" / "doorstep.db").st_mode) == 0o600
    os.chmod(tmp_path / "var" / "doorstep.db", 0o644)
    with pytest.raises(DatabaseFileExposed, match="chmod 600"):
        create_engine(url)


def test_a_server_refuses_to_start_on_a_database_others_can_read(tmp_path: Path) -> None:
    database = tmp_path / "doorstep.db"
    database.touch(mode=0o640)
    os.chmod(database, 0o640)
    settings = Settings(data_dir=str(tmp_path), database_url=f"sqlite+aiosqlite:///{database}", environment="test")
    with pytest.raises(DatabaseFileExposed):
        create_app(settings)


@pytest.mark.usefixtures("org")
async def test_device_names_are_printable_and_the_cli_escapes_what_it_prints(
    client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # docs/security.md case 27: a name with terminal escapes never reaches an administrator's terminal as such.
    escaped = await client.post("/api/auth/login", json={**LOGIN, "device_name": "Tablet\x1b]0;pwned\x07\x1b[2J"})
    assert escaped.status_code == 400
    assert escaped.json()["field"] == "device_name"
    body = await login(client, "worker1")
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:  # a name stored before this rule existed
        device_id = uuid.UUID(str(body["device_id"]))
        await db.execute(update(DeviceRow).where(DeviceRow.id == device_id).values(name="Tab\x1b[31mlet"))
        await db.commit()
    await engine.dispose()
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert await anyio.to_thread.run_sync(lambda: main(["devices"])) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed
    assert "Tab\\x1b[31mlet" in printed


@pytest.mark.usefixtures("org")
async def test_the_secure_flag_is_a_setting_not_a_matter_of_the_host_header(settings: Settings) -> None:
    # docs/security.md case 33: a proxy forwarding "Host: 127.0.0.1" does not make the cookie non-Secure.
    production = msgspec.structs.replace(settings, environment="production")
    for current, host, secure in ((production, "127.0.0.1", True), (settings, "127.0.0.1", False)):
        app = create_app(current)
        async with running(app), client_from(app, base_url=f"http://{host}") as client:
            response = await client.post("/api/auth/login", json=LOGIN, headers={"Host": host})
            assert response.status_code == 200
            cookie = response.headers["set-cookie"].lower()
            assert ("; secure" in cookie) is secure
    off = msgspec.structs.replace(production, secure_cookies=False)
    assert off.cookie_secure("10.0.0.5") is False
    assert production.cookie_secure("10.0.0.5") is True


@pytest.mark.usefixtures("org")
async def test_hsts_over_https_and_the_api_document_for_signed_in_users_only(app: Litestar, client: Client) -> None:
    # docs/security.md case 29
    assert "strict-transport-security" not in (await client.get("/health")).headers
    async with client_from(app, base_url="https://doorstep.example") as tls:
        assert (await tls.get("/health")).headers["strict-transport-security"].startswith("max-age=")
    assert (await client.get("/schema/openapi.json")).status_code == 401
    await login(client, "worker1")
    assert (await client.get("/schema/openapi.json")).status_code == 200


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_would_be_formulas_are_shown_as_text(text: str) -> None:
    # docs/security.md case 29
    assert neutralised(text) == "'" + text
    assert neutralised("Schuldnerberatung") == "Schuldnerberatung"


async def test_a_refused_value_is_never_echoed_nor_stored(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    # docs/security.md case 35: free text typed into the wrong field (here health data in an enum) comes back
    # nowhere: not in the answer, not in the stored results of the push.
    secret = "Depression seit 2019, Klinikaufenthalt"
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    results = await worker.push(
        worker.put("contact", new_id(), case_id, {"channel": secret, "at": "2026-11-20T10:00:00+01:00"}),
        worker.put(secret[:30], new_id(), case_id, {}),
    )
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert results[0]["error"]["field"] == "channel"
    assert secret[:10] not in msgspec.json.encode(results).decode()
    again = await worker.push_raw([])  # the stored first results, read back by a replay
    assert again.status_code == 200
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        stored = (await db.scalars(select(MutationLog.results))).all()
    await engine.dispose()
    assert stored
    assert all(secret[:10].encode() not in blob for blob in stored)
    wrong_filter = await client.get("/api/cases", params={"status": secret})
    assert wrong_filter.status_code == 400
    assert secret[:10] not in wrong_filter.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/login", b'{"username":"\xff\xfe","password":"x","device_name":"T"}'),
        ("/api/auth/login", b'{"username":"a\\u0000b","password":"x","device_name":"T"}'),
        ("/api/sync/push", b'{"device_id":"00000000-0000-0000-0000-000000000000","mutations":[],"cursor":"\xc3"}'),
    ],
)
@pytest.mark.usefixtures("org")
async def test_bodies_that_cannot_be_stored_are_a_400_not_a_retry(client: Client, path: str, body: bytes) -> None:
    # docs/security.md case 36: invalid UTF-8 and NUL characters are refused at the edge, on both databases.
    if path != "/api/auth/login":
        await login(client, "worker1")
    response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/validation")


@pytest.mark.usefixtures("org")
async def test_report_periods_are_bounded(client: Client) -> None:
    await login(client, "supervisor")
    for start, end, field in (("0001-01-01", "0001-12-31", "start"), ("2026-01-01", "9999-12-31", "end")):
        response = await client.get("/api/reports", params={"start": start, "end": end})
        assert response.status_code == 400
        assert response.json()["field"] == field
    nul = await client.get("/api/cases?status=open%00")
    assert nul.status_code == 400


async def test_half_an_emoji_rejects_its_own_mutation_only(app: Litestar, client: Client, org: Org) -> None:
    # docs/security.md case 37: a lone surrogate (a cut emoji) does not wedge the device's whole batch.
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    good, broken, rare = new_id(), new_id(), new_id()
    mutations = [
        worker.put("note", good, case_id, {"text": "Alles gut 😀", "visit_id": None}),
        worker.put("note", broken, case_id, {"text": "abgeschnitten PLACEHOLDER", "visit_id": None}),
        # A noncharacter is still valid text: it is kept, not taken for the mark of a cut emoji.
        worker.put("note", rare, case_id, {"text": "selten \ufdd0", "visit_id": None}),
    ]
    body = msgspec.json.encode(
        {"protocol": 1, "device_id": worker.device_id, "schema_version": 1, "cursor": None, "mutations": mutations}
    ).replace(b"PLACEHOLDER", b"\\ud83d")
    response = await client.post("/api/sync/push", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    first, second, third = response.json()["results"]
    assert first["status"] == "applied"
    assert second["status"] == "rejected"
    assert second["error"]["field"] == "text"
    assert third["status"] == "applied", third
    await worker.pull()
    assert worker.records[good]["fields"]["text"] == "Alles gut 😀"
    assert worker.records[rare]["fields"]["text"] == "selten \ufdd0"
    assert broken not in worker.records


async def test_a_damaged_ciphertext_spoils_one_record_not_the_case(
    app: Litestar, client: Client, org: Org, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # docs/security.md case 38
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    spoiled, kept = new_id(), new_id()
    await worker.push(
        worker.put("note", spoiled, case_id, {"text": "wird beschädigt", "visit_id": None}),
        worker.put("note", kept, case_id, {"text": "bleibt lesbar", "visit_id": None}),
    )
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        blob = await db.scalar(select(Record.blob).where(Record.id == uuid.UUID(spoiled)))
        assert blob is not None
        flipped = blob[:-1] + bytes([blob[-1] ^ 1])
        await db.execute(update(Record).where(Record.id == uuid.UUID(spoiled)).values(blob=flipped))
        await db.commit()
    detail = await client.get(f"/api/cases/{case_id}")
    assert detail.status_code == 200
    assert detail.json()["damaged"] == [spoiled]
    assert {r["id"] for r in detail.json()["records"]} == {kept}
    fresh = Device(client, await login(client, "worker1"))
    await fresh.pull()
    assert kept in fresh.records
    assert spoiled not in fresh.records
    [refused] = await fresh.push(fresh.put("note", spoiled, case_id, {"visit_id": None}, base=1))
    assert refused["status"] == "rejected"
    async with session_factory(engine)() as db:
        reported = (await db.scalars(select(AuditEntry).where(AuditEntry.action == "record.integrity"))).all()
    await engine.dispose()
    assert reported
    assert {entry.outcome for entry in reported} == {"damaged"}
    assert sum("failed its integrity check" in r.getMessage() for r in caplog.records) <= 1


@pytest.mark.alone  # it reads the server's own files, and was flaky beside other tests on the same server
async def test_an_erased_case_leaves_no_copy_of_its_key_in_the_database_files(
    app: Litestar, client: Client, org: Org, settings: Settings, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/security.md case 39: after erase-case nothing of the case can be opened with the KEK, because no copy of
    # its wrapped data key is left in the database's files (SQLite's file and log, PostgreSQL's table pages).
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.push(worker.put("note", new_id(), case_id, {"text": "vertraulich", "visit_id": None}))
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        wrapped = await db.scalar(select(CaseKey.wrapped).where(CaseKey.case_id == uuid.UUID(case_id)))
    assert wrapped
    assert wrapped in await database_bytes(engine, backend, settings)  # the search can find it while it exists
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    assert await anyio.to_thread.run_sync(lambda: main(["erase-case", case_id])) == 0
    assert wrapped not in await database_bytes(engine, backend, settings)
    await engine.dispose()


async def database_bytes(engine: Any, backend: str, settings: Settings) -> bytes:
    if backend == "sqlite":
        path = Path(settings.resolved_database_url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql("CHECKPOINT")
        where = (await connection.exec_driver_sql("SELECT pg_relation_filepath('case_keys')")).scalar_one()
        pages = (await connection.exec_driver_sql(f"SELECT pg_read_binary_file('{where}')")).scalar_one()
    return bytes(pages)


async def tamper(engine: Any, backend: str, *statements: str) -> None:
    """Run ``statements`` against the audit log with its append-only guard removed, as an attacker would."""
    async with engine.begin() as connection:
        if backend == "postgresql":
            await connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        else:
            await connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            await connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for statement in statements:
            await connection.exec_driver_sql(statement)


async def test_the_audit_chain_is_signed_and_its_head_can_be_anchored(
    app: Litestar,
    client: Client,
    org: Org,
    settings: Settings,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # docs/security.md case 40
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    await login(client, "worker1")
    for _ in range(4):
        assert (await client.get(f"/api/cases/{case_id}")).status_code == 200
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)

    async def verify(*anchors: str) -> int:
        args = ["verify-audit", *(f"--anchor={a}" for a in anchors)]
        return await anyio.to_thread.run_sync(lambda: main(args))

    assert await verify() == 0
    # One head per chain: the installation's and the organisation's, which holds these reads.
    chain = str(org.organisation_id)
    heads = [line.removeprefix("Head: ") for line in capsys.readouterr().out.splitlines() if line.startswith("Head: ")]
    assert [h.split(":")[0] for h in heads] == ["installation", chain]
    head = heads[1]
    last = int(head.split(":")[1])
    assert await verify(*heads) == 0

    engine = create_engine(settings.resolved_database_url)
    of_chain = f"chain = '{chain}'"
    # Cut off the last entry and rewind the head: the chain alone still adds up, the anchor does not.
    async with session_factory(engine)() as db:
        previous = await db.scalar(select(AuditEntry.hash).where(AuditEntry.chain == chain, AuditEntry.seq == last - 1))
    await tamper(
        engine,
        backend,
        f"DELETE FROM audit_log WHERE {of_chain} AND seq = {last}",
        f"UPDATE audit_heads SET seq = {last - 1}, hash = '{previous}' WHERE {of_chain}",
    )
    assert await verify() == 0
    capsys.readouterr()
    assert await verify(head) == 1
    assert "anchored entry is missing" in capsys.readouterr().err

    # Delete an entry in the middle and recompute every later hash as plain SHA-256, renumbering the rest: a
    # chain that would pass unkeyed, but not without the key that the database does not hold.
    async with session_factory(engine)() as db:
        entries = list(
            (await db.scalars(select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq))).all()
        )
    statements = [f"DELETE FROM audit_log WHERE {of_chain} AND seq = 2"]
    prev = entries[0].hash
    for entry in entries[2:]:
        old = entry.seq
        entry.seq = old - 1
        entry.prev_hash = prev
        entry.hash = entry_hash(prev, entry, None)
        statements.append(
            f"UPDATE audit_log SET seq = {entry.seq}, prev_hash = '{prev}', hash = '{entry.hash}' "
            f"WHERE {of_chain} AND seq = {old}"
        )
        prev = entry.hash
    statements.append(f"UPDATE audit_heads SET seq = {entries[-1].seq}, hash = '{prev}' WHERE {of_chain}")
    await tamper(engine, backend, *statements)
    await engine.dispose()
    capsys.readouterr()
    assert await verify() == 1
    assert f"chain {chain} BROKEN at entry 2" in capsys.readouterr().err
    signing = service_of(app, Keyring).audit
    assert signing is not None
    assert signing.first_seq == 1  # a fresh installation signs every entry


async def test_a_running_server_follows_rotation_and_retirement_of_the_kek(
    app: Litestar, client: Client, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/security.md case 41: rotate-kek and retire-kek while the server runs.
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)

    async def cli(*args: str) -> int:
        return await anyio.to_thread.run_sync(lambda: main(list(args)))

    async def versions() -> dict[str, int]:
        engine = create_engine(settings.resolved_database_url)
        async with session_factory(engine)() as db:
            rows = (await db.execute(select(CaseKey.case_id, CaseKey.kek_version))).all()
        await engine.dispose()
        return {str(case_id): version for case_id, version in rows}

    before, _ = await supervisor_creates_case(app, org, org.worker1_id)
    await login(client, "worker1")
    assert (await versions())[before] == 1
    assert await cli("rotate-kek") == 0
    assert (await client.get(f"/api/cases/{before}")).status_code == 200  # rewrapped under a version read just now
    during, _ = await supervisor_creates_case(app, org, org.worker1_id)
    assert (await versions())[during] == 2  # new keys use the new version at once
    assert await cli("retire-kek") == 0
    after, _ = await supervisor_creates_case(app, org, org.worker1_id)
    assert set((await versions()).values()) == {2}
    for case_id in (before, during, after):
        assert (await client.get(f"/api/cases/{case_id}")).status_code == 200
    engine = create_engine(settings.resolved_database_url)
    await Keyring(settings).load(engine)  # the next start is not refused
    await engine.dispose()


async def test_a_case_pointed_at_another_teams_worker_in_the_database_is_not_served_to_them(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    """docs/security.md case 59: someone who can write the database but holds no key points a case's clear column
    (and a scope entry) at a worker of another team; the sealed fields still name Team Nord's worker, so the case
    is not served to the other one: not listed, 404, not pulled, and each refusal audited."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    await worker.push(
        worker.put("note", new_id(), case_id, {"text": "Vertraulich: Schulden bei der Bank", "visit_id": None})
    )
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            await db.execute(
                update(Record).where(Record.id == uuid.UUID(case_id)).values(assigned_worker_id=org.other_worker_id)
            )
            db.add(ScopeMember(subject=org.other_worker_id, case_id=uuid.UUID(case_id), entered_seq=1))
            await db.commit()
    finally:
        await engine.dispose()
    async with client_from(app) as other:
        thief = Device(other, await login(other, "worker3"))
        assert (await other.get("/api/cases")).json() == []
        assert (await other.get(f"/api/cases/{case_id}")).status_code == 404
        await thief.pull()
        assert not [r for r in thief.records.values() if r["case_id"] == case_id]
        pulled = await other.get("/api/sync/pull")
        assert "Vertraulich" not in pulled.text
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            refusals = (
                await db.scalars(
                    select(AuditEntry.case_id).where(
                        AuditEntry.action == "scope.mismatch", AuditEntry.actor_id == org.other_worker_id
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert len(refusals) >= 3
    assert set(refusals) == {uuid.UUID(case_id)}
