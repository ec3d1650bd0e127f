"""Board reports from a known set of records: every figure exactly, with the edge cases that make reports wrong
(a reopened case, a changed outcome, contacts on the period's boundaries in local time, a mediation with three
households, another team's records), plus the charts, the CSV exports and the printable annual report."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select, update

from server.audit import AuditEntry
from server.auth.state import AuthState
from server.db import create_engine, session_factory
from server.plugin import service_of
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.projection import NOT_READ, fill_minutes
from tests.support.accounts import Org, login
from tests.support.app import client_from
from tests.support.reports import CANARY, Builder
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")

YEAR = {"start": "2025-01-01", "end": "2025-12-31"}


async def build(app: Litestar, org: Org) -> dict[str, str]:
    async with client_from(app) as client:
        nord = Builder(Device(client, await login(client, "supervisor")), org, str(org.team_id))
        c1 = await nord.case("2024-11-10", first_contact_on="2024-11-05", closed="2025-02-10", outcome="secured")
        c2 = await nord.case("2025-03-01", closed="2025-06-30", outcome="secured_installment")
        c3 = await nord.case("2025-04-15", closed="2025-09-15", outcome="lost_homeless")
        c4 = await nord.case("2025-01-20", closed="2025-05-05", outcome="no_contact")
        await nord.change("case", c4, c4, {"outcome": "secured_benefit"})  # outcome corrected later
        c5 = await nord.case("2025-02-01", closed="2025-07-01", outcome="moved_affordable")
        await nord.change("case", c5, c5, {"status": "open", "outcome": None, "closed_on": None, "reopen_reason": "x"})
        await nord.case("2023-05-01", closed="2024-12-20", outcome="secured")  # closed before the period
        await nord.case("2025-12-31")  # opened on the last day
        parties = [await nord.case("2025-05-01", type="neighbour_conflict") for _ in range(3)]

        contacts = [
            ("phone", "2025-01-01T00:30:00+01:00"),  # 23:30 UTC on 31 December 2024: in 2025 locally
            ("phone", "2024-12-31T23:30:00+01:00"),  # not in 2025
            ("email", "2025-12-31T23:59:00+01:00"),
            ("sms", "2026-01-01T00:00:00+01:00"),  # not in 2025
            ("home_visit", "2025-06-15T10:00:00+02:00"),
            ("in_person", "2025-06-16T10:00:00+02:00"),
            ("letter", "2025-07-01T09:00:00+02:00"),
            ("sms", "2025-08-01T09:00:00+02:00"),
        ]
        for channel, at in contacts:
            await nord.put("contact", c2, {"channel": channel, "at": at, "summary": f"mit {CANARY}"})
        await nord.put(
            "mediation",
            parties[0],
            {
                "party_case_ids": parties,
                "sessions": [
                    {"on": "2025-06-01", "outcome": "Ruhezeiten"},
                    {"on": "2025-07-01", "outcome": "Einigung"},
                ],
                "agreement_reached": True,
            },
        )
        await nord.put("mediation", parties[0], {"party_case_ids": parties[:2], "sessions": [{"on": "2024-12-01"}]})
        await nord.put("mediation", parties[1], {"party_case_ids": parties[1:], "sessions": [{"on": "2025-10-01"}]})

        for fields in (
            {
                "kind": "wohngeld",
                "decision": "granted",
                "decided_on": "2025-04-01",
                "amount_cents": 120000,
                "form": "grant",
            },
            {
                "kind": "debt_takeover_loan",
                "decision": "granted",
                "decided_on": "2025-05-10",
                "amount_cents": 153720,
                "form": "loan",
            },
            {
                "kind": "debt_takeover_grant",
                "decision": "partly_granted",
                "decided_on": "2025-06-01",
                "amount_cents": 50000,
                "form": "grant",
            },
            {"kind": "wohngeld", "decision": "refused", "decided_on": "2025-06-01", "amount_cents": 99900},
            {
                "kind": "wohnbeihilfe",
                "decision": "granted",
                "decided_on": "2024-12-15",
                "amount_cents": 77700,
                "form": "grant",
            },
            {"kind": "wohngeld", "decision": "granted", "decided_on": "2025-11-01", "amount_cents": 30000},
            # A monthly Wohngeld of 210 EUR for twelve months: counted per month, never added to the one-off sums.
            {
                "kind": "wohngeld",
                "decision": "granted",
                "decided_on": "2025-07-01",
                "amount_cents": 21000,
                "form": "grant",
                "period": "monthly",
                "months": 12,
            },
        ):
            await nord.put("benefit_application", c2, {**fields, "submitted_on": "2024-12-01"})

        def paid(*days: str) -> list[dict[str, Any]]:
            return [{"due_on": d, "amount_cents": 10000, "paid_on": d} for d in days]

        def missed(day: str) -> dict[str, Any]:
            return {"due_on": day, "amount_cents": 10000, "paid_on": None, "missed": True}

        agreement = {"creditor": "landlord", "monthly_rate_cents": 10000}
        for fields in (
            {
                "total_cents": 30000,
                "start_on": "2025-01-01",
                "payments": paid("2025-01-01", "2025-02-01", "2025-03-01"),
            },
            {
                "total_cents": 120000,
                "start_on": "2025-10-01",
                "payments": [*paid("2025-10-01", "2025-11-01"), missed("2025-12-01")],
            },
            {"total_cents": 100000, "start_on": "2025-09-01", "payments": [missed("2025-09-01"), missed("2025-10-01")]},
            {"total_cents": 20000, "start_on": "2025-11-01"},  # due, but nobody recorded whether it came
            {"total_cents": 50000, "start_on": "2025-12-15", "payments": paid("2025-12-15")},
            {"total_cents": 50000, "start_on": "2025-02-01", "status": "cancelled"},
        ):
            await nord.put("installment_agreement", c3, {**agreement, **fields})

        await nord.put("visit", c1, {"planned_at": "2025-10-01T09:00:00+02:00", "status": "planned"})  # overdue
        await nord.put("visit", c2, {"planned_at": "2099-01-01T09:00:00+01:00", "status": "planned"})

        # Team Süd: none of this may appear in Team Nord's report.
        sued = Builder(Device(client, await login(client, "supervisor2")), org, str(org.other_team_id))
        other = await sued.case("2025-02-01", closed="2025-03-03", outcome="secured")
        await sued.put("contact", other, {"channel": "phone", "at": "2025-03-01T10:00:00+01:00"})
        await sued.put(
            "benefit_application",
            other,
            {"kind": "wohngeld", "decision": "granted", "decided_on": "2025-03-01", "amount_cents": 1},
        )
    return {"c1": c1, "c2": c2}


async def report(client: httpx.AsyncClient, path: str = "/api/reports", **params: str) -> httpx.Response:
    return await client.get(path, params={**YEAR, **params})


async def test_every_figure_of_a_known_year(app: Litestar, client: httpx.AsyncClient, org: Org) -> None:
    await build(app, org)
    await login(client, "supervisor")
    response = await report(client)
    assert response.status_code == 200, response.text
    r = response.json()
    assert r["households_supported"] == 9
    assert r["new_cases"] == 8
    assert r["closed_cases"] == 5  # the move closed in July counts in 2025 although the case was reopened since
    assert r["outcomes"] == {
        "secured": 1,
        "secured_installment": 1,
        "secured_benefit": 1,
        "moved_affordable": 1,
        "lost_housed": 0,
        "lost_homeless": 1,
        "unknown": 0,
        "help_declined": 0,
        "no_contact": 0,
    }
    assert (r["tenancy_kept"], r["kept_rate"], r["homelessness_avoided"], r["avoided_rate"]) == (3, 0.6, 4, 0.8)
    assert (r["closed_reached"], r["kept_rate_reached"]) == (5, 0.6)
    assert r["corrections"] == 5  # every 2025 closure here was entered after 2025 had ended
    assert r["median_days_to_closure"] == 121.0  # 97, 105, 121, 150, 153 days
    assert r["contacts"] == {"phone": 1, "email": 1, "sms": 1, "letter": 1, "in_person": 1, "home_visit": 1}
    assert r["contacts_total"] == 6
    assert (r["mediations_held"], r["mediations_resolved"], r["mediation_households"]) == (2, 1, 5)
    assert r["money"] == [
        {
            "kind": "wohngeld",
            "applications": 3,
            "grant_cents": 120000,
            "loan_cents": 0,
            "unspecified_cents": 30000,
            "monthly_cents": 21000,
            "monthly_total_cents": 252000,  # 210 EUR for 12 months
        },
        {
            "kind": "debt_takeover_loan",
            "applications": 1,
            "grant_cents": 0,
            "loan_cents": 153720,
            "unspecified_cents": 0,
            "monthly_cents": 0,
            "monthly_total_cents": 0,
        },
        {
            "kind": "debt_takeover_grant",
            "applications": 1,
            "grant_cents": 50000,
            "loan_cents": 0,
            "unspecified_cents": 0,
            "monthly_cents": 0,
            "monthly_total_cents": 0,
        },
    ]
    assert (r["money_grant_cents"], r["money_loan_cents"], r["money_monthly_cents"]) == (170000, 153720, 21000)
    assert r["installments"] == {"kept": 1, "unrecorded": 1, "behind": 1, "broken": 1, "completed": 1, "cancelled": 1}
    assert "overdue_visits" not in r  # a snapshot of today belongs to the dashboard, not to a period's report
    months = {m["month"]: m for m in r["months"]}
    assert len(months) == 12
    assert months["2025-02"] == {"month": "2025-02", "closed": 1, "kept": 1, "kept_rate": 1.0, "contacts": 0}
    assert months["2025-09"]["kept_rate"] == 0.0
    assert months["2025-03"]["kept_rate"] is None
    assert [months[m]["contacts"] for m in ("2025-01", "2025-06", "2025-07", "2025-08", "2025-12")] == [1, 2, 1, 1, 1]
    assert set(r["definitions"]) >= {
        "households_supported",
        "tenancy_kept",
        "rates",
        "contacts",
        "money",
        "median_days",
    }


async def test_reports_are_for_supervisors_audited_and_validated(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    await login(client, "worker1")
    assert (await report(client)).status_code == 403
    await login(client, "supervisor")
    assert (await client.get("/api/reports", params={"start": "2025-12-31", "end": "2025-01-01"})).json()[
        "field"
    ] == "end"
    assert (await client.get("/api/reports", params={"start": "2025-02-30", "end": "2025-12-31"})).status_code == 400
    assert (await report(client)).status_code == 200
    settings = service_of(app, AuthState).settings
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        actions = (await db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("report.read%")))).all()
    await engine.dispose()
    assert actions == ["report.read:2025-01-01..2025-12-31"]


async def test_charts_are_accessible_svg_with_their_values(app: Litestar, client: httpx.AsyncClient, org: Org) -> None:
    await build(app, org)
    await login(client, "supervisor")
    for name, expected in (
        ("success", "Wohnung erhalten, nach Monat des Abschlusses (gesamt 60 %)"),
        ("contacts", "Kontakte nach Kontaktart (6 insgesamt)"),
        ("outcomes", "Abgeschlossene Fälle nach Ergebnis (5 insgesamt)"),
    ):
        response = await report(client, f"/api/reports/charts/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        svg = response.text
        assert 'role="img"' in svg
        assert f'<title id="{name}-t">{expected}</title>' in svg
        assert "<desc" in svg
        assert CANARY not in svg
    assert "2025-06: 100 % von 1 abgeschlossenen Fällen" in (await report(client, "/api/reports/charts/success")).text
    assert (await report(client, "/api/reports/charts/pie")).status_code == 404


async def test_csv_exports_have_a_bom_and_the_anonymised_list_no_canary(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    await build(app, org)
    await login(client, "supervisor")
    german = await report(client, "/api/reports/export", table="figures", separator="semicolon")
    assert german.status_code == 200
    assert german.headers["content-type"].startswith("text/csv")
    assert "attachment" in german.headers["content-disposition"]
    assert german.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(german.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Bereich", "Kennzahl", "Wert", "Anzeige", "Angabe", "Erläuterung"]
    values = {(row[0], row[1]): row[2] for row in rows[1:]}
    assert values[("Fälle", "Unterstützte Haushalte")] == "9"
    assert values[("Fälle", "Quote Wohnung erhalten")] == "60,00"
    assert values[("Mobilisierte Mittel, einmalig", "Darlehen gesamt")] == "1537,20"
    english = await report(client, "/api/reports/export", table="figures", separator="comma")
    values = {(row[0], row[1]): row[2] for row in csv.reader(io.StringIO(english.content.decode("utf-8-sig")))}
    assert values[("Mobilisierte Mittel, einmalig", "Darlehen gesamt")] == "1537.20"

    cases = await report(client, "/api/reports/export", table="cases")
    text = cases.content.decode("utf-8-sig")
    assert "Kanarienvogel" not in text
    assert "Musterfrau" not in text
    assert "Mietschulden" not in text
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0][0] == "Nr"
    assert len(table) == 1 + 10  # Team Nord's ten cases, numbered, without ids
    assert all(len(row[0]) <= 3 for row in table[1:])
    assert sorted(row[7] for row in table[1:] if row[7]) == sorted(
        ["secured", "secured_installment", "lost_homeless", "secured_benefit", "secured"]
    )


async def test_the_annual_report_page_prints_the_figures(app: Litestar, client: httpx.AsyncClient, org: Org) -> None:
    await build(app, org)
    await login(client, "supervisor")
    page = await client.get("/berichte/jahresbericht", params={"year": "2025"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Jahresbericht 2025" in html
    assert '<div data-key="households_supported"><strong>9</strong><span>Unterstützte Haushalte<sup>' in html
    assert "<strong>60\u00a0%</strong>" in html
    assert "1.537,20\u00a0€" in html
    assert html.count('role="img"') == 3
    assert "<script" not in html
    assert CANARY not in html
    await login(client, "worker1")
    assert (await client.get("/berichte/jahresbericht", params={"year": "2025"})).status_code == 403


async def test_a_move_avoids_homelessness_but_does_not_keep_the_tenancy(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    async with client_from(app) as builder_client:
        nord = Builder(Device(builder_client, await login(builder_client, "supervisor")), org, str(org.team_id))
        for outcome in ("secured", "secured_installment", "moved_affordable", "lost_housed", "no_contact"):
            await nord.case("2025-02-01", closed="2025-06-30", outcome=outcome)
    await login(client, "supervisor")
    r = (await report(client)).json()
    assert (r["closed_cases"], r["closed_reached"]) == (5, 4)
    assert (r["tenancy_kept"], r["homelessness_avoided"]) == (2, 3)  # the move counts once, and only as avoided
    assert (r["kept_rate"], r["kept_rate_reached"]) == (0.4, 0.5)
    assert (r["avoided_rate"], r["avoided_rate_reached"]) == (0.6, 0.75)
    lines = {f["key"]: f for section in r["sections"] for f in section["figures"] if section["key"] == "cases"}
    assert lines["kept_rate"]["text"] == "40\u00a0%"
    assert lines["kept_rate"]["detail"] == "2 von 5; 50\u00a0% der 4 Fälle mit Kontakt"
    assert lines["avoided_rate"]["text"] == "60\u00a0%"
    tones = {f["key"]: f["tone"] for s in r["sections"] if s["key"] == "outcomes" for f in s["figures"]}
    assert tones["outcome.secured"] == "good"
    assert tones["outcome.moved_affordable"] == "fair"
    assert tones["outcome.lost_housed"] == tones["outcome.lost_homeless"] == "bad"
    assert tones["outcome.no_contact"] == "neutral"


async def test_screen_print_and_csv_show_the_same_lines(app: Litestar, client: httpx.AsyncClient, org: Org) -> None:
    """The screen renders ``sections`` of the API's answer; the print page and the CSV are written from the same
    lines, so every (section, label, text) of one is in the others."""
    await build(app, org)
    await login(client, "supervisor")
    r = (await report(client)).json()
    screen = {(s["title"], f["label"], f["text"]) for s in r["sections"] if s["key"] != "key" for f in s["figures"]}
    assert len(screen) > 40
    rows = list(
        csv.reader(
            io.StringIO((await report(client, "/api/reports/export", table="figures")).content.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    exported = {(row[0], row[1], row[3]) for row in rows[1:]}  # the CSV writes plain spaces
    assert {(title, label, text.replace("\u00a0", " ")) for title, label, text in screen} <= exported
    html = (await client.get("/berichte/jahresbericht", params={"year": "2025"})).text
    for title, label, text in screen:
        assert f"<h2>{title}</h2>" in html
        assert f"{label}" in html
        assert f"<td>{text}" in html, (title, label, text)
    # Monthly and one-off sums stay apart: the monthly Wohngeld is not in the one-off totals.
    lines = {(s["key"], f["key"]): f["value"] for s in r["sections"] for f in s["figures"]}
    assert lines[("money", "money.grant")] == 1700.0
    assert lines[("money", "money.unspecified")] == 300.0
    assert lines[("monthly", "monthly.wohngeld")] == lines[("monthly", "monthly.total")] == 210.0
    assert ("money", "money.wohngeld.monthly") not in lines


async def test_a_past_year_stays_as_it_was_unless_corrected_and_then_says_so(
    app: Litestar, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed in 2025 and reopened in 2026: still a 2025 closure. An outcome corrected in 2026: the 2025 report
    counts the corrected outcome and names the correction."""
    import datetime as dt

    from server.records import history

    def recorded(moment: str) -> None:
        monkeypatch.setattr(history, "utcnow", lambda: dt.datetime.fromisoformat(moment))

    async with client_from(app) as builder_client:
        nord = Builder(Device(builder_client, await login(builder_client, "supervisor")), org, str(org.team_id))
        recorded("2025-06-30T15:00:00+00:00")
        reopened = await nord.case("2025-02-01", closed="2025-06-30", outcome="secured")
        corrected = await nord.case("2025-03-01", closed="2025-06-30", outcome="lost_homeless")
        await nord.case("2025-04-01", closed="2025-06-30", outcome="secured_installment")
        before = (await report_as(client, "supervisor")).json()
        assert (before["closed_cases"], before["tenancy_kept"], before["corrections"]) == (3, 2, 0)

        recorded("2026-02-10T09:00:00+00:00")
        await nord.change(
            "case", reopened, reopened, {"status": "open", "outcome": None, "closed_on": None, "reopen_reason": "x"}
        )
        await nord.change("case", corrected, corrected, {"outcome": "lost_housed"})

    after = (await report_as(client, "supervisor")).json()
    assert after["closed_cases"] == 3  # the reopened case stays closed in 2025
    assert after["outcomes"]["secured"] == 1
    assert (after["outcomes"]["lost_homeless"], after["outcomes"]["lost_housed"]) == (0, 1)  # corrected outcome
    assert after["corrections"] == 1  # ... and named
    line = next(f for s in after["sections"] if s["key"] == "cases" for f in s["figures"] if f["key"] == "corrections")
    assert line["text"] == "1"
    assert "berichtigt" in line["label"]
    # The reopened case is open again in 2026: supported there, with no closure.
    year_2026 = (await client.get("/api/reports", params={"start": "2026-01-01", "end": "2026-12-31"})).json()
    assert (year_2026["households_supported"], year_2026["closed_cases"]) == (1, 0)


