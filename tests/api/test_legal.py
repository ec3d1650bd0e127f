"""Legal events and their deadlines on the server (docs/legal.md): the dates that say what they are, a version 1
client's ``date`` translated both ways, stored old events rewritten once at start, the deadlines of a case with
their rule ids and basis, a deadline done through its action, the region and its holidays."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import anyio.to_thread
import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.cli import main as cli_main
from server.crypto.aead import associated_data, seal
from server.db import create_engine, session_factory
from server.jobs.reminders import remind_deadlines
from server.push.models import PushJob, PushSubscription
from server.records.calendar import Calendar, Region
from server.records.deadlines import derived_id
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.upgrade import upgrade_stored
from server.settings import Settings
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case
from tests.support.clock import BERLIN, TestClock, calendar_matrix
from tests.support.syncing import Device, new_id

Client = httpx.AsyncClient


async def subscribe(sessions: async_sessionmaker[AsyncSession], device_id: object, user_id: uuid.UUID) -> None:
    """A push subscription of ``user_id``'s device (to a push service nobody calls: reminders only queue jobs)."""
    async with sessions() as db:
        db.add(
            PushSubscription(
                device_id=uuid.UUID(str(device_id)),
                user_id=user_id,
                endpoint=f"https://push.example/{user_id}",
                p256dh="p" * 87,
                auth="a" * 22,
            )
        )
        await db.commit()


