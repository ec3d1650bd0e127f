"""What a referral becomes when the team takes it on as a new case: the records a tablet would have written at
intake, from what property management handed over."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from server.intake.fields import ReferralFields
from server.records.bulk import BulkItem

__all__ = ["case_records"]


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
                "summary": "\n".join(part for part in (summary + ".", fields.note) if part),
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
