"""The front door: property management hands a household over and sees only its coarse course; the team's
supervisor takes it on once (a new case, or the household's open case linked) or declines it; the office imports
the landlord's list as CSV, every row or none, and a repeat creates nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from server.auth.models import Role
from server.auth.state import AuthState
from server.db import create_engine, session_factory
from server.intake.forget import forget_declined
from server.intake.models import Referral
from server.jobs.outreach import plan_outreach_visits
from server.plugin import service_of
from server.records.keyring import Keyring
from server.records.models import AttachmentChunk, Record
from server.records.standing import add_months
from tests.api.test_legal import set_region
from tests.support import clock as pinned
from tests.support.accounts import Org, add_user, login
from tests.support.app import client_from
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")

NOTE = "Mieterin wirkt überfordert, Sohn im Krankenhaus"  # for the team only
REFERRAL = {
    "tenant_name": "Erika Musterfrau",
    "street": "Lindenweg",
    "house_number": "4",
    "postcode": "12345",
    "city": "Beispielstadt",
    "contract_number": "VN-4711",
    "reason": "arrears",
    "rent_arrears_cents": 184000,
    "service_charge_arrears_cents": 23000,
    "lawsuit_served_on": pinned.day(-5),
    "note": NOTE,
}
SEEN_BY_REFERRER = {"id", "received_at", "tenant_name", "contract_number", "stage"}


@pytest.fixture
async def referrers(app: Litestar, org: Org, password_hash: str) -> tuple[uuid.UUID, uuid.UUID]:
    url = service_of(app, AuthState).settings.resolved_database_url
    return (
        await add_user(url, "hausverwaltung", Role.REFERRER, org.team_id, password_hash),
        await add_user(url, "forderung", Role.REFERRER, org.team_id, password_hash),
    )


async def submit(client: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    return await client.post("/api/referrals", json={**REFERRAL, **changes})


async def stage(client: httpx.AsyncClient, referral_id: str) -> str:
    listed = (await client.get("/api/referrals")).json()
    return str(next(r["stage"] for r in listed if r["id"] == referral_id))


async def test_a_referrer_sees_only_their_referrals_and_the_coarse_course(
    app: Litestar, client: httpx.AsyncClient, org: Org, referrers: Any
) -> None:
    await login(client, "hausverwaltung")
    made = await submit(client)
    assert made.status_code == 201, made.text
    referral = made.json()
    assert set(referral) == SEEN_BY_REFERRER
    assert referral["stage"] == "received"
    # Nothing else of Doorstep: no case, no sync, no figures, no colleagues, not even the inbox.
    for path in ("/api/cases", "/api/sync/pull", "/api/reports", "/api/users", "/api/referrals/inbox"):
        assert (await client.get(path, params={"start": "2025-01-01", "end": "2025-12-31"})).status_code == 403, path
    await login(client, "forderung")
    assert (await client.get("/api/referrals")).json() == []  # another referrer's referral is not theirs

    # The team takes it on; the worker tries, reaches the tenant, and the case closes: the referrer follows the
    # course and never reads a note, an outcome or a name of the team.
    async with client_from(app) as office:
        await login(office, "supervisor")
        inbox = (await office.get("/api/referrals/inbox")).json()
        assert [item["fields"]["note"] for item in inbox] == [NOTE]
        accepted = await office.post(f"/api/referrals/{referral['id']}/accept", json={"worker_id": str(org.worker1_id)})
        assert accepted.status_code == 200, accepted.text
        case_id = accepted.json()["case_id"]
    async with client_from(app) as tablet:
        worker = Device(tablet, await login(tablet, "worker1"))
        await worker.pull()
        case = worker.records[case_id]["fields"]
        assert (case["trigger"], case["phase"], case["assigned_worker_id"]) == (
            "receivables",
            "court",
            str(org.worker1_id),
        )
        kinds = sorted(r["kind"] for r in worker.records.values() if r["case_id"] == case_id)
        assert kinds == ["assessment", "case", "household", "legal_event"]
        household = next(r["fields"] for r in worker.records.values() if r["kind"] == "household")
        assert (household["contract_number"], household["members"][0]["name"]) == ("VN-4711", "Erika Musterfrau")
        courses = []
        for fields in (
            {"channel": "phone", "reached": False},
            {"channel": "home_visit", "reached": True},
        ):
            await worker.push(worker.put("contact", new_id(), case_id, {**fields, "at": pinned.now().isoformat()}))
            await login(client, "hausverwaltung")
            courses.append(await stage(client, referral["id"]))
        assert courses == ["contact_attempted", "in_counselling"]
        boss = Device(tablet, await login(tablet, "supervisor"))
        await boss.pull()
        closed = {"status": "closed", "closed_on": pinned.day(), "outcome": "secured_installment"}
        version = boss.records[case_id]["version"]
        assert (await boss.push(boss.put("case", case_id, case_id, closed, version)))[0]["status"] == "applied"
    await login(client, "hausverwaltung")
    listed = (await client.get("/api/referrals")).json()
    assert [set(r) for r in listed] == [SEEN_BY_REFERRER]
    assert listed[0]["stage"] == "closed"
    text = (await client.get("/api/referrals")).text
    assert NOTE not in text
    assert "secured" not in text


async def test_the_content_is_sealed_and_accepting_twice_is_refused(
    app: Litestar, client: httpx.AsyncClient, org: Org, referrers: Any
) -> None:
    await login(client, "hausverwaltung")
    referral = (await submit(client)).json()
    settings = service_of(app, AuthState).settings
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        row = await db.get(Referral, uuid.UUID(referral["id"]))
        assert row is not None
        assert row.blob is not None
        assert b"Musterfrau" not in row.blob
        assert b"VN-4711" not in row.blob
        assert row.contract_token is not None
        assert b"VN-4711" not in row.contract_token
    await login(client, "supervisor")
    first = await client.post(f"/api/referrals/{referral['id']}/accept", json={})
    again = await client.post(f"/api/referrals/{referral['id']}/accept", json={})
    assert (first.status_code, again.status_code) == (200, 409)
    async with session_factory(engine)() as db:
        cases = await db.scalar(select(func.count()).select_from(Record).where(Record.kind == "case"))
    await engine.dispose()
    assert cases == 1
    assert first.json()["case_id"] == referral["id"]  # the referral's key became the case's
    # A worker of the team, or nobody: never someone else.
    await login(client, "hausverwaltung")
    other = (await submit(client, contract_number="VN-9", street="Ahornweg", tenant_name="Max Beispiel")).json()
    await login(client, "supervisor")
    wrong = await client.post(f"/api/referrals/{other['id']}/accept", json={"worker_id": str(org.other_worker_id)})
    assert (wrong.status_code, wrong.json()["field"]) == (400, "worker_id")


async def test_the_household_s_open_case_is_linked_not_duplicated(
    app: Litestar, client: httpx.AsyncClient, org: Org, referrers: Any
) -> None:
    await login(client, "hausverwaltung")
    first = (await submit(client)).json()
    await login(client, "supervisor")
    made = (await client.post(f"/api/referrals/{first['id']}/accept", json={})).json()
    # The same flat again, under another contract number (a new tenancy, a typo): the open case is linked.
    await login(client, "hausverwaltung")
    second = (await submit(client, contract_number="VN-4712", tenant_name="E. Musterfrau")).json()
    await login(client, "supervisor")
    inbox = {item["id"]: item for item in (await client.get("/api/referrals/inbox")).json()}
    assert [d["case_id"] for d in inbox[second["id"]]["duplicates"]] == [made["case_id"]]
    linked = (await client.post(f"/api/referrals/{second['id']}/accept", json={})).json()
    assert (linked["case_id"], linked["created"]) == (made["case_id"], False)
    settings = service_of(app, AuthState).settings
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        assert await db.scalar(select(func.count()).select_from(Record).where(Record.kind == "case")) == 1
    await engine.dispose()


async def test_a_tenancy_in_hand_is_not_handed_over_twice_and_a_declined_one_may_come_again(
    client: httpx.AsyncClient, referrers: Any
) -> None:
    await login(client, "hausverwaltung")
    first = (await submit(client)).json()
    again = await submit(client, contract_number=" vn-4711 ")  # the same number, typed differently
    assert again.status_code == 409
    await login(client, "supervisor")
    declined = await client.post(f"/api/referrals/{first['id']}/decline", json={"reason": "settled"})
    assert declined.status_code == 204
    assert (await client.post(f"/api/referrals/{first['id']}/decline", json={"reason": "other"})).status_code == 409
    bad = await client.post(f"/api/referrals/{first['id']}/decline", json={"reason": "weil"})
    assert bad.status_code == 400
    await login(client, "hausverwaltung")
    assert await stage(client, first["id"]) == "closed"
    assert (await submit(client)).status_code == 201


CSV = (
    "Name;Straße;Hausnummer;PLZ;Ort;Vertragsnummer;Mietrückstand;Nebenkostenrückstand;Klage zugestellt am\r\n"
    "Anna Albers;Birkenweg;1;12345;Beispielstadt;VN-1;1.250,00;80,50;\r\n"
    "Bernd Brandt;Birkenweg;3;12345;Beispielstadt;VN-2;900;;01.12.2026\r\n"
    "Cem Celik;Eichenweg;7a;12345;Beispielstadt;VN-3;2.100,00;;\r\n"
)


async def test_the_landlord_s_list_is_imported_whole_once_or_not_at_all(
    app: Litestar, client: httpx.AsyncClient, referrers: Any
) -> None:
    await login(client, "supervisor")
    headers = {"Content-Type": "text/csv; charset=utf-8"}
    first = await client.post("/api/referrals/import", content=("\ufeff" + CSV).encode(), headers=headers)
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["repeats"]) == (3, [])
    again = (await client.post("/api/referrals/import", content=CSV.encode(), headers=headers)).json()
    assert (again["created"], again["repeats"]) == (0, [2, 3, 4])
    # One wrong row: nothing of the file is taken, and every wrong row is named by its line and column.
    wrong = CSV.replace("VN-1;1.250,00", "VN-10;zwölf").replace("VN-3", "VN-30").replace(";01.12.2026", ";1.13.2026")
    wrong = wrong.replace("VN-2;", "VN-20;")
    refused = await client.post("/api/referrals/import", content=wrong.encode(), headers=headers)
    assert refused.status_code == 400
    rows = refused.json()["rows"]
    assert [(r["line"], r["field"]) for r in rows] == [(2, "mietrückstand"), (3, "klage zugestellt am")]
    assert "nothing of the file was taken" in refused.json()["detail"]
    inbox = (await client.get("/api/referrals/inbox")).json()
    assert sorted(item["fields"]["contract_number"] for item in inbox) == ["VN-1", "VN-2", "VN-3"]
    amounts = {item["fields"]["tenant_name"]: item["fields"]["rent_arrears_cents"] for item in inbox}
    assert amounts == {"Anna Albers": 125000, "Bernd Brandt": 90000, "Cem Celik": 210000}
    assert (
        await client.post("/api/referrals/import", content=b"x", headers={"Content-Type": "application/json"})
    ).status_code == 415
    await login(client, "hausverwaltung")
    assert (await client.post("/api/referrals/import", content=CSV.encode(), headers=headers)).status_code == 403


def notice(**changes: Any) -> dict[str, Any]:
    return {
        "court": "Amtsgericht Beispielstadt",
        "reference": "12 C 345/26",
        "filed_on": pinned.day(-9),
        "tenant_name": "Jonas Beispiel",
        "street": "Ahornweg",
        "house_number": "9",
        "postcode": "12345",
        "city": "Beispielstadt",
        **changes,
    }


async def deadlines(client: httpx.AsyncClient, case_id: str) -> dict[str, dict[str, Any]]:
    detail = (await client.get(f"/api/cases/{case_id}")).json()
    return {d["rule"]: d for d in detail["deadlines"]}


async def test_the_court_s_notices_become_cases_with_their_deadline_once(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    await login(client, "supervisor")
    served = notice(reference="12 C 346/26", served_on=pinned.day(-3), tenant_name="Anna Albers", street="Birkenweg")
    batch = {"notices": [notice(), served], "worker_id": str(org.worker1_id)}
    entered = await client.post("/api/court-notices", json=batch)
    assert entered.status_code == 200, entered.text
    first, second = entered.json()
    assert (first["created"], second["created"], first["repeat"]) == (True, True, False)
    # Filed, not yet served: the Schonfrist shows, provisional until the service is recorded; served: counted from
    # the service. Both wait for the notice's kind (only a fristlose one is cured), which the court's notice omits.
    provisional = (await deadlines(client, first["case_id"]))["de.schonfrist"]
    assert provisional["provisional"] == ["notice_kind", "lawsuit_served"]
    sure = (await deadlines(client, second["case_id"]))["de.schonfrist"]
    assert sure["provisional"] == ["notice_kind"]
    assert sure["due_on"] >= add_months(pinned.today() - dt.timedelta(days=3), 2).isoformat()  # or the next working day
    detail = (await client.get(f"/api/cases/{first['case_id']}")).json()
    case = detail["case"]["fields"]
    assert (case["trigger"], case["phase"], case["assigned_worker_id"]) == (
        "court_notice",
        "court",
        str(org.worker1_id),
    )
    actions = [r["fields"]["title"] for r in detail["records"] if r["kind"] == "action"]
    assert actions == ["Erstanschreiben: Hilfeangebot schicken"]
    # The same batch again: nothing twice. The same household under a new Aktenzeichen: a step on its open case.
    again = (await client.post("/api/court-notices", json=batch)).json()
    assert [(r["repeat"], r["case_id"]) for r in again] == [(True, None), (True, None)]
    moved = (await client.post("/api/court-notices", json={"notices": [notice(reference="12 C 999/26")]})).json()
    assert (moved[0]["case_id"], moved[0]["created"]) == (first["case_id"], False)
    steps = [
        r for r in (await client.get(f"/api/cases/{first['case_id']}")).json()["records"] if r["kind"] == "legal_event"
    ]
    assert len(steps) == 2
    # A wrong batch is taken not at all.
    bad = await client.post("/api/court-notices", json={"notices": [notice(reference="1 C 1/26", filed_on=None)]})
    assert bad.status_code == 400
    await login(client, "worker1")
    assert (await client.post("/api/court-notices", json=batch)).status_code == 403


async def test_an_austrian_team_s_notice_brings_the_reminder_of_section_33_mrg(
    app: Litestar, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = service_of(app, AuthState).settings
    assert await set_region(settings, monkeypatch, "AT", "9") == 0
    await login(client, "supervisor")
    rows = (
        "Gericht;Aktenzeichen;Eingereicht am;Zugestellt am;Name;Straße;Hausnummer;PLZ;Ort\n"
        f"BG Favoriten;5 C 77/26;{pinned.today().strftime('%d.%m.%Y')};;Mehmet Yilmaz;Quellenstraße;12;1100;Wien\n"
    )
    entered = await client.post(
        "/api/court-notices/import", content=rows.encode(), headers={"Content-Type": "text/csv"}
    )
    assert entered.status_code == 200, entered.text
    (result,) = entered.json()
    rules = await deadlines(client, result["case_id"])
    assert "de.schonfrist" not in rules
    assert rules["at.zahlung_33_mrg"]["provisional"] == ["court_date", "lawsuit_served"]
    wrong = rows.replace(";5 C 77/26;", ";;")
    refused = await client.post(
        "/api/court-notices/import", content=wrong.encode(), headers={"Content-Type": "text/csv"}
    )
    assert (refused.status_code, refused.json()["rows"][0]["line"]) == (400, 2)


async def test_no_answer_to_the_letters_brings_a_home_visit_once(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    await login(client, "supervisor")
    batch = {
        "notices": [notice(), notice(reference="12 C 2/26", tenant_name="Anna Albers", street="Birkenweg")],
        "worker_id": str(org.worker1_id),
    }
    silent, called = [r["case_id"] for r in (await client.post("/api/court-notices", json=batch)).json()]
    async with client_from(app) as tablet:
        worker = Device(tablet, await login(tablet, "worker1"))
        week_ago = (pinned.now() - dt.timedelta(days=8)).isoformat()
        for case_id in (silent, called):
            letter = {"channel": "letter", "direction": "outgoing", "reached": True, "at": week_ago}
            assert (await worker.push(worker.put("contact", new_id(), case_id, letter)))[0]["status"] == "applied"
        answer = {"channel": "phone", "direction": "incoming", "at": pinned.now().isoformat()}
        await worker.push(worker.put("contact", new_id(), called, answer))  # the tenant called back

        settings = service_of(app, AuthState).settings
        engine = create_engine(settings.resolved_database_url)
        keyring = Keyring(settings)
        await keyring.load(engine)
        sessions = session_factory(engine)
        zone = ZoneInfo("Europe/Berlin")
        try:
            assert await plan_outreach_visits(sessions, keyring, zone, 9) == 0  # not yet nine days
            assert await plan_outreach_visits(sessions, keyring, zone, 7) == 1
            assert await plan_outreach_visits(sessions, keyring, zone, 7) == 0  # once
        finally:
            await engine.dispose()
        await worker.pull()
        visits = [r["fields"] for r in worker.records.values() if r["kind"] == "visit" and not r["deleted"]]
    assert [v["assigned_worker_id"] for v in visits] == [str(org.worker1_id)]
    (visit,) = visits
    assert (visit["status"], visit["planned_by"]) == ("planned", str(org.worker1_id))
    planned = dt.datetime.fromisoformat(visit["planned_at"]).astimezone(zone)
    assert planned.date() > pinned.today()
    assert planned.weekday() < 5
    assert planned.time() == dt.time(10)


PDF = b"%PDF-1.4\n" + b"Kontoauszug " * 200_000 + b"\n%%EOF\n"  # 2.4 MB: two chunks


async def test_the_papers_handed_over_become_the_case_s_documents_sealed(
    app: Litestar, client: httpx.AsyncClient, org: Org, referrers: Any
) -> None:
    await login(client, "hausverwaltung")
    first = (await submit(client)).json()
    second = (await submit(client, contract_number="VN-4712", tenant_name="E. Musterfrau")).json()
    pdf = {"Content-Type": "application/pdf"}
    sent = await client.post(
        f"/api/referrals/{first['id']}/files", params={"title": "Kontoauszug"}, content=PDF, headers=pdf
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["content_type"] == "application/pdf"
    html = b"<html><script>alert(1)</script>"
    assert (await client.post(f"/api/referrals/{first['id']}/files", content=html, headers=pdf)).status_code == 400
    await client.post(f"/api/referrals/{second['id']}/files", params={"title": "Mahnung"}, content=PDF, headers=pdf)
    assert (await client.get(f"/api/referrals/{first['id']}/files/{sent.json()['id']}")).status_code == 403
    await login(client, "forderung")  # another referrer cannot add to it
    assert (await client.post(f"/api/referrals/{first['id']}/files", content=PDF, headers=pdf)).status_code == 404

    settings = service_of(app, AuthState).settings
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        stored = b"".join((await db.scalars(select(AttachmentChunk.blob))).all())
    assert b"Kontoauszug" not in stored

    await login(client, "supervisor")
    inbox = {item["id"]: item for item in (await client.get("/api/referrals/inbox")).json()}
    (paper,) = inbox[first["id"]]["files"]
    assert paper["title"] == "Kontoauszug"
    fetched = await client.get(f"/api/referrals/{first['id']}/files/{paper['id']}")
    assert (fetched.status_code, fetched.content) == (200, PDF)
    made = (await client.post(f"/api/referrals/{first['id']}/accept", json={"worker_id": str(org.worker1_id)})).json()
    linked = (await client.post(f"/api/referrals/{second['id']}/accept", json={})).json()
    assert (linked["case_id"], linked["created"]) == (made["case_id"], False)
    async with client_from(app) as tablet:
        worker = Device(tablet, await login(tablet, "worker1"))
        await worker.pull()
        documents = {r["id"]: r["fields"] for r in worker.records.values() if r["kind"] == "attachment"}
        assert sorted(d["title"] for d in documents.values()) == [
            "Kontoauszug (aus der Meldung)",
            "Mahnung (aus der Meldung)",
        ]
        for document_id in documents:  # both readable in the case, the linked one re-sealed under the case's key
            download = await tablet.get(f"/api/attachments/{document_id}")
            assert (download.status_code, download.content) == (200, PDF)
    await engine.dispose()


async def test_a_declined_referral_is_forgotten_after_its_time(
    app: Litestar, client: httpx.AsyncClient, org: Org, referrers: Any
) -> None:
    await login(client, "hausverwaltung")
    declined = (await submit(client)).json()
    pdf = {"Content-Type": "application/pdf"}
    await client.post(
        f"/api/referrals/{declined['id']}/files", params={"title": "Kontoauszug"}, content=PDF, headers=pdf
    )
    waiting = (await submit(client, contract_number="VN-9", tenant_name="Max Beispiel", street="Ahornweg")).json()
    await login(client, "supervisor")
    assert (
        await client.post(f"/api/referrals/{declined['id']}/decline", json={"reason": "settled"})
    ).status_code == 204

    settings = service_of(app, AuthState).settings
    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    sessions = session_factory(engine)
    try:
        assert await forget_declined(sessions, keyring, pinned.now() - dt.timedelta(days=90)) == 0  # not yet
        assert await forget_declined(sessions, keyring, pinned.now() + dt.timedelta(minutes=1)) == 1
        assert await forget_declined(sessions, keyring, pinned.now() + dt.timedelta(minutes=1)) == 0  # once
        async with sessions() as db:
            row = await db.get(Referral, uuid.UUID(declined["id"]))
            assert row is not None
            assert (row.blob, row.status, row.decline_reason) == (None, "declined", "settled")
            assert not (await keyring.data_keys(db, [row.id]))
            assert await db.scalar(select(func.count()).select_from(AttachmentChunk)) == 0
    finally:
        await engine.dispose()
    await login(client, "hausverwaltung")
    listed = {r["id"]: r for r in (await client.get("/api/referrals")).json()}
    assert (listed[declined["id"]]["tenant_name"], listed[declined["id"]]["stage"]) == ("–", "closed")
    assert listed[waiting["id"]]["tenant_name"] == "Max Beispiel"  # a waiting referral is untouched
