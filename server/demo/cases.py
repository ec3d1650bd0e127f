"""About forty invented cases for the demo, spread over ``worker1`` and ``worker2``.

Every name, address and story here is made up. Dates are relative to the day of seeding, so the demo always
has visits today, overdue visits and deadlines in the coming two weeks.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.demo.dating import arrears_at_intake, date_history
from server.demo.details import (
    FIRST_NAMES,
    FIRST_VISIT_NOTES,
    STREETS,
    SURNAMES,
    court_day,
    household_fields,
    recorded_payments,
)
from server.demo.past import Intake, nearly_expired, past_year
from server.records.bulk import BulkItem, write_all
from server.records.keyring import Keyring
from server.records.schemas import CaseOutcome
from server.records.store import RecordStore

__all__ = ["DemoTeam", "seed_cases"]


OUTCOMES = list(CaseOutcome)


class DemoTeam:
    """The ids the demo cases are assigned to."""

    def __init__(
        self, organisation_id: uuid.UUID, team_id: uuid.UUID, worker_ids: list[uuid.UUID], supervisor_id: uuid.UUID
    ) -> None:
        self.organisation_id = organisation_id
        self.team_id = team_id
        self.worker_ids = worker_ids
        self.supervisor_id = supervisor_id


class _Batch:
    def __init__(self) -> None:
        self.items: list[BulkItem] = []

    def add(
        self, kind: str, case_id: uuid.UUID, fields: dict[str, Any], record_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        record_id = record_id or uuid.uuid4()
        self.items.append((kind, record_id, case_id, fields))
        return record_id


def _moment(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC).isoformat()


def _case_records(batch: _Batch, rng: random.Random, team: DemoTeam, index: int, today: dt.date) -> uuid.UUID:
    case_id = uuid.uuid4()
    surname = SURNAMES[index % len(SURNAMES)]
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    worker = team.worker_ids[index % len(team.worker_ids)]
    closed = index >= 33  # the last seven are closed, one per outcome
    kind = ["rent_arrears", "rent_arrears", "energy_debt", "psychosocial", "rent_arrears"][index % 5]
    if index in (30, 31, 32):
        kind = "neighbour_conflict"
    risk = ["low", "medium", "high", "acute", "medium", "high"][index % 6]
    net_rent = rng.randrange(380, 820) * 100
    service = rng.randrange(120, 260) * 100
    heating = rng.randrange(60, 140) * 100
    arrears = (net_rent + service + heating) * rng.randrange(1, 5)
    opened = today - dt.timedelta(days=rng.randrange(20, 300))

    household_id = batch.add(
        "household", case_id, household_fields(rng, index, (first, surname), (net_rent, service, heating), today)
    )
    titles = {
        "rent_arrears": f"Mietrückstand {surname}",
        "energy_debt": f"Energieschulden {surname}",
        "psychosocial": f"Begleitung {first} {surname}",
        "neighbour_conflict": f"Nachbarschaftskonflikt {STREETS[index % len(STREETS)]} ({surname})",
    }
    outcome = OUTCOMES[index - 33] if closed else None
    batch.add(
        "case",
        case_id,
        {
            "team_id": str(team.team_id),
            "assigned_worker_id": str(worker),
            "type": kind,
            "status": "closed" if closed else "closing_requested" if index == 29 else "open",
            "risk": risk,
            "title": titles[kind],
            "trigger": rng.choice(["receivables", "court_notice", "neighbour_complaint", "outreach"]),
            "phase": rng.choice(["pre_court", "pre_court", "court", "enforcement"]),
            "household_id": str(household_id),
            "opened_on": opened.isoformat(),
            "first_contact_on": opened.isoformat(),
            "closed_on": (today - dt.timedelta(days=rng.randrange(1, 15))).isoformat() if closed else None,
            "outcome": outcome.value if outcome else "secured_installment" if index == 29 else None,
            "intake_by": str(team.supervisor_id),
            "summary": f"Rückstand ca. {arrears // 100} EUR. Erstkontakt über die Forderungsabteilung.",
            "closing_note": "Ratenzahlung läuft seit drei Monaten zuverlässig." if index == 29 else "",
            "closing_requested_on": (today - dt.timedelta(days=1)).isoformat() if index == 29 else None,
        },
        record_id=case_id,
    )
    # Visits: one overdue for every fifth case, one today for every fourth, one next week for most.
    if not closed:
        if index % 5 == 0:
            batch.add(
                "visit",
                case_id,
                {
                    "assigned_worker_id": str(worker),
                    "status": "planned",
                    "planned_by": str(team.supervisor_id),
                    "planned_at": _moment(today - dt.timedelta(days=3), 10),
                    "purpose": "Haushaltsplan besprechen",
                },
            )
        if index % 4 == 0:
            batch.add(
                "visit",
                case_id,
                {
                    "assigned_worker_id": str(worker),
                    "status": "planned",
                    "planned_by": str(team.supervisor_id),
                    "planned_at": _moment(today, 9 + index % 8, 30),
                    "purpose": "Unterlagen für den Wohngeldantrag abholen",
                },
            )
        batch.add(
            "visit",
            case_id,
            {
                "assigned_worker_id": str(worker),
                "status": "planned",
                "planned_by": str(worker),
                "planned_at": _moment(today + dt.timedelta(days=2 + index % 9), 14),
                "purpose": "Folgetermin",
            },
        )
    done_visit = batch.add(
        "visit",
        case_id,
        {
            "assigned_worker_id": str(worker),
            "status": "done",
            "planned_at": _moment(opened + dt.timedelta(days=5), 11),
            "visited_at": _moment(opened + dt.timedelta(days=5), 11, 10),
            "duration_minutes": 50,
            "purpose": "Erstbesuch",
        },
    )
    batch.add(
        "note",
        case_id,
        {
            "visit_id": str(done_visit),
            "author_id": str(worker),
            "written_at": _moment(opened + dt.timedelta(days=5), 13),
            "text": FIRST_VISIT_NOTES[index % len(FIRST_VISIT_NOTES)].format(name=f"{first} {surname}"),
        },
    )
    for channel in rng.sample(["phone", "email", "letter", "in_person", "sms"], k=2):
        batch.add(
            "contact",
            case_id,
            {
                "channel": channel,
                "at": _moment(opened + dt.timedelta(days=rng.randrange(1, 20)), 9),
                "summary": "Rückfrage zu fehlenden Unterlagen",
            },
        )
    batch.add("contact", case_id, {"channel": "home_visit", "at": _moment(opened + dt.timedelta(days=5), 11)})
    if kind == "rent_arrears" and index % 2 == 0:
        court = court_day(today + dt.timedelta(days=4 + index % 20))
        event = batch.add(
            "legal_event",
            case_id,
            {
                "type": "court_date",
                "scheduled_at": _moment(court, 9, 30),
                "court": "Amtsgericht Beispielstadt",
                "reference": f"{rng.randrange(10, 99)} C {rng.randrange(100, 999)}/26",
            },
        )
        batch.add(
            "action",
            case_id,
            {
                "title": "Unterlagen für den Gerichtstermin vorbereiten",
                "due_on": (court - dt.timedelta(days=3)).isoformat(),
                "owner_id": str(worker),
                "source_kind": "legal_event",
                "source_id": str(event),
            },
        )
    if index in (2, 14) and not closed:
        # A lawsuit served three weeks ago after a fristlose, hilfsweise ordentliche notice: the Schonfrist runs.
        lawsuit_served = today - dt.timedelta(days=21)
        batch.add(
            "legal_event",
            case_id,
            {
                "type": "notice_to_quit",
                "notice_kind": "both",
                "served_on": (lawsuit_served - dt.timedelta(days=30)).isoformat(),
            },
        )
        batch.add(
            "legal_event",
            case_id,
            {
                "type": "eviction_lawsuit",
                "served_on": lawsuit_served.isoformat(),
                "court": "Amtsgericht Beispielstadt",
                "reference": f"{10 + index} C {300 + index}/26",
            },
        )
    if index % 3 == 1:
        batch.add(
            "legal_event",
            case_id,
            {
                "type": "notice_to_quit",
                "notice_kind": "both",
                "dated_on": (opened + dt.timedelta(days=1)).isoformat(),
                "served_on": (opened + dt.timedelta(days=2)).isoformat(),
            },
        )
    if kind in ("rent_arrears", "energy_debt") and index % 2 == 1:
        rate = rng.randrange(40, 150) * 100
        batch.add(
            "installment_agreement",
            case_id,
            {
                "creditor": "landlord" if kind == "rent_arrears" else "energy_supplier",
                "creditor_name": "Wohnbau Beispiel eG" if kind == "rent_arrears" else "Stadtwerke Beispielstadt",
                "total_cents": max(arrears, rate),
                "monthly_rate_cents": rate,
                "start_on": (opened + dt.timedelta(days=30)).isoformat(),
                "payments": recorded_payments(
                    opened + dt.timedelta(days=30), today, rate, max(arrears, rate), behind=index % 4 == 3
                ),
            },
        )
    if index % 4 == 2:
        submitted = opened + dt.timedelta(days=10)
        batch.add(
            "benefit_application",
            case_id,
            {
                "kind": rng.choice(["wohngeld", "debt_takeover_loan", "kdu_direct_payment"]),
                "agency": "Jobcenter Beispielstadt",
                "submitted_on": submitted.isoformat(),
                "expected_decision_on": (submitted + dt.timedelta(days=42)).isoformat(),
                "amount_cents": rng.randrange(150, 3000) * 100,
            },
        )
    if index % 6 == 0:
        consent = batch.add(
            "consent",
            case_id,
            {
                "purpose": "Weitergabe an die Schuldnerberatung",
                "recipient": "Schuldnerberatung Beispielstadt",
                "given_on": (opened + dt.timedelta(days=6)).isoformat(),
            },
        )
        batch.add(
            "referral",
            case_id,
            {
                "service": "Schuldnerberatung",
                "consent_id": str(consent),
                "reason": "Mehrere Gläubiger, Pfändung droht",
                "sent_on": (opened + dt.timedelta(days=7)).isoformat(),
            },
        )
    if index % 2 == 0:
        income = rng.randrange(900, 2200) * 100
        batch.add(
            "assessment",
            case_id,
            {
                "form_version": 1,
                "household": {"adults": 1, "children": 1 if index % 3 == 0 else 0},
                "housing": {
                    "net_rent_cents": net_rent,
                    "service_charges_cents": service,
                    "heating_cents": heating,
                    "main_residence_registered": True,
                },
                "arrears": {"rent_arrears_cents": arrears},
                "income": {
                    "items": [{"member": first, "source": "wages", "monthly_cents": income, "proof_seen": True}]
                },
                "budget": {
                    "fixed": [
                        {"label": "Miete", "monthly_cents": net_rent + service + heating, "priority": True},
                        {"label": "Strom", "monthly_cents": 6500, "priority": True},
                    ],
                    "variable": [{"label": "Lebensmittel", "monthly_cents": 35000}],
                },
                "energy": {"disconnection": "none"},
                "cause": {"causes": [rng.choice(["job_loss", "illness", "separation", "benefit_delay"])]},
                "risk": {"risk": risk},
                "documents": ["id", "lease"],
            },
        )
    return case_id


async def seed_cases(db: AsyncSession, keyring: Keyring, team: DemoTeam, today: dt.date) -> int:
    """Write the demo cases in the caller's transaction; returns how many records were written."""
    rng = random.Random(2026)  # noqa: S311 - invented demo data, not security
    batch = _Batch()
    case_ids = [_case_records(batch, rng, team, index, today) for index in range(40)]
    intake: Intake = {}
    case_ids += past_year(batch.add, rng, team.team_id, team.worker_ids, today, intake)
    case_ids.append(nearly_expired(batch.add, team.team_id, team.worker_ids[0], today))
    conflict_cases = case_ids[30:33]
    batch.add(
        "mediation",
        conflict_cases[0],
        {
            "party_case_ids": [str(c) for c in conflict_cases],
            "topic": "Lärm und Müll im Treppenhaus",
            "sessions": [
                {
                    "on": (today - dt.timedelta(days=20)).isoformat(),
                    "outcome": "Hausordnung gemeinsam gelesen",
                }
            ],
            "agreement_reached": True,
            "status": "open",
        },
    )
    store = RecordStore(db, keyring)
    first = await write_all(store, team.organisation_id, batch.items, actor=team.supervisor_id)
    await date_history(db, batch.items)
    await arrears_at_intake(store, intake, first)
    return len(batch.items)
