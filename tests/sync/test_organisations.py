"""Two organisations on one installation share no lock: each has its own sync clock and its own audit chain.

On PostgreSQL, a write transaction of organisation B that holds B's clock and B's audit chain open does not keep
organisation A's push from finishing, while B's own next push waits for it, as ordering B's writers requires.
SQLite has one writer per database file whatever the tables, so there the test checks what both backends share:
the two organisations count on separate clocks and chains. Cursors issued before the split stay valid.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit import AuditEntry, append, verify_all
from server.auth.models import Organisation, Role, Team, User
from server.db import begin_write, create_engine, session_factory
from server.plugin import service_of
from server.records import clock
from server.records.keyring import Keyring
from server.settings import Settings
from server.sync.cursor import Cursor, decode_cursor, encode_cursor
from server.sync.service import load_cursor_secret
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import case_fields, supervisor_creates_case
from tests.support.syncing import Device, new_id


async def second_organisation(settings: Settings, password_hash: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Another housing company on the same installation, with one team and its worker ``worker_b``."""
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            other = Organisation(name="Stadtbau Ost")
            db.add(other)
            await db.flush()
            team = Team(organisation_id=other.id, name="Team Ost")
            db.add(team)
            await db.flush()
            db.add(
                User(
                    username="worker_b",
                    display_name="Worker B",
                    role=Role.WORKER,
                    team_id=team.id,
                    password_hash=password_hash,
                )
            )
            await db.commit()
            return other.id, team.id
    finally:
        await engine.dispose()


