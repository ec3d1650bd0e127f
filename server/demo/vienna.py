"""The second demo organisation, in Vienna: a landlord's case-management team whose tenants live in a large
housing estate, with Austrian procedure (Aufkündigung, Räumungsklage wegen Mietzinsrückstand, Tagsatzung,
Exekutionsbewilligung, Delogierung), the city's support (Wohnbeihilfe, MA 40, Wohnschirm) and a year of history.

Every name, address and story here is made up. Dates are relative to the day of seeding.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from server.demo.past import AUSTRIA, Intake, past_year
from server.records.bulk import BulkItem

__all__ = ["VIENNA_CASES", "vienna_records"]

VIENNA_CASES = 12
FIRST_NAMES = [
    "Anna",
    "Mehmet",
    "Brigitte",
    "Dragan",
    "Elisabeth",
    "Florian",
    "Hatice",
    "Johann",
    "Katarina",
    "Leopold",
]
ESTATE = ["Quellenstraße", "Laxenburger Straße", "Favoritenstraße", "Sonnleithnergasse", "Rotenhofgasse"]
NOTES = [
    "Erstgespräch in der Wohnung mit {name}. Mietzinsrückstand seit dem Verlust der Arbeit; Unterlagen zur "
    "Mindestsicherung und Wohnbeihilfe besprochen, Termin im Servicecenter vereinbart.",
    "Hausbesuch bei {name}: Ladung zur Tagsatzung gemeinsam gelesen. Zahlung vor Schluss der Verhandlung ist möglich, "
    "wenn MA 40 den Rückstand übernimmt; Antrag vorbereitet.",
    "{name} hat das Schreiben des Bezirksgerichts mitgebracht. Wohnschirm-Antrag mit Einkommensnachweisen ausgefüllt.",
]


def _moment(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC).isoformat()


def _working(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _household(rng: random.Random, index: int, first: str, surname: str, today: dt.date) -> dict[str, Any]:
    return {
        "name": f"Haushalt {surname}",
        "members": [{"name": f"{first} {surname}", "birth_year": rng.randrange(1950, 2000), "relation": "tenant"}],
        "address": {
            "street": ESTATE[index % len(ESTATE)],
            "house_number": str(rng.randrange(2, 60)),
            "unit": f"Stiege {1 + index % 6}, Tür {rng.randrange(1, 40)}",
            "postcode": "1100",
            "city": "Wien",
        },
        "net_rent_cents": rng.randrange(380, 620) * 100,
        "service_charges_cents": rng.randrange(90, 160) * 100,
        "heating_cents": rng.randrange(40, 90) * 100,
        "tenancy_start": (today - dt.timedelta(days=rng.randrange(800, 7000))).isoformat(),
        "payment_method": rng.choice(["standing_order", "transfer"]),
        "landlord": AUSTRIA.landlord,
    }


def _procedure(index: int, today: dt.date, rng: random.Random) -> list[dict[str, Any]]:
    """The court's letters of the ``index``-th case, one stage of the Austrian procedure each."""
    court, number = "Bezirksgericht Favoriten", f"{rng.randrange(10, 40)} C {rng.randrange(100, 999)}/26"
    stage = index % 6
    if stage == 0:
        return [{"type": "reminder", "dated_on": (today - dt.timedelta(days=12)).isoformat()}]
    if stage == 1:  # an Aufkündigung served last week: Einwendungen within four weeks
        served = today - dt.timedelta(days=6)
        return [{"type": "termination_notice", "served_on": served.isoformat(), "court": court, "reference": number}]
    if stage == 2:  # a lawsuit for arrears and its hearing: § 33 Abs. 2 MRG
        hearing = _working(today + dt.timedelta(days=9 + index))
        return [
            {"type": "municipality_notice", "dated_on": (today - dt.timedelta(days=30)).isoformat(), "court": court},
            {
                "type": "eviction_lawsuit",
                "served_on": (today - dt.timedelta(days=25)).isoformat(),
                "court": court,
                "reference": number,
            },
            {"type": "court_date", "scheduled_at": _moment(hearing, 9, 30), "court": court, "reference": number},
        ]
    if stage == 3:  # a Versäumungsurteil served three days ago: Widerspruch or Berufung
        served = today - dt.timedelta(days=3)
        return [{"type": "default_judgment", "served_on": served.isoformat(), "court": court, "reference": number}]
    if stage == 4:  # enforcement granted, the Delogierung set: Rekurs, Räumungsaufschub
        eviction = _working(today + dt.timedelta(days=20 + index))
        return [
            {
                "type": "eviction_order",
                "served_on": (today - dt.timedelta(days=5)).isoformat(),
                "court": court,
                "reference": number,
            },
            {"type": "eviction_date", "scheduled_at": _moment(eviction, 8), "court": court, "reference": number},
        ]
    return []