async def report_as(client: httpx.AsyncClient, username: str) -> httpx.Response:
    await login(client, username)
    return await report(client)


async def test_intake_referrals_counselling_time_and_money_by_legal_basis(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    async with client_from(app) as builder_client:
        nord = Builder(Device(builder_client, await login(builder_client, "supervisor")), org, str(org.team_id))
        household = new_id()  # one household, two cases: rent arrears, then energy debt
        first = await nord.case("2025-03-01", trigger="court_notice", household_id=household)
        second = await nord.case("2025-04-01", trigger="receivables", type="energy_debt", household_id=household)
        await nord.case("2024-12-01", trigger="receivables")  # opened before the period
        consent = await nord.put("consent", first, {"purpose": "Schuldnerberatung", "given_on": "2025-03-02"})
        for sent_on in ("2025-03-05", "2025-05-01"):
            await nord.put(
                "referral", first, {"service": "Schuldnerberatung", "consent_id": consent, "sent_on": sent_on}
            )
        for minutes in (30, 45, None):
            await nord.put(
                "contact", second, {"channel": "phone", "at": "2025-04-02T10:00:00+02:00", "duration_minutes": minutes}
            )
        grants = [
            {"kind": "debt_takeover_loan", "legal_basis": "sgb2_22_8", "amount_cents": 150000, "period": "one_off"},
            {"kind": "wohngeld", "legal_basis": "wogg", "amount_cents": 21000, "period": "monthly", "months": 12},
        ]
        for grant in grants:
            await nord.put(
                "benefit_application",
                second,
                {**grant, "decision": "granted", "submitted_on": "2025-04-03", "decided_on": "2025-05-10"},
            )
        # Follow-ups after kept tenancies, due in 2025: two answered, one open; one due in 2026 does not count.
        for follow_up, due_on, held in (
            ("tenancy_6m", "2025-08-01", "yes"),
            ("tenancy_12m", "2025-09-01", "no"),
            ("tenancy_6m", "2025-10-01", None),
            ("tenancy_6m", "2026-02-01", "yes"),
        ):
            action = {"title": "Nachfrage", "due_on": due_on, "follow_up": follow_up, "source_kind": "case"}
            await nord.put("action", first, {**action, "tenancy_held": held, "status": "done" if held else "open"})
        refused = await nord.device.push(
            nord.device.put("action", new_id(), first, {"title": "x", "due_on": "2025-01-01", "tenancy_held": "yes"})
        )
        assert refused[0]["status"] == "rejected"  # only a follow-up asks whether the tenancy is held
    await login(client, "supervisor")
    r = (await report(client)).json()
    assert r["funder"]["follow_ups"] == {
        "tenancy_6m": {"yes": 1, "no": 0, "unknown": 0, "open": 1},
        "tenancy_12m": {"yes": 0, "no": 1, "unknown": 0, "open": 0},
    }
    assert (r["households_supported"], r["cases_supported"]) == (2, 3)  # the shared household counts once
    f = r["funder"]
    assert f["intake_by_type"] == {"rent_arrears": 1, "energy_debt": 1}
    assert f["intake_by_trigger"] == {"court_notice": 1, "receivables": 1}
    assert f["referrals_by_service"] == {"Schuldnerberatung": 2}
    assert (f["counselling_minutes"], f["timed_contacts"]) == (75, 2)
    assert f["one_off_by_basis"] == {"sgb2_22_8": 150000}
    assert f["monthly_by_basis"] == {"wogg": 21000}  # per month, never added to the one-off sums
    lines = {line["key"]: line["text"] for s in (await report(client)).json()["sections"] for line in s["figures"]}
    assert lines["counselling.hours"] == "1,2\u00a0Std."
    assert lines["basis.monthly.wogg"] == "210,00\u00a0€"

    # Contacts stored before durations had a clear column carry the migration's mark until the start-up pass
    # reads their encrypted fields: not counted as minutes meanwhile, counted exactly after.
    sessions, keyring = service_of(app, AuthState).sessions, service_of(app, Keyring)
    async with sessions() as db:
        await db.execute(update(Record).where(Record.kind == "contact").values(minutes=NOT_READ))
        await db.commit()
    assert (await report(client)).json()["funder"]["counselling_minutes"] == 0
    assert await fill_minutes(sessions, keyring) == 3
    assert await fill_minutes(sessions, keyring) == 0  # once
    f = (await report(client)).json()["funder"]
    assert (f["counselling_minutes"], f["timed_contacts"]) == (75, 2)


async def test_the_management_sees_every_team_and_the_year_before_but_no_case(
    app: Litestar, client: httpx.AsyncClient, org: Org, password_hash: str
) -> None:
    from server.auth.models import Role, User

    settings = service_of(app, AuthState).settings
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        db.add(
            User(
                username="leitung",
                display_name="Leitung",
                role=Role.MANAGER,
                team_id=org.team_id,
                password_hash=password_hash,
            )
        )
        await db.commit()
    await engine.dispose()

    async with client_from(app) as builder_client:
        nord = Builder(Device(builder_client, await login(builder_client, "supervisor")), org, str(org.team_id))
        nord_case = await nord.case("2025-02-01", closed="2025-05-01", outcome="secured")
        await nord.case("2025-02-01", closed="2025-06-01", outcome="lost_homeless")
        await nord.case("2024-02-01", closed="2024-05-01", outcome="secured_installment")  # the year before
        sued = Builder(Device(builder_client, await login(builder_client, "supervisor2")), org, str(org.other_team_id))
        await sued.case("2025-03-01", closed="2025-07-01", outcome="secured")

    await login(client, "leitung")
    response = await client.get("/api/reports/organisation", params=YEAR)
    assert response.status_code == 200, response.text
    body = response.json()
    assert CANARY not in response.text  # figures only
    assert (body["previous_start"], body["previous_end"]) == ("2024-01-01", "2024-12-31")
    assert body["total"]["report"]["closed_cases"] == 3
    assert body["total"]["report"]["tenancy_kept"] == 2
    teams = {t["name"]: t["report"] for t in body["teams"]}
    assert (teams["Team Nord"]["closed_cases"], teams["Team Süd"]["closed_cases"]) == (2, 1)
    lines = {f["key"]: f for s in teams["Team Nord"]["sections"] if s["key"] == "cases" for f in s["figures"]}
    assert (lines["closed_cases"]["text"], lines["closed_cases"]["previous"]) == ("2", "1")

    # No case, no sync, no team report for the management: 403, not an empty answer.
    for path in ("/api/cases", f"/api/cases/{nord_case}", "/api/sync/pull", "/api/conflicts", "/api/reports"):
        assert (await client.get(path, params=YEAR)).status_code == 403, path
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        actions = (await db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("report.%")))).all()
    await engine.dispose()
    assert "report.org:2025-01-01..2025-12-31" in actions
    await login(client, "supervisor")
    assert (await client.get("/api/reports/organisation", params=YEAR)).status_code == 403