async def waiting_for_a_lock(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether some connection to this PostgreSQL database is waiting for a lock another transaction holds."""
    async with sessions() as db:
        waiting = await db.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


def notes(device: Device, case_id: str, count: int) -> list[dict[str, Any]]:
    return [device.put("note", new_id(), case_id, {"text": f"Notiz {i}", "visit_id": None}) for i in range(count)]


async def test_one_organisations_open_write_does_not_hold_up_another_organisations_push(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings, password_hash: str, backend: str
) -> None:
    organisation_b, team_b = await second_organisation(settings, password_hash)
    case_a, _ = await supervisor_creates_case(app, org, org.worker1_id)
    async with client_from(app) as client_b:
        worker_b = Device(client_b, await login(client_b, "worker_b"))
        case_b = new_id()
        fields_b = case_fields(org, uuid.UUID(worker_b.user_id)) | {"team_id": str(team_b), "title": "Fall Ost"}
        created = await worker_b.push(worker_b.put("case", case_b, case_b, fields_b))
        assert created[0]["status"] == "applied", created

    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as db:
            before_a = (await clock.read(db, org.organisation_id)).seq
            before_b = (await clock.read(db, organisation_b)).seq
        async with client_from(app) as client_a, client_from(app) as client_b:
            worker_a = Device(client_a, await login(client_a, "worker1"))
            worker_b = Device(client_b, await login(client_b, "worker_b"))
            await worker_a.pull()
            await worker_b.pull()
            if backend == "postgresql":
                async with sessions() as held:
                    # Organisation B's writer is in the middle of its transaction: B's clock and chain are locked.
                    await begin_write(held)
                    await clock.lock(held, organisation_b)
                    await append(
                        held,
                        action="test.hold",
                        outcome="ok",
                        actor_id=None,
                        organisation=organisation_b,
                        key=service_of(app, Keyring).audit,
                    )
                    waiting_b = asyncio.create_task(worker_b.push(*notes(worker_b, case_b, 3)))
                    results_a = await asyncio.wait_for(worker_a.push(*notes(worker_a, case_a, 10)), timeout=20)
                    assert [r["status"] for r in results_a] == ["applied"] * 10
                    # B's push is seen waiting for the lock that B's open transaction holds, not merely not yet done.
                    deadline = asyncio.get_running_loop().time() + 20
                    while not await waiting_for_a_lock(sessions):
                        assert not waiting_b.done(), "B's next writer waits for B's open transaction"
                        assert asyncio.get_running_loop().time() < deadline, "B's push never reached the lock"
                        await asyncio.sleep(0.05)
                    assert not waiting_b.done(), "B's next writer waits for B's open transaction"
                    await held.rollback()
                results_b = await asyncio.wait_for(waiting_b, timeout=20)
            else:
                results_a = await worker_a.push(*notes(worker_a, case_a, 10))
                results_b = await worker_b.push(*notes(worker_b, case_b, 3))
            assert [r["status"] for r in results_b] == ["applied"] * 3
            await worker_a.pull()
            await worker_b.pull()
            # Each worker holds their own organisation's records and nothing of the other's.
            assert case_a in worker_a.records
            assert case_b not in worker_a.records
            assert case_b in worker_b.records
            assert case_a not in worker_b.records

        async with sessions() as db:
            after_a = (await clock.read(db, org.organisation_id)).seq
            after_b = (await clock.read(db, organisation_b)).seq
            # Each clock counted its own organisation's changes only.
            assert after_a == before_a + 10
            assert after_b == before_b + 3
            versions_a = {r["version"] for r in worker_a.records.values() if r["kind"] == "note"}
            assert versions_a == set(range(before_a + 1, after_a + 1))
            # Each organisation's entries are in its own chain, and every chain verifies.
            chains = {
                entry.chain
                for entry in (await db.scalars(select(AuditEntry).where(AuditEntry.action == "sync.push"))).all()
            }
            assert chains == {str(org.organisation_id), str(organisation_b)}
            reports = await verify_all(db, service_of(app, Keyring).audit)
            assert all(report.ok for report in reports.values()), reports
    finally:
        await engine.dispose()


async def test_a_cursor_from_before_the_clocks_were_split_stays_valid(
    app: Litestar, client: httpx.AsyncClient, org: Org, settings: Settings
) -> None:
    """A device last synced on the single clock (cursor format 1) resumes where it was, missing nothing."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    async with client_from(app) as client:
        worker = Device(client, await login(client, "worker1"))
        await worker.pull()
        secret = await cursor_secret(settings)
        position = decode_cursor(secret, uuid.UUID(worker.user_id), worker.cursor)
        assert position.organisation == org.organisation_id
        # The same position as the server wrote it before each organisation had a clock of its own.
        worker.cursor = old_format_cursor(secret, uuid.UUID(worker.user_id), position)
        async with client_from(app) as other:
            writer = Device(other, await login(other, "supervisor"))
            assert [r["status"] for r in await writer.push(*notes(writer, case_id, 2))] == ["applied"] * 2
        pulled = await client.get("/api/sync/pull", params={"cursor": worker.cursor})
        assert pulled.status_code == 200
        assert sorted(c["kind"] for c in pulled.json()["changes"]) == ["note", "note"]
        # A cursor on another organisation's clock is expired: the device bootstraps.
        foreign = encode_cursor(secret, uuid.UUID(worker.user_id), Cursor(position.seq), uuid.uuid4())
        expired = await client.get("/api/sync/pull", params={"cursor": foreign})
        assert expired.status_code == 410
        assert expired.json()["type"].endswith("/cursor-expired")


async def cursor_secret(settings: Settings) -> bytes:
    engine = create_engine(settings.resolved_database_url)
    try:
        return await load_cursor_secret(session_factory(engine))
    finally:
        await engine.dispose()


def old_format_cursor(secret: bytes, user_id: uuid.UUID, position: Cursor) -> str:
    """A cursor as the server signed them before the split (format 1: no organisation)."""
    payload = msgspec.json.encode([1, position.seq, str(position.after_id or ""), str(user_id)])
    mac = hmac.new(secret, payload, hashlib.sha256).digest()[:16]

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(payload)}.{b64(mac)}"
