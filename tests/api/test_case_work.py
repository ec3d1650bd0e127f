"""Case work through the sync API: every kind of the counselling is validated by its schema, and a bad value is a
per-mutation ``rejected`` result naming the field, while the rest of the batch applies."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from tests.support.accounts import Org
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case, worker_device
from tests.support.syncing import new_id

pytestmark = pytest.mark.usefixtures("org")

GOOD: dict[str, dict[str, Any]] = {
    "contact": {"channel": "phone", "at": "2026-11-20T09:15:00+01:00", "summary": "Rückruf Jobcenter"},
    "legal_event": {
        "type": "eviction_date",
        "scheduled_at": "2026-12-10T09:00:00+01:00",
        "dated_on": "2026-11-02",
        "served_on": "2026-11-05",
        "court": "Amtsgericht Beispielstadt",
    },
    "action": {"title": "Wohngeldantrag einreichen", "due_on": "2026-12-01"},
    "benefit_application": {
        "kind": "debt_takeover_loan",
        "agency": "Jobcenter Beispielstadt",
        "submitted_on": "2026-11-02",
        "expected_decision_on": "2026-12-02",
        "amount_cents": 153720,
        "form": "loan",
    },
    "installment_agreement": {
        "creditor": "landlord",
        "total_cents": 120000,
        "monthly_rate_cents": 10000,
        "start_on": "2026-12-01",
    },
    "consent": {
        "purpose": "Weitergabe an die Schuldnerberatung",
        "recipient": "Schuldnerberatung",
        "given_on": "2026-11-20",
    },
}

# (kind, fields, the field the rejection names, a word of its detail)
BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("installment_agreement", {**GOOD["installment_agreement"], "monthly_rate_cents": -500}, "monthly_rate_cents", ">"),
    (
        "installment_agreement",
        {**GOOD["installment_agreement"], "monthly_rate_cents": 130000},
        "monthly_rate_cents",
        "exceeds",
    ),
    ("installment_agreement", {**GOOD["installment_agreement"], "creditor": "bank"}, "creditor", "enum"),
    (
        "benefit_application",
        {**GOOD["benefit_application"], "decided_on": "2026-10-01", "decision": "granted"},
        "decided_on",
        "before the submission",
    ),
    ("benefit_application", {**GOOD["benefit_application"], "kind": "lottery"}, "kind", "enum"),
    ("benefit_application", {**GOOD["benefit_application"], "amount_cents": -1}, "amount_cents", ">="),
    ("legal_event", {"type": "eviction_date", "served_on": "10.12.2026"}, "served_on", "date"),
    ("legal_event", {"type": "eviction_date"}, "dated_on", "at least one date"),
    ("legal_event", {"type": "judgment", "dated_on": "2026-12-10", "notice_kind": "both"}, "notice_kind", "notice"),
    ("legal_event", {"type": "summons", "dated_on": "2026-12-10"}, "type", "enum"),
    ("action", {"title": "", "due_on": "2026-12-01"}, "title", "length"),
    ("action", {"title": "Antrag"}, "due_on", "needs the field"),
    ("consent", {**GOOD["consent"], "withdrawn_on": "2026-11-01"}, "withdrawn_on", "before it was given"),
    ("contact", {"channel": "pigeon", "at": "2026-11-20T09:15:00+01:00"}, "channel", "enum"),
    ("contact", {"channel": "phone", "at": "2026-11-20T09:15:00"}, "at", "timezone"),
    (
        "referral",
        {"service": "Schuldnerberatung", "consent_id": "00000000-0000-4000-8000-000000000000"},
        "consent_id",
        "consent",
    ),
    ("mediation", {"party_case_ids": ["00000000-0000-4000-8000-000000000001"]}, "party_case_ids", "length"),
]


@pytest.mark.parametrize(
    ("kind", "fields", "field", "word"), BAD, ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(BAD)]
)
async def test_a_bad_value_is_rejected_per_mutation_with_its_field(
    app: Litestar, client: Any, org: Org, kind: str, fields: dict[str, Any], field: str, word: str
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    device = await worker_device(client)
    good_id = new_id()
    results = await device.push(
        device.put(kind, new_id(), case_id, fields),
        device.put("note", good_id, case_id, {"text": "Der Rest des Stapels kommt an.", "visit_id": None}),
    )
    assert results[0]["status"] == "rejected", results[0]
    assert results[0]["error"]["code"] == "validation"
    assert results[0]["error"]["field"] == field
    assert word.lower() in results[0]["error"]["detail"].lower(), results[0]["error"]["detail"]
    assert results[1]["status"] == "applied"
    await device.pull()
    assert good_id in device.records
    assert not any(r["kind"] == kind for r in device.records.values())


async def test_every_kind_of_case_work_is_accepted_and_comes_back_as_sent(app: Litestar, client: Any, org: Org) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    other_case, _ = await supervisor_creates_case(app, org, org.worker2_id)
    device = await worker_device(client)
    ids = {kind: new_id() for kind in [*GOOD, "referral", "mediation"]}
    mutations = [device.put(kind, ids[kind], case_id, fields) for kind, fields in GOOD.items()]
    referral = {"service": "Schuldnerberatung", "consent_id": ids["consent"], "reason": "Mehrere Gläubiger"}
    mediation = {
        "party_case_ids": [case_id, other_case],
        "topic": "Lärm im Treppenhaus",
        "sessions": [{"on": "2026-11-18", "outcome": "Ruhezeiten vereinbart"}],
        "agreement_reached": True,
    }
    mutations.append(device.put("referral", ids["referral"], case_id, referral))
    mutations.append(device.put("mediation", ids["mediation"], case_id, mediation))
    results = await device.push(*mutations)
    assert [r["status"] for r in results] == ["applied"] * len(mutations), results
    await device.pull()
    for kind, fields in [*GOOD.items(), ("referral", referral), ("mediation", mediation)]:
        stored = device.records[ids[kind]]
        assert stored["kind"] == kind
        for name, value in fields.items():
            assert stored["fields"][name] == value, (kind, name)


async def test_a_referral_needs_a_consent_in_force_and_an_old_referral_survives_withdrawal(
    app: Litestar, client: Any, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    other_case, _ = await supervisor_creates_case(app, org, org.worker1_id)
    device = await worker_device(client)
    consent, referral = new_id(), new_id()
    results = await device.push(
        device.put("consent", consent, case_id, GOOD["consent"]),
        device.put("referral", referral, case_id, {"service": "Schuldnerberatung", "consent_id": consent}),
        # a consent of another case does not count
        device.put("referral", new_id(), other_case, {"service": "Jugendamt", "consent_id": consent}),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    assert "consent" in results[2]["error"]["detail"]
    await device.pull()
    base = device.records[consent]["version"]
    referral_base = device.records[referral]["version"]
    results = await device.push(
        device.put("consent", consent, case_id, {"withdrawn_on": "2026-11-25"}, base),
        device.put("referral", referral, case_id, {"consent_withdrawn": True, "status": "declined"}, referral_base),
        device.put("referral", new_id(), case_id, {"service": "Mieterverein", "consent_id": consent}),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"], results
    assert results[2]["error"]["field"] == "consent_id"
    assert "withdrawn" in results[2]["error"]["detail"]


async def test_closing_needs_an_outcome_and_a_closed_case_reopens_with_a_reason(
    app: Litestar, client: Any, org: Org
) -> None:
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    device = await worker_device(client)
    await device.pull()
    base = device.records[case_id]["version"]
    results = await device.push(device.put("case", case_id, case_id, {"status": "closing_requested"}, base))
    assert results[0]["status"] == "rejected"
    assert results[0]["error"]["field"] == "outcome"
    closing = {"status": "closing_requested", "outcome": "secured_installment"}
    results = await device.push(device.put("case", case_id, case_id, closing, base))
    assert results[0]["status"] == "applied"
    async with client_from(app) as office:
        supervisor = await worker_device(office, "supervisor")
        approval = {"status": "closed", "closed_on": "2026-11-22"}
        approved = await supervisor.push(supervisor.put("case", case_id, case_id, approval, results[0]["version"]))
        assert approved[0]["status"] == "applied"
    await device.pull()
    assert device.records[case_id]["fields"]["status"] == "closed"
    reopening = {"status": "open", "outcome": None, "closed_on": None, "reopen_reason": "Neue Mahnung"}
    results = await device.push(device.put("case", case_id, case_id, reopening, device.records[case_id]["version"]))
    assert results[0]["status"] == "applied"
    await device.pull()
    assert device.records[case_id]["fields"]["reopen_reason"] == "Neue Mahnung"
    assert device.records[case_id]["fields"]["status"] == "open"
