"""The demo team's previous year: cases opened and closed then, so that the report of last year reads like one a
board would recognise (about three in four tenancies kept, money mobilised, agreements mostly kept, contacts by
telephone and at the door). Invented, dated relative to today."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from typing import Any

from server.demo.details import recorded_payments

__all__ = ["past_year"]

# 48 closures: 36 tenancies kept (75 %), 3 moves, 6 lost, 3 without contact.
OUTCOMES = (
    ["secured"] * 14
    + ["secured_installment"] * 12
    + ["secured_benefit"] * 10
    + ["moved_affordable"] * 3
    + ["lost_housed"] * 3
    + ["lost_homeless"] * 3
    + ["no_contact"] * 3
)
SURNAMES = [
    "Albers",
    "Brandt",
    "Celik",
    "Dietz",
    "Ebert",
    "Franke",
    "Graf",
    "Haas",
    "Ilić",
    "Jansen",
    "Kraft",
    "Lorenz",
    "Maurer",
    "Nagel",
    "Otto",
    "Pohl",
]

Add = Callable[..., uuid.UUID]


def _at(day: dt.date, hour: int) -> str:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC).isoformat()


def past_year(
    add: Add, rng: random.Random, team_id: uuid.UUID, workers: list[uuid.UUID], today: dt.date
) -> list[uuid.UUID]:
    """Add last year's closed cases through ``add(kind, case_id, fields, record_id=...)``; returns their ids."""
    case_ids: list[uuid.UUID] = []
    year = today.year - 1
    outcomes = OUTCOMES[:]
    rng.shuffle(outcomes)
    for index, outcome in enumerate(outcomes):
        case_id = uuid.uuid4()
        case_ids.append(case_id)
        worker = str(workers[index % len(workers)])
        closed = dt.date(year, 1, 10) + dt.timedelta(days=index * 7 + rng.randrange(0, 5))
        opened = closed - dt.timedelta(days=rng.randrange(45, 160))
        surname = SURNAMES[index % len(SURNAMES)]
        add(
            "case",
            case_id,
            {
                "team_id": str(team_id),
                "assigned_worker_id": worker,
                "type": "rent_arrears" if index % 5 else "energy_debt",
                "status": "closed",
                "risk": rng.choice(["medium", "high", "acute"]),
                "title": f"{'Mietrückstand' if index % 5 else 'Energieschulden'} {surname}",
                "trigger": rng.choice(["receivables", "receivables", "court_notice", "outreach"]),
                "phase": rng.choice(["pre_court", "pre_court", "court"]),
                "opened_on": opened.isoformat(),
                "first_contact_on": opened.isoformat(),
                "closed_on": closed.isoformat(),
                "outcome": outcome,
                "closing_note": "Abgeschlossen nach Rücksprache mit der Leitung.",
            },
            record_id=case_id,
        )
        if outcome == "no_contact":
            for week in (1, 3):
                add("contact", case_id, {"channel": "letter", "at": _at(opened + dt.timedelta(weeks=week), 9)})
            continue
        _contacts(add, rng, case_id, opened, closed)
        _money(add, rng, case_id, outcome, opened, closed)
    return case_ids


def _contacts(add: Add, rng: random.Random, case_id: uuid.UUID, opened: dt.date, closed: dt.date) -> None:
    span = max(1, (closed - opened).days)
    channels = ["phone", "phone", "home_visit", "home_visit", "letter", "email", "in_person"]
    for channel in rng.sample(channels, k=rng.randrange(3, 6)):
        fields: dict[str, Any] = {
            "channel": channel,
            "at": _at(opened + dt.timedelta(days=rng.randrange(0, span)), 10),
            "duration_minutes": 60 if channel == "home_visit" else 15,
        }
        add("contact", case_id, fields)


def _money(add: Add, rng: random.Random, case_id: uuid.UUID, outcome: str, opened: dt.date, closed: dt.date) -> None:
    """A granted benefit or debt takeover for the cases kept with one; an installment agreement, mostly kept,
    for those kept with one."""
    if outcome == "secured_benefit":
        kind = rng.choice(["wohngeld", "debt_takeover_loan", "debt_takeover_grant", "kdu_direct_payment"])
        monthly = kind in ("wohngeld", "kdu_direct_payment")
        submitted = opened + dt.timedelta(days=14)
        add(
            "benefit_application",
            case_id,
            {
                "kind": kind,
                "agency": "Wohngeldstelle Beispielstadt" if kind == "wohngeld" else "Jobcenter Beispielstadt",
                "submitted_on": submitted.isoformat(),
                "decided_on": min(closed, submitted + dt.timedelta(days=35)).isoformat(),
                "decision": "granted",
                "amount_cents": rng.randrange(120, 420) * 100 if monthly else rng.randrange(900, 3600) * 100,
                "period": "monthly" if monthly else "one_off",
                "months": 12 if monthly else None,
                "form": None if monthly else "loan" if kind == "debt_takeover_loan" else "grant",
                "legal_basis": {"wohngeld": "wogg", "kdu_direct_payment": "sgb2_22_1"}.get(kind, "sgb2_22_8"),
            },
        )
    elif outcome == "secured_installment":
        rate = rng.choice([50, 75, 100, 150]) * 100
        start = opened + dt.timedelta(days=21)
        due = max(1, (closed.year - start.year) * 12 + closed.month - start.month)  # paid off by the closing
        add(
            "installment_agreement",
            case_id,
            {
                "creditor": "landlord",
                "creditor_name": "Wohnbau Beispiel eG",
                "total_cents": rate * due,
                "monthly_rate_cents": rate,
                "start_on": start.isoformat(),
                "status": "active",
                "payments": recorded_payments(start, closed, rate, rate * due, behind=rng.random() < 0.15),
            },
        )