async def set_region(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", settings.data_dir)
    code: int = await anyio.to_thread.run_sync(lambda: cli_main(["set-region", *args]))
    return code


async def test_a_version_1_date_is_translated_on_the_way_in_and_out(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    hearing, letter = new_id(), new_id()
    results = await worker.push(
        worker.put("legal_event", hearing, case_id, {"type": "court_date", "date": "2026-12-10"}),
        worker.put(
            "legal_event", letter, case_id, {"type": "reminder", "date": "2026-11-02", "received_on": "2026-11-04"}
        ),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    await worker.pull()
    assert worker.records[hearing]["fields"]["scheduled_at"] == "2026-12-10T12:00:00+01:00"
    assert (worker.records[letter]["fields"]["dated_on"], worker.records[letter]["fields"]["served_on"]) == (
        "2026-11-02",
        "2026-11-04",
    )
    assert "date" not in worker.records[letter]["fields"]
    # A version 1 client reads its own form back.
    page = (await client.get("/api/sync/pull", params={"schema_version": 1})).json()
    old = {c["id"]: c["fields"] for c in page["changes"]}
    assert (old[hearing]["date"], old[letter]["date"], old[letter]["received_on"]) == (
        "2026-12-10",
        "2026-11-02",
        "2026-11-04",
    )
    # A change of the date alone (an old outbox) finds the type in the stored event.
    version = worker.records[hearing]["version"]
    (moved,) = await worker.push(worker.put("legal_event", hearing, case_id, {"date": "2026-12-17"}, base=version))
    assert moved["status"] == "applied"
    await worker.pull()
    assert worker.records[hearing]["fields"]["scheduled_at"] == "2026-12-17T12:00:00+01:00"


async def test_stored_events_of_version_1_are_rewritten_once_at_start(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    event = new_id()
    (made,) = await worker.push(
        worker.put("legal_event", event, case_id, {"type": "judgment", "dated_on": "2026-11-01"})
    )
    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    sessions = session_factory(engine)
    try:
        # The event as version 1 stored it: one "date", sealed under schema version 1.
        async with sessions() as db:
            key = (await keyring.data_keys(db, [uuid.UUID(case_id)]))[uuid.UUID(case_id)]
            aad = associated_data("legal_event", uuid.UUID(event), uuid.UUID(case_id), "fields", 1, key.dek_id)
            plain = msgspec.json.encode({"type": "judgment", "date": "2026-11-01", "received_on": "2026-11-03"})
            blob = seal(key.key, plain, aad, kek_version=key.kek_version, dek_id=key.dek_id)
            await db.execute(
                update(Record)
                .where(Record.id == uuid.UUID(event))
                .values(blob=blob, schema_version=1, field_versions={"type": made["version"], "date": made["version"]})
            )
            await db.commit()
        assert await upgrade_stored(sessions, keyring) == 1
        assert await upgrade_stored(sessions, keyring) == 0
        async with sessions() as db:
            row = (await db.scalars(select(Record).where(Record.id == uuid.UUID(event)))).one()
            assert row.schema_version == 2
            assert row.version > made["version"]
    finally:
        await engine.dispose()
    await worker.pull()
    fields = worker.records[event]["fields"]
    assert (fields["dated_on"], fields["served_on"], fields.get("date")) == ("2026-11-01", "2026-11-03", None)


@calendar_matrix
async def test_the_case_detail_lists_its_deadlines_with_rule_and_basis(
    app: Litestar, client: Client, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch, clock: TestClock
) -> None:
    assert await set_region(settings, monkeypatch, "DE", "BE") == 0
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    notice, lawsuit = new_id(), new_id()
    served = clock.today() - dt.timedelta(days=3)
    results = await worker.push(
        worker.put(
            "legal_event", notice, case_id, {"type": "notice_to_quit", "notice_kind": "both", "served_on": "2026-09-01"}
        ),
        worker.put("legal_event", lawsuit, case_id, {"type": "eviction_lawsuit", "served_on": served.isoformat()}),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]

    def deadlines(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {d["rule"]: d for d in body["deadlines"]}

    found = deadlines((await client.get(f"/api/cases/{case_id}")).json())
    assert set(found) == {"de.schonfrist", "de.verteidigungsanzeige"}
    assert found["de.schonfrist"]["basis"] == "§ 569 Abs. 3 Nr. 2 BGB"
    assert found["de.schonfrist"]["record_id"] == lawsuit
    assert dt.date.fromisoformat(found["de.schonfrist"]["due_on"]) >= served + dt.timedelta(days=59)
    assert dt.date.fromisoformat(found["de.verteidigungsanzeige"]["due_on"]) >= served + dt.timedelta(days=14)
    assert not any(d["done"] for d in found.values())
    # The tablet's action for the Verteidigungsanzeige, done: the deadline is done.
    action = str(derived_id(lawsuit, "de.verteidigungsanzeige"))
    fields = {"title": "Verteidigungsanzeige", "due_on": found["de.verteidigungsanzeige"]["due_on"], "status": "done"}
    (made,) = await worker.push(worker.put("action", action, case_id, fields))
    assert made["status"] == "applied"
    found = deadlines((await client.get(f"/api/cases/{case_id}")).json())
    assert (found["de.verteidigungsanzeige"]["done"], found["de.schonfrist"]["done"]) == (True, False)
    # Used within the two years before the notice: the Schonfrist shows why it does not help.
    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        await boss.pull()
        base = boss.records[case_id]["version"]
        await boss.push(boss.put("case", case_id, case_id, {"schonfrist_used_on": "2025-06-01"}, base=base))
    found = deadlines((await client.get(f"/api/cases/{case_id}")).json())
    assert found["de.schonfrist"]["unavailable"] == "schonfrist_used:2025-06-01"


async def test_the_schonfrist_is_provisional_from_the_first_court_letter_until_the_notice_is_recorded(
    app: Litestar, client: Client, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The typical first contact: the Jobcenter forwards the court's notice; no Kündigung is at hand yet."""
    assert await set_region(settings, monkeypatch, "DE", "BE") == 0
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))

    async def schonfrist() -> list[dict[str, Any]]:
        body = (await client.get(f"/api/cases/{case_id}")).json()
        return [d for d in body["deadlines"] if d["rule"] == "de.schonfrist"]

    court, notice, lawsuit = new_id(), new_id(), new_id()
    await worker.push(
        worker.put("legal_event", court, case_id, {"type": "court_notice_to_agency", "served_on": "2026-12-09"})
    )
    [found] = await schonfrist()
    assert (found["due_on"], found["provisional"], found["record_id"]) == (
        "2027-02-09",
        ["notice_kind", "lawsuit_served"],
        court,
    )
    assert found["basis"] == "§ 569 Abs. 3 Nr. 2 BGB, § 22 Abs. 9 SGB II"
    # The Kündigung, of a kind not yet known: still provisional.
    await worker.push(
        worker.put(
            "legal_event",
            notice,
            case_id,
            {"type": "notice_to_quit", "notice_kind": "unknown", "served_on": "2026-11-30"},
        )
    )
    [found] = await schonfrist()
    assert found["provisional"] == ["notice_kind", "lawsuit_served"]
    # Fristlos, hilfsweise ordentlich: the kind is sure, and the ordentliche notice is not cured by paying.
    await worker.pull()
    await worker.push(
        worker.put("legal_event", notice, case_id, {"notice_kind": "both"}, base=worker.records[notice]["version"])
    )
    [found] = await schonfrist()
    assert (found["provisional"], found["warning"]) == (["lawsuit_served"], "ordinary_stays")
    # The lawsuit served on Monday 14 December: two months end on Sunday 14 February 2027, so Monday the 15th; the
    # court's notice no longer counts.
    await worker.push(
        worker.put("legal_event", lawsuit, case_id, {"type": "eviction_lawsuit", "served_on": "2026-12-14"})
    )
    [found] = await schonfrist()
    assert (found["due_on"], found["provisional"], found["record_id"]) == ("2027-02-15", [], lawsuit)
    # An earlier notice cured by the Schonfrist, received 1 December 2024: less than two years before this one's
    # Zugang (30 November 2026), so the Schonfrist does not help; received 29 November 2024, it would.
    async with client_from(app) as office:
        boss = Device(office, await login(office, "supervisor"))
        await boss.pull()
        for earlier, expected in (("2024-12-01", "schonfrist_used:2024-12-01"), ("2024-11-29", None)):
            base = boss.records[case_id]["version"]
            [result] = await boss.push(
                boss.put("case", case_id, case_id, {"cured_notice_served_on": earlier}, base=base)
            )
            assert result["status"] == "applied"
            await boss.pull()
            [found] = await schonfrist()
            assert found["unavailable"] == expected
    # A purely ordentliche Kündigung: no Schonfrist at all.
    await worker.pull()
    await worker.push(
        worker.put("legal_event", notice, case_id, {"notice_kind": "ordinary"}, base=worker.records[notice]["version"])
    )
    assert await schonfrist() == []


async def test_the_calendar_lists_the_holidays_of_the_organisations_land(
    client: Client, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch, clock: TestClock
) -> None:
    await login(client, "worker1")
    germany = (await client.get("/api/calendar")).json()
    assert (germany["country"], germany["subdivision"]) == ("DE", None)
    year = clock.today().year
    assert f"{year}-12-25" in germany["holidays"]
    assert f"{year}-03-08" not in germany["holidays"]
    assert await set_region(settings, monkeypatch, "DE", "BE") == 0
    berlin = (await client.get("/api/calendar")).json()
    assert f"{year}-03-08" in berlin["holidays"]  # Internationaler Frauentag, a holiday in Berlin only
    assert await set_region(settings, monkeypatch, "AT") == 0
    austria = (await client.get("/api/calendar")).json()
    assert f"{year}-10-26" in austria["holidays"]  # Nationalfeiertag
    assert await set_region(settings, monkeypatch, "DE", "XX") == 2
    assert await set_region(settings, monkeypatch, "FR") == 2


async def test_a_deadline_within_three_days_reminds_the_worker_once(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    body = await login(client, "worker1")
    worker = Device(client, body)
    lawsuit = new_id()
    # Served Monday 2 March 2026: the Verteidigungsanzeige is due Monday 16 March; on 14 March it is close. No notice
    # is recorded, so there is no Schonfrist.
    served = "2026-03-02"
    await worker.push(worker.put("legal_event", lawsuit, case_id, {"type": "eviction_lawsuit", "served_on": served}))
    early, close = dt.datetime(2026, 3, 12, 9, tzinfo=dt.UTC), dt.datetime(2026, 3, 14, 9, tzinfo=dt.UTC)
    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    sessions = session_factory(engine)
    zone = ZoneInfo("Europe/Berlin")
    try:
        await subscribe(sessions, body["device_id"], org.worker1_id)
        assert await remind_deadlines(sessions, keyring, zone, early) == 0  # four days before: not yet
        assert await remind_deadlines(sessions, keyring, zone, close) == 1
        assert await remind_deadlines(sessions, keyring, zone, close) == 0  # once per deadline and date
        async with sessions() as db:
            jobs = (await db.scalars(select(PushJob).where(PushJob.event == "deadline_soon"))).all()
        assert [(j.ref_id, j.state) for j in jobs] == [(uuid.UUID(case_id), "pending")]
        # Another case whose deadline is done reminds nobody.
        other, _ = await supervisor_creates_case(app, org, org.worker1_id)
        event = new_id()
        await worker.push(
            worker.put("legal_event", event, other, {"type": "eviction_lawsuit", "served_on": served}),
            worker.put(
                "action",
                str(derived_id(event, "de.verteidigungsanzeige")),
                other,
                {"title": "Verteidigungsanzeige", "due_on": "2026-03-16", "status": "done"},
            ),
        )
        assert await remind_deadlines(sessions, keyring, zone, close) == 0
    finally:
        await engine.dispose()


async def test_assessment_version_2_takes_dates_rent_and_consents_from_the_records(
    app: Litestar, client: Client, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    asked_again = {"form_version": 2, "housing": {"net_rent_cents": 51240}, "arrears": {"court_date": "2026-12-03"}}
    old_form = {"form_version": 1, "housing": {"net_rent_cents": 51240}, "arrears": {"court_date": "2026-12-03"}}
    new_form = {"form_version": 2, "housing": {"main_residence_registered": True}, "arrears": {"rent_arrears_cents": 1}}
    results = await worker.push(
        worker.put("assessment", new_id(), case_id, asked_again),
        worker.put("assessment", new_id(), case_id, old_form),
        worker.put("assessment", new_id(), case_id, new_form),
    )
    assert [r["status"] for r in results] == ["rejected", "applied", "applied"]
    assert (results[0]["error"]["code"], results[0]["error"]["field"]) == ("validation", "housing")
    assert "from the case's records" in results[0]["error"]["detail"]


async def test_a_consent_past_its_end_allows_no_new_referral(app: Litestar, client: Client, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    worker = Device(client, await login(client, "worker1"))
    expired, current = new_id(), new_id()
    consent = {"purpose": "Schuldnerberatung", "scope": ["Schuldnerberatung Beispielstadt"], "form": "written"}
    results = await worker.push(
        worker.put("consent", expired, case_id, {**consent, "given_on": "2025-01-10", "valid_until": "2025-12-31"}),
        worker.put("consent", current, case_id, {**consent, "given_on": "2026-01-10"}),
        worker.put("referral", new_id(), case_id, {"service": "Schuldnerberatung", "consent_id": expired}),
        worker.put("referral", new_id(), case_id, {"service": "Schuldnerberatung", "consent_id": current}),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "rejected", "applied"]
    assert results[2]["error"]["field"] == "consent_id"
    assert "expired" in results[2]["error"]["detail"]


@calendar_matrix
async def test_on_any_day_a_lawsuit_served_today_is_due_on_a_working_day_and_reminded_three_days_ahead(
    app: Litestar, client: Client, org: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch, clock: TestClock
) -> None:
    """Counted by hand: two weeks from today, then the next working day in Berlin (§ 222 Abs. 2 ZPO); the reminder
    comes on the third day before, not on the fourth."""
    assert await set_region(settings, monkeypatch, "DE", "BE") == 0
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    body = await login(client, "worker1")
    worker = Device(client, body)
    lawsuit = {"type": "eviction_lawsuit", "served_on": clock.day(0)}
    (pushed,) = await worker.push(worker.put("legal_event", new_id(), case_id, lawsuit))
    assert pushed["status"] == "applied"
    due = Calendar(Region("DE", "BE")).next_working_day(clock.today() + dt.timedelta(days=14))
    found = {d["rule"]: d for d in (await client.get(f"/api/cases/{case_id}")).json()["deadlines"]}
    assert found["de.verteidigungsanzeige"]["due_on"] == due.isoformat()

    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    sessions = session_factory(engine)
    try:
        await subscribe(sessions, body["device_id"], org.worker1_id)

        def morning(days_before: int) -> dt.datetime:
            return dt.datetime.combine(due - dt.timedelta(days=days_before), dt.time(8), tzinfo=BERLIN)

        assert await remind_deadlines(sessions, keyring, BERLIN, morning(4)) == 0
        assert await remind_deadlines(sessions, keyring, BERLIN, morning(3)) == 1
    finally:
        await engine.dispose()


async def test_a_deadline_reminded_before_a_handover_is_reminded_to_the_new_worker(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    body = await login(client, "worker1")
    worker = Device(client, body)
    lawsuit = {"type": "eviction_lawsuit", "served_on": "2026-03-02"}  # Verteidigungsanzeige due Monday 16 March
    await worker.push(worker.put("legal_event", new_id(), case_id, lawsuit))
    close = dt.datetime(2026, 3, 14, 9, tzinfo=dt.UTC)
    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    sessions = session_factory(engine)
    try:
        async with client_from(app) as other:
            second = await login(other, "worker2")
            await subscribe(sessions, body["device_id"], org.worker1_id)
            await subscribe(sessions, second["device_id"], org.worker2_id)
            assert await remind_deadlines(sessions, keyring, BERLIN, close) == 1
            async with client_from(app) as office:
                boss = Device(office, await login(office, "supervisor"))
                await boss.pull()
                handover = {"assigned_worker_id": str(org.worker2_id)}
                base = boss.records[case_id]["version"]
                assert (await boss.push(boss.put("case", case_id, case_id, handover, base=base)))[0][
                    "status"
                ] == "applied"
            assert await remind_deadlines(sessions, keyring, BERLIN, close) == 1
            async with sessions() as db:
                reminded = (
                    (
                        await db.execute(
                            select(PushSubscription.user_id)
                            .join(PushJob, PushJob.subscription_id == PushSubscription.id)
                            .where(PushJob.event == "deadline_soon")
                            .order_by(PushJob.created_at)
                        )
                    )
                    .scalars()
                    .all()
                )
            assert reminded == [org.worker1_id, org.worker2_id]
    finally:
        await engine.dispose()