async def test_anonymous_enquiries_are_recorded_once_without_names_and_counted(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    await login(client, "worker1")
    calls = [
        ("2025-03-03", "phone", "rent_arrears", 10, "debt_counselling"),
        ("2025-03-04", "phone", "benefits", 5, "jobcenter"),
        ("2025-06-10", "in_person", "rent_arrears", None, "none"),
        ("2024-12-30", "phone", "energy", 15, "none"),  # not in 2025
    ]
    ids = []
    for on, channel, topic, minutes, referred in calls:
        ids.append(new_id())
        body = {"on": on, "channel": channel, "topic": topic, "duration_minutes": minutes, "referred_to": referred}
        response = await client.put(f"/api/enquiries/{ids[-1]}", json=body)
        assert response.status_code == 201, response.text
    first = {"on": "2025-03-03", "channel": "phone", "topic": "rent_arrears", "duration_minutes": 10}
    first["referred_to"] = "debt_counselling"
    assert (await client.put(f"/api/enquiries/{ids[0]}", json=first)).status_code == 200  # a retry: one enquiry
    assert (await client.put(f"/api/enquiries/{ids[0]}", json={**first, "topic": "energy"})).status_code == 409
    # No free text: a name has nowhere to go.
    named = {**first, "name": "Erika Musterfrau"}
    assert (await client.put(f"/api/enquiries/{new_id()}", json=named)).status_code == 400
    assert (
        await client.put(f"/api/enquiries/{new_id()}", json={**first, "topic": "Frau Musterfrau"})
    ).status_code == 400
    assert (await client.put(f"/api/enquiries/{new_id()}", json={**first, "on": "2099-01-01"})).status_code == 400

    await login(client, "supervisor")
    r = (await report(client)).json()
    assert r["funder"]["enquiries"] == {
        "channel": {"phone": 2, "in_person": 1},
        "topic": {"rent_arrears": 2, "benefits": 1},
        "referred_to": {"debt_counselling": 1, "jobcenter": 1, "none": 1},
        "total": {"enquiries": 3, "minutes": 15},
        "appointments": {},  # none booked (tests/api/test_appointments.py)
    }
    lines = {f["key"]: f["text"] for s in r["sections"] for f in s["figures"]}
    assert lines["enquiries.total"] == "3"
    assert lines["enquiries.with_contacts"] == "3"  # no case contacts here: the enquiries count as contacts
    # Team Süd's report does not see Team Nord's enquiries.
    await login(client, "supervisor2")
    assert (await report(client)).json()["funder"]["enquiries"]["total"] == {"enquiries": 0, "minutes": 0}


async def test_arrears_at_intake_and_at_closing(
    app: Litestar, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first amount the assessment recorded, and the last one recorded by the end of the closing day; a change
    after closing, an open case and a case without an assessment do not count."""
    import datetime as dt

    from server.records import history

    def recorded(moment: str) -> None:
        monkeypatch.setattr(history, "utcnow", lambda: dt.datetime.fromisoformat(f"{moment}T15:00:00+00:00"))

    def arrears(rent: int, service: int | None = None) -> dict[str, Any]:
        return {"form_version": 1, "arrears": {"rent_arrears_cents": rent, "service_charge_arrears_cents": service}}

    closing = {"status": "closed", "closed_on": "2025-06-30", "outcome": "secured", "closing_note": "gesichert"}
    async with client_from(app) as builder_client:
        nord = Builder(Device(builder_client, await login(builder_client, "supervisor")), org, str(org.team_id))
        recorded("2025-02-01")
        paid_down = await nord.case("2025-02-01")
        assessment = await nord.put("assessment", paid_down, arrears(300_000, 20_000))
        recorded("2025-05-01")
        await nord.change("assessment", assessment, paid_down, {"arrears": {"rent_arrears_cents": 100_000}})
        recorded("2025-06-30")
        await nord.change("case", paid_down, paid_down, closing)
        recorded("2025-08-01")  # after closing: not the amount at closing
        await nord.change("assessment", assessment, paid_down, {"arrears": {"rent_arrears_cents": 0}})

        recorded("2025-03-01")
        unchanged = await nord.case("2025-03-01")
        await nord.put("assessment", unchanged, arrears(50_000))
        await nord.change(
            "case", unchanged, unchanged, {**closing, "closed_on": "2025-03-01", "outcome": "lost_housed"}
        )
        await nord.case("2025-03-01", closed="2025-04-01", outcome="secured")  # no assessment
        still_open = await nord.case("2025-03-01")
        await nord.put("assessment", still_open, arrears(90_000))

    r = (await report_as(client, "supervisor")).json()
    f = r["funder"]
    assert (f["arrears_cases"], f["arrears_intake_cents"], f["arrears_closing_cents"]) == (2, 370_000, 150_000)
    assert (f["arrears_intake_median_cents"], f["arrears_closing_median_cents"]) == (185_000, 75_000)
    lines = {line["key"]: line for s in r["sections"] if s["key"] == "arrears" for line in s["figures"]}
    assert lines["arrears.reduced"]["text"] == "2.200,00\u00a0€"
    assert lines["arrears.reduced"]["detail"] == "59\u00a0% der Summe bei Aufnahme"
    assert lines["arrears.intake_median"]["text"] == "1.850,00\u00a0€"
    assert "Abschlusstag" in lines["arrears.cases"]["definition"]