def vienna_records(
    team_id: uuid.UUID, workers: list[uuid.UUID], supervisor: uuid.UUID, today: dt.date, intake: Intake
) -> tuple[list[BulkItem], list[uuid.UUID]]:
    """The Viennese team's records (open cases, then last year's) and the ids of its cases."""
    rng = random.Random(1100)  # noqa: S311 - invented demo data, not security
    items: list[BulkItem] = []

    def add(kind: str, case_id: uuid.UUID, fields: dict[str, Any], record_id: uuid.UUID | None = None) -> uuid.UUID:
        record_id = record_id or uuid.uuid4()
        items.append((kind, record_id, case_id, fields))
        return record_id

    case_ids = []
    for index in range(VIENNA_CASES):
        case_id = uuid.uuid4()
        case_ids.append(case_id)
        first, surname = FIRST_NAMES[index % len(FIRST_NAMES)], AUSTRIA.surnames[index % len(AUSTRIA.surnames)]
        worker = str(workers[index % len(workers)])
        opened = today - dt.timedelta(days=rng.randrange(10, 160))
        household = add("household", case_id, _household(rng, index, first, surname, today))
        events = _procedure(index, today, rng)
        add(
            "case",
            case_id,
            {
                "team_id": str(team_id),
                "assigned_worker_id": worker,
                "type": "rent_arrears",
                "status": "open",
                "risk": ["medium", "high", "acute"][index % 3],
                "title": f"Mietzinsrückstand {surname}",
                "trigger": "court_notice" if any(e["type"] == "municipality_notice" for e in events) else "receivables",
                "household_id": str(household),
                "opened_on": opened.isoformat(),
                "first_contact_on": opened.isoformat(),
                "intake_by": str(supervisor),
                "summary": "Meldung der Hausverwaltung: Mietzinsrückstand, Kontakt über aufsuchende Sozialarbeit.",
            },
            record_id=case_id,
        )
        arrears = rng.randrange(8, 40) * 10_000
        add("assessment", case_id, {"form_version": 1, "arrears": {"rent_arrears_cents": arrears}})
        for event in events:
            add("legal_event", case_id, event)
        visit = add(
            "visit",
            case_id,
            {
                "assigned_worker_id": worker,
                "status": "done",
                "planned_at": _moment(opened + dt.timedelta(days=3), 10),
                "visited_at": _moment(opened + dt.timedelta(days=3), 10, 5),
                "duration_minutes": 45,
                "purpose": "Erstbesuch",
            },
        )
        add(
            "note",
            case_id,
            {
                "visit_id": str(visit),
                "author_id": worker,
                "written_at": _moment(opened + dt.timedelta(days=3), 12),
                "text": NOTES[index % len(NOTES)].format(name=f"{first} {surname}"),
            },
        )
        if index % 3 == 0:
            add(
                "visit",
                case_id,
                {
                    "assigned_worker_id": worker,
                    "status": "planned",
                    "planned_by": str(supervisor),
                    "planned_at": _moment(today, 9 + index % 7, 30),
                    "purpose": "Unterlagen für den Wohnschirm abholen",
                },
            )
        add("contact", case_id, {"channel": "home_visit", "at": _moment(opened + dt.timedelta(days=3), 10)})
        add(
            "contact",
            case_id,
            {"channel": "phone", "at": _moment(opened + dt.timedelta(days=1), 9), "summary": "Terminvereinbarung"},
        )
        if index % 2:
            kind = ["wohnschirm_rent", "debt_takeover_grant", "wohnbeihilfe"][index % 3]
            agency, basis, monthly = AUSTRIA.benefits[kind]
            add(
                "benefit_application",
                case_id,
                {
                    "kind": kind,
                    "agency": agency,
                    "legal_basis": basis,
                    "submitted_on": (opened + dt.timedelta(days=10)).isoformat(),
                    "decision": "pending",
                    "period": "monthly" if monthly else "one_off",
                },
            )
    case_ids += past_year(add, rng, team_id, workers, today, intake, AUSTRIA)
    return items, case_ids
