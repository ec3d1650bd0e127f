"""What a referral becomes when the team takes it on as a new case: the records a tablet would have written at
intake, from what property management handed over."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from server.intake.fields import CourtNotice, ReferralFields
from server.records.bulk import BulkItem

__all__ = ["case_records", "court_records", "court_steps"]

SUMMARY_LENGTH = 20_000  # a case's summary holds at most this (server/records/fields.py Text)


def case_records(
    case_id: uuid.UUID,
    team_id: uuid.UUID,
    worker_id: uuid.UUID | None,
    fields: ReferralFields,
    received_at: dt.datetime,
    time_zone: str,
) -> list[BulkItem]:
    """The records a referral becomes: the case (trigger: the landlord's referral, on the day received), the
    household with the tenant and the flat, the notice and the lawsuit as legal events (so the deadlines follow),
    and the arrears by part in a first assessment."""
    zone = ZoneInfo(time_zone)
    received = received_at.astimezone(zone).date()
    arrears = fields.reason == "arrears" or any(
        (fields.rent_arrears_cents, fields.service_charge_arrears_cents, fields.other_arrears_cents)
    )
    kind = {"neighbour_complaints": "neighbour_conflict", "living_situation": "psychosocial"}.get(fields.reason)
    case_type = "rent_arrears" if arrears else kind or "psychosocial"
    surname = fields.tenant_name.split()[-1]
    title = {"rent_arrears": "Mietrückstand", "neighbour_conflict": "Nachbarschaft", "psychosocial": "Wohnsituation"}
    summary = "Meldung der Vermieterin" + (
        f", Vertragsnummer {fields.contract_number}" if fields.contract_number else ""
    )
    household_id = uuid.uuid4()
    items: list[BulkItem] = [
        (
            "case",
            case_id,
            case_id,
            {
                "team_id": str(team_id),
                "assigned_worker_id": str(worker_id) if worker_id else None,
                "type": case_type,
                "status": "open",
                "risk": "high" if fields.lawsuit_served_on or fields.notice_served_on else "medium",
                "title": f"{title[case_type]} {surname}"[:200],
                "trigger": "receivables",
                "trigger_on": received.isoformat(),
                "phase": "court" if fields.lawsuit_served_on else "pre_court",
                "opened_on": received.isoformat(),
                "household_id": str(household_id),
                "summary": "\n".join(part for part in (summary + ".", fields.note) if part)[:SUMMARY_LENGTH],
            },
        ),
        (
            "household",
            household_id,
            case_id,
            {
                "name": f"Haushalt {surname}"[:200],
                "members": [{"name": fields.tenant_name, "relation": "tenant"}],
                "address": {
                    "street": fields.street,
                    "house_number": fields.house_number,
                    "unit": fields.unit,
                    "postcode": fields.postcode,
                    "city": fields.city,
                },
                "phone": fields.phone,
                "contract_number": fields.contract_number,
            },
        ),
    ]
    if fields.notice_served_on:
        notice = {"type": "notice_to_quit", "notice_kind": "unknown", "served_on": fields.notice_served_on.isoformat()}
        items.append(("legal_event", uuid.uuid4(), case_id, notice))
    if fields.lawsuit_served_on:
        items.append(
            (
                "legal_event",
                uuid.uuid4(),
                case_id,
                {"type": "eviction_lawsuit", "served_on": fields.lawsuit_served_on.isoformat()},
            )
        )
    if fields.court_date:
        moment = dt.datetime.combine(fields.court_date, dt.time(9), tzinfo=zone).isoformat()
        items.append(("legal_event", uuid.uuid4(), case_id, {"type": "court_date", "scheduled_at": moment}))
    owed = {
        "rent_arrears_cents": fields.rent_arrears_cents,
        "service_charge_arrears_cents": fields.service_charge_arrears_cents,
    }
    other = fields.other_arrears_cents
    if any(value is not None for value in owed.values()) or other:
        note = f"Weitere Forderungen laut Meldung: {other / 100:.2f} EUR".replace(".", ",") if other else ""
        section = {**owed, "notes": note}
        items.append(("assessment", uuid.uuid4(), case_id, {"form_version": 2, "arrears": section}))
    return items


def court_steps(case_id: uuid.UUID, notice: CourtNotice, country: str) -> list[BulkItem]:
    """The notice as legal events: in Germany the court's notice to the Jobcenter or Sozialamt, from which the
    Schonfrist follows (provisional until the lawsuit's service is known), and the lawsuit when its service on the
    tenant is known; in Austria the notice to the
    municipality and the lawsuit, from which the reminder of § 33 Abs. 2 MRG follows (docs/legal.md)."""
    dates = {
        "dated_on": notice.filed_on.isoformat() if notice.filed_on else None,
        "served_on": notice.served_on.isoformat() if notice.served_on else None,
    }
    named = {"court": notice.court, "reference": notice.reference}
    if country == "AT":
        return [
            (
                "legal_event",
                uuid.uuid4(),
                case_id,
                {"type": "municipality_notice", **named, "dated_on": dates["dated_on"]},
            ),
            ("legal_event", uuid.uuid4(), case_id, {"type": "eviction_lawsuit", **named, **dates}),
        ]
    steps: list[BulkItem] = [
        (
            "legal_event",
            uuid.uuid4(),
            case_id,
            {"type": "court_notice_to_agency", **named, "dated_on": dates["dated_on"]},
        )
    ]
    if notice.served_on:  # the lawsuit's service on the tenant: the Schonfrist counts from it, and is sure
        steps.append(("legal_event", uuid.uuid4(), case_id, {"type": "eviction_lawsuit", **named, **dates}))
    return steps


def court_records(
    case_id: uuid.UUID,
    team_id: uuid.UUID,
    worker_id: uuid.UUID | None,
    notice: CourtNotice,
    received_at: dt.datetime,
    time_zone: str,
    country: str,
) -> list[BulkItem]:
    """A new case from the court's notice: "Erstanschreiben", the first step of outreach, with the notice's legal
    events and an action to send the offer of help today."""
    items = case_records(case_id, team_id, worker_id, notice.as_referral(), received_at, time_zone)
    case = items[0][3]
    today = received_at.astimezone(ZoneInfo(time_zone)).date()
    case.update(
        trigger="court_notice",
        trigger_on=(notice.served_on or notice.filed_on or today).isoformat(),
        phase="court",
        risk="high",
        summary=notice.as_referral().note,
    )
    kept = [item for item in items if item[0] != "legal_event"]
    first_letter = {
        "title": "Erstanschreiben: Hilfeangebot schicken",
        "due_on": today.isoformat(),
        "owner_id": str(worker_id) if worker_id else None,
        "status": "open",
    }
    return [*kept, *court_steps(case_id, notice, country), ("action", uuid.uuid4(), case_id, first_letter)]
