"""The figures a funder and the Land accept, one test per definition of docs/domain.md "Definitions": a consultation
reaches the tenant, an attempt does not, a letter counts when sent; the headline table; how a household the team was
told about was reached; the organisation's figures as the sum of its teams'; the management's print page and CSV;
small cells suppressed; every case with its opening day; "Hilfe abgelehnt" with its reason."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import select, update

from server.auth.state import AuthState
from server.crypto.aead import associated_data, seal
from server.db import create_engine, session_factory
from server.plugin import service_of
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.projection import NOT_READ
from server.records.upgrade import open_days
from server.records.writing import LOCAL_TIME
from tests.support import clock as pinned
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.cases import case_fields
from tests.support.reports import CANARY, Builder, add_manager
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")

YEAR = {"start": "2025-01-01", "end": "2025-12-31"}


def lines(report: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for s in report["sections"] if s["key"] == section for f in s["figures"]}


def statistics(report: dict[str, Any], table: str) -> dict[str, str]:
    return {f["key"].split(".")[-1]: f["text"] for s in report["statistics"] if s["key"] == table for f in s["figures"]}


async def nord(client: httpx.AsyncClient, org: Org) -> Builder:
    return Builder(Device(client, await login(client, "supervisor")), org, str(org.team_id))


def contact(channel: str, at: str, *, reached: bool = True, incoming: bool = False) -> dict[str, Any]:
    return {
        "channel": channel,
        "at": at,
        "reached": reached,
        "direction": "incoming" if incoming else "outgoing",
        "summary": f"mit {CANARY}",
    }


async def test_a_consultation_reaches_the_tenant_an_attempt_does_not_and_a_letter_counts_when_sent(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    async with client_from(app) as writer:
        team = await nord(writer, org)
        case = await team.case("2025-03-01", trigger="receivables", trigger_on="2025-02-25")
        for fields in (
            contact("letter", "2025-03-02T09:00:00+01:00"),  # sent: written help, nobody reached yet
            contact("letter", "2025-03-05T09:00:00+01:00", reached=False),  # came back undelivered: an attempt
            contact("phone", "2025-03-06T09:00:00+01:00", reached=False),  # nobody answered: an attempt
            contact("home_visit", "2025-03-10T09:00:00+01:00"),  # the first consultation
            contact("phone", "2025-03-12T09:00:00+01:00", incoming=True),  # the tenant calls back
            contact("email", "2025-03-13T09:00:00+01:00"),
            contact("email", "2025-03-14T09:00:00+01:00", incoming=True),  # a contact, not help the team gave
            contact("in_person", "2025-03-20T09:00:00+01:00"),
        ):
            await team.put("contact", case, fields)
    await login(client, "worker1")
    for on, channel in (("2025-04-01", "phone"), ("2025-04-02", "in_person"), ("2025-04-03", "email")):
        body = {"on": on, "channel": channel, "topic": "rent_arrears", "duration_minutes": 5, "referred_to": "none"}
        assert (await client.put(f"/api/enquiries/{new_id()}", json=body)).status_code == 201
    await login(client, "supervisor")

    r = (await client.get("/api/reports", params=YEAR)).json()
    assert r["contacts_total"] == 8  # every contact is a contact
    assert r["consultations"] == {"phone": 1, "in_person": 1, "home_visit": 1}
    assert r["attempts"] == {"phone": 1, "email": 0, "sms": 0, "letter": 1, "in_person": 0, "home_visit": 0}
    assert r["written"] == {"email": 1, "sms": 0, "letter": 1}
    assert r["first_contacts"] == 1
    head = lines(r, "key")
    assert head["phone_consultations"]["text"] == "2"  # the call back and the anonymous call
    assert head["phone_consultations"]["detail"] == "davon 1 anonyme Anfragen"
    assert head["personal_consultations"]["text"] == "3"  # visit, office, the anonymous question at the desk
    assert head["written_help"]["text"] == "3"
    assert head["written_help"]["detail"] == "E-Mail 2 · SMS 0 · Brief 1"
    assert all(f["definition"] for f in head.values())  # every headline figure says how it is counted
    reach = lines(r, "reach")
    assert reach["attempts"]["text"] == "2"
    assert "Versuche sind keine Beratungen" in reach["attempts"]["definition"]
    # Told by the landlord, reached at the door after the letters went unanswered, 13 days after the referral.
    assert r["outreach"] == {
        "told": 1,
        "reached_incoming": 0,
        "reached_contact": 0,
        "reached_visit": 0,
        "reached_visit_after_letters": 1,
        "not_reached": 0,
    }
    assert lines(r, "outreach")["outreach.reached"]["detail"] == "100\u00a0% der gemeldeten Haushalte"
    assert statistics(r, "stat.trigger_days")["up_to_14"] == "< 5"


async def test_a_household_told_about_and_never_reached_is_counted_as_such(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    async with client_from(app) as writer:
        team = await nord(writer, org)
        silent = await team.case("2025-05-01", trigger="court_notice")
        await team.put("contact", silent, contact("letter", "2025-05-02T09:00:00+02:00"))
        await team.put("contact", silent, contact("home_visit", "2025-05-09T09:00:00+02:00", reached=False))
        called = await team.case("2025-05-01", trigger="court_notice")
        await team.put("contact", called, contact("phone", "2025-05-03T09:00:00+02:00", incoming=True))
        await team.case("2025-05-01", trigger="self_referral")  # came by itself: not told about
    await login(client, "supervisor")
    r = (await client.get("/api/reports", params=YEAR)).json()
    assert (r["outreach"]["told"], r["outreach"]["not_reached"], r["outreach"]["reached_incoming"]) == (2, 1, 1)
    assert lines(r, "outreach")["outreach.reached"]["detail"] == "50\u00a0% der gemeldeten Haushalte"


async def test_the_organisation_is_the_sum_of_its_teams_and_the_management_prints_and_exports(
    app: Litestar, client: httpx.AsyncClient, org: Org, password_hash: str
) -> None:
    await add_manager(service_of(app, AuthState).settings, org, password_hash)
    async with client_from(app) as writer, client_from(app) as other:
        north = await nord(writer, org)
        south = Builder(Device(other, await login(other, "supervisor2")), org, str(org.other_team_id))
        for team, outcomes in ((north, ("secured", "lost_homeless", "unknown")), (south, ("secured", "no_contact"))):
            for index, outcome in enumerate(outcomes):
                case = await team.case(
                    "2025-02-01", closed="2025-06-30", outcome=outcome, age_group="30_to_39", trigger="notice"
                )
                await team.put("contact", case, contact("phone", f"2025-03-0{index + 1}T09:00:00+01:00"))
                await team.put("contact", case, contact("sms", "2025-03-09T09:00:00+01:00"))
                await team.put("contact", case, contact("home_visit", "2025-04-01T09:00:00+02:00", reached=False))
        await north.case("2025-12-01")  # after the period below: in neither
    period = {"start": "2025-01-01", "end": "2025-11-30"}
    await login(client, "leitung")
    whole = (await client.get("/api/reports/organisation", params=period)).json()
    total, teams = whole["total"]["report"], [t["report"] for t in whole["teams"]]
    counted = 0
    for section in total["sections"]:
        for figure in section["figures"]:
            if figure["unit"] != "count":
                continue
            parts = [lines(team, section["key"])[figure["key"]]["value"] for team in teams]
            assert figure["value"] == sum(parts), (section["key"], figure["key"])
            counted += 1
    assert counted > 60
    assert lines(total, "key")["tenancy_kept"]["value"] == 2
    assert lines(total, "key")["kept_rate"]["detail"] == "2 von 5 abgeschlossenen Fällen"
    # Five cases in the 30s: published for the whole organisation, hidden in each team (3 and 2).
    assert statistics(total, "stat.age_group")["30_to_39"] == "5"
    assert [statistics(team, "stat.age_group")["30_to_39"] for team in teams] == ["< 5", "< 5"]

    page = await client.get("/berichte/jahresbericht", params=period)
    assert page.status_code == 200, page.text
    html = page.text
    assert "<h1>Bericht 1. Januar bis 30. November 2025</h1>" in html
    assert '<tr data-team="Team Nord">' in html
    assert '<tr data-team="Team Süd">' in html
    assert 'data-section="stat.age_group"' in html
    assert CANARY not in html
    export = await client.get("/api/reports/organisation/export", params={**period, "table": "figures"})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][2:5] == [whole["total"]["name"], "Team Nord", "Team Süd"]
    kept = next(row for row in rows if row[1] == "Wohnungen erhalten")
    assert kept[2:5] == ["2", "1", "1"]
    stats = await client.get("/api/reports/organisation/export", params={**period, "table": "statistics"})
    rows = list(csv.reader(io.StringIO(stats.content.decode("utf-8-sig")), delimiter=";"))
    age = next(row for row in rows if row[0] == "Altersgruppe" and row[1] == "30 bis 39")
    assert age[2:5] == ["5", "< 5", "< 5"]
    assert CANARY not in export.text + stats.text

    # A supervisor prints the team's period; a worker prints nothing.
    await login(client, "supervisor")
    own = (await client.get("/berichte/jahresbericht", params=period)).text
    assert "data-team=" not in own
    assert "Team Nord" in own
    assert (await client.get("/api/reports/organisation/export", params=period)).status_code == 403
    await login(client, "worker1")
    assert (await client.get("/berichte/jahresbericht", params=period)).status_code == 403
    bad = await client.get("/berichte/jahresbericht", params={"start": "2025-01-01"})
    assert bad.status_code in (400, 403)


async def test_small_cells_are_never_published(app: Litestar, client: httpx.AsyncClient, org: Org) -> None:
    async with client_from(app) as writer:
        team = await nord(writer, org)
        for group, n in (("30_to_39", 3), ("40_to_49", 6), ("50_to_59", 8)):
            for _ in range(n):
                await team.case("2025-02-01", age_group=group, gender="female")
    await login(client, "supervisor")
    r = (await client.get("/api/reports", params=YEAR)).json()
    age = statistics(r, "stat.age_group")
    # 3 is hidden; 6, the next smallest, too ("x"), so that 17 - 8 does not give the 3 away.
    assert (age["30_to_39"], age["40_to_49"], age["50_to_59"], age["total"]) == ("< 5", "x", "8", "17")
    assert age["unknown"] == "0"
    assert statistics(r, "stat.gender")["female"] == "17"
    assert statistics(r, "stat.household_type")["unknown"] == "17"  # not asked: counted as unknown
    rows = list(
        csv.reader(
            io.StringIO(
                (await client.get("/api/reports/export", params={**YEAR, "table": "statistics"})).content.decode(
                    "utf-8-sig"
                )
            ),
            delimiter=";",
        )
    )
    hidden = next(row for row in rows if row[0] == "Altersgruppe" and row[1] == "30 bis 39")
    assert (hidden[2], hidden[3]) == ("", "< 5")  # no number in the value column either


async def test_every_case_has_its_opening_day(app: Litestar, client: httpx.AsyncClient, org: Org) -> None:
    settings = service_of(app, AuthState).settings
    device = Device(client, await login(client, "supervisor"))
    case_id = new_id()
    (made,) = await device.push(device.put("case", case_id, case_id, case_fields(org, org.worker1_id)))
    assert made["status"] == "applied"
    await device.pull()
    today = pinned.now().astimezone(LOCAL_TIME).date()
    assert device.records[case_id]["fields"]["opened_on"] == today.isoformat()
    version = device.records[case_id]["version"]
    (cleared,) = await device.push(device.put("case", case_id, case_id, {"opened_on": None}, version))
    assert (cleared["status"], cleared["error"]["field"]) == ("rejected", "opened_on")

    # A case stored before the day was required: opened on the day it was stored, once, as a new version.
    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    sessions = session_factory(engine)
    stored = dt.datetime(2025, 3, 4, 23, 30, tzinfo=dt.UTC)  # 5 March in Berlin
    try:
        async with sessions() as db:
            key = (await keyring.data_keys(db, [uuid.UUID(case_id)]))[uuid.UUID(case_id)]
            aad = associated_data("case", uuid.UUID(case_id), uuid.UUID(case_id), "fields", 2, key.dek_id)
            old = {k: v for k, v in device.records[case_id]["fields"].items() if k != "opened_on" and v is not None}
            blob = seal(key.key, msgspec.json.encode(old), aad, kek_version=key.kek_version, dek_id=key.dek_id)
            await db.execute(
                update(Record)
                .where(Record.id == uuid.UUID(case_id))
                .values(blob=blob, minutes=NOT_READ, created_at=stored)
            )
            await db.commit()
        assert await open_days(sessions, keyring) == 1
        assert await open_days(sessions, keyring) == 0
        async with sessions() as db:
            row = (await db.scalars(select(Record).where(Record.id == uuid.UUID(case_id)))).one()
            assert (row.version > version, row.minutes) == (True, None)
    finally:
        await engine.dispose()
    await device.pull()
    assert device.records[case_id]["fields"]["opened_on"] == "2025-03-05"


async def test_help_declined_needs_its_reason_and_is_an_outcome_of_its_own(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    device = Device(client, await login(client, "supervisor"))
    case_id = new_id()
    closed = {"opened_on": "2025-02-01", "status": "closed", "closed_on": "2025-04-01", "outcome": "help_declined"}
    fields = {**case_fields(org, None), **closed}
    (refused,) = await device.push(device.put("case", case_id, case_id, fields))
    assert (refused["status"], refused["error"]["field"]) == ("rejected", "declined_reason")
    (made,) = await device.push(device.put("case", case_id, case_id, {**fields, "declined_reason": "other_help"}))
    assert made["status"] == "applied"
    r = (await client.get("/api/reports", params=YEAR)).json()
    assert (r["outcomes"]["help_declined"], r["closed_reached"], r["tenancy_kept"]) == (1, 1, 0)
    outcome = lines(r, "outcomes")["outcome.help_declined"]
    assert (outcome["label"], outcome["tone"]) == ("Hilfe abgelehnt", "neutral")
