"""The demo team's previous year: cases opened and closed then, so that the report of last year reads like one a
board would recognise (about three in four tenancies kept, money mobilised, agreements mostly kept, contacts by
telephone and at the door). Invented, dated relative to today."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.demo.details import recorded_payments
from server.records.deadlines import derived_id
from server.records.enquiries import REFERRALS, TOPICS
from server.records.models import Enquiry
from server.records.standing import add_months

__all__ = ["AUSTRIA", "GERMANY", "Flavour", "Intake", "enquiries", "nearly_expired", "past_year"]

# 48 closures: 36 tenancies kept (75 %), 3 moves, 5 lost, 1 whose whereabouts are unknown, 1 that declined help,
# 2 without contact.
OUTCOMES = (
    ["secured"] * 14
    + ["secured_installment"] * 12
    + ["secured_benefit"] * 10
    + ["moved_affordable"] * 3
    + ["lost_housed"] * 3
    + ["lost_homeless"] * 2
    + ["unknown"]
    + ["help_declined"]
    + ["no_contact"] * 2
)
# Where a household lives at the end, by outcome (docs/domain.md "Statistics").
HOUSING_AT_END = {"lost_housed": "with_others", "lost_homeless": "accommodation", "unknown": "unknown"}
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


@dataclass(frozen=True)
class Flavour:
    """What a demo organisation's year says in its country's words: the word for rent arrears, its tenants'
    surnames, the services it refers to, the benefits that keep a tenancy (kind: agency, legal basis, monthly) and
    the landlord of its installment agreements."""

    arrears: str
    surnames: list[str]
    services: list[str]
    benefits: dict[str, tuple[str, str, bool]]
    landlord: str


GERMANY = Flavour(
    arrears="Mietrückstand",
    surnames=SURNAMES,
    services=["Schuldnerberatung", "Schuldnerberatung", "Jobcenter", "Mieterverein", "Sozialpsychiatrischer Dienst"],
    benefits={
        "wohngeld": ("Wohngeldstelle Beispielstadt", "wogg", True),
        "debt_takeover_loan": ("Jobcenter Beispielstadt", "sgb2_22_8", False),
        "debt_takeover_grant": ("Jobcenter Beispielstadt", "sgb2_22_8", False),
        "kdu_direct_payment": ("Jobcenter Beispielstadt", "sgb2_22_1", True),
    },
    landlord="Wohnbau Beispiel eG",
)
AUSTRIA = Flavour(
    arrears="Mietzinsrückstand",
    surnames=[
        "Auer",
        "Berger",
        "Dvořák",
        "Eder",
        "Fuchs",
        "Gruber",
        "Haider",
        "Huber",
        "Jovanović",
        "Koller",
        "Leitner",
        "Moser",
        "Novak",
        "Pichler",
        "Schwarz",
        "Wimmer",
    ],
    services=[
        "Schuldnerberatung Wien",
        "Schuldnerberatung Wien",
        "MA 40 – Sozialzentrum",
        "Mieterhilfe",
        "Psychosozialer Dienst",
    ],
    benefits={
        "wohnbeihilfe": ("MA 50 – Wohnbeihilfe", "at_wohnbeihilfe", True),
        "wohnschirm_rent": ("Wohnschirm", "at_wohnschirm", False),
        "debt_takeover_grant": ("MA 40 – Sozialzentrum", "at_ma40", False),
        "kdu_direct_payment": ("MA 40 – Sozialzentrum", "at_ma40", True),
    },
    landlord="Wohnpartner Beispiel GmbH",
)

Add = Callable[..., uuid.UUID]
Intake = dict[uuid.UUID, tuple[dt.date, int]]


def _at(day: dt.date, hour: int) -> str:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC).isoformat()


def past_year(
    add: Add,
    rng: random.Random,
    team_id: uuid.UUID,
    workers: list[uuid.UUID],
    today: dt.date,
    intake: Intake,
    flavour: Flavour = GERMANY,
) -> list[uuid.UUID]:
    """Add last year's closed cases through ``add(kind, case_id, fields, record_id=...)``; returns their ids. The
    rent arrears their assessments recorded at intake go to ``intake`` (case id: opening day, cents); the
    assessment written holds the amount at closing."""
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
        surname = flavour.surnames[index % len(flavour.surnames)]
        # The statistics and the way in, drawn apart from the year's other choices so that those stay as they were.
        asked = random.Random(index)  # noqa: S311 - invented demo data
        trigger = rng.choice(["receivables", "receivables", "court_notice", "outreach"])
        if trigger == "outreach":
            trigger = asked.choice(["outreach", "notice", "lawsuit", "self_referral"])
        add(
            "case",
            case_id,
            {
                **_statistics(asked, outcome),
                "trigger_on": (opened - dt.timedelta(days=asked.randrange(2, 25))).isoformat(),
                "declined_reason": "other_help" if outcome == "help_declined" else None,
                "team_id": str(team_id),
                "assigned_worker_id": worker,
                "type": "rent_arrears" if index % 5 else "energy_debt",
                "status": "closed",
                "risk": rng.choice(["medium", "high", "acute"]),
                "title": f"{flavour.arrears if index % 5 else 'Energieschulden'} {surname}",
                "trigger": trigger,
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
            add("contact", case_id, _missed("home_visit", opened + dt.timedelta(weeks=4)))
            continue
        if trigger in ("receivables", "court_notice"):
            # Told about the household: a letter offering help first; some answer it, the others are found at the
            # door after a missed call.
            add("contact", case_id, {"channel": "letter", "at": _at(opened, 9), "duration_minutes": 10})
            if asked.random() < 0.5:
                add("contact", case_id, _missed("phone", opened + dt.timedelta(days=3)))
                add("contact", case_id, {"channel": "home_visit", "at": _at(opened + dt.timedelta(days=7), 10)})
            else:
                called = {"channel": "phone", "direction": "incoming", "at": _at(opened + dt.timedelta(days=2), 11)}
                add("contact", case_id, called)
        _contacts(add, rng, case_id, opened, closed)
        _money(add, rng, case_id, outcome, (opened, closed), flavour)
        if index % 5:  # the rent arrears cases
            intake[case_id] = (opened, _arrears(add, rng, case_id, outcome))
        if index % 3 == 0:
            _referral(add, rng, case_id, opened, flavour.services)
        if outcome.startswith("secured"):
            _follow_ups(add, rng, case_id, worker, closed, today)
    return case_ids


def nearly_expired(add: Add, team_id: uuid.UUID, worker: uuid.UUID, today: dt.date) -> uuid.UUID:
    """A case closed almost three years ago, so that the supervisor's dashboard announces its erasure."""
    closed = today.replace(year=today.year - 3, day=min(today.day, 28)) + dt.timedelta(days=12)
    closed -= dt.timedelta(days=max(0, closed.weekday() - 4))  # closed on a working day
    opened = closed - dt.timedelta(days=95)
    case_id = uuid.uuid4()
    add(
        "case",
        case_id,
        {
            "team_id": str(team_id),
            "assigned_worker_id": str(worker),
            "type": "rent_arrears",
            "status": "closed",
            "risk": "medium",
            "title": "Mietrückstand Vogt",
            "trigger": "receivables",
            "opened_on": opened.isoformat(),
            "first_contact_on": opened.isoformat(),
            "closed_on": closed.isoformat(),
            "outcome": "secured_installment",
            "closing_note": "Ratenzahlung vereinbart und eingehalten.",
        },
        record_id=case_id,
    )
    return case_id


def _referral(add: Add, rng: random.Random, case_id: uuid.UUID, opened: dt.date, services: list[str]) -> None:
    """A referral to a specialised service, with the household's consent to pass on its data."""
    service = rng.choice(services)
    given = opened + dt.timedelta(days=rng.randrange(3, 20))
    consent = add(
        "consent",
        case_id,
        {"purpose": f"Weitergabe an: {service}", "recipient": f"{service} Beispielstadt", "given_on": str(given)},
    )
    add(
        "referral",
        case_id,
        {"service": service, "consent_id": str(consent), "sent_on": (given + dt.timedelta(days=1)).isoformat()},
    )


def _arrears(add: Add, rng: random.Random, case_id: uuid.UUID, outcome: str) -> int:
    """The assessment with the arrears at closing; returns the arrears at intake. Paid by a takeover or a benefit,
    mostly paid off by installments, left behind by a move, grown where the flat was lost."""
    at_intake = rng.randrange(12, 66) * 10_000
    at_closing = {
        "secured": rng.choice([0, 0, at_intake // 5]),
        "secured_benefit": 0,
        "secured_installment": rng.randrange(0, 4) * at_intake // 10,
        "moved_affordable": at_intake,
    }.get(outcome, at_intake + rng.randrange(0, 8) * 10_000)
    add("assessment", case_id, {"form_version": 1, "arrears": {"rent_arrears_cents": at_closing}})
    return at_intake


def _follow_ups(add: Add, rng: random.Random, case_id: uuid.UUID, worker: str, closed: dt.date, today: dt.date) -> None:
    """The checks 6 and 12 months after closing, with the ids the tablet derives; answered when due (mostly: still
    in the flat)."""
    for months in (6, 12):
        due = add_months(closed, months)
        held = rng.choices(["yes", "no", "unknown"], weights=[85, 8, 7])[0] if due <= today else None
        months_text = f"Nachfrage: Wohnung {months} Monate nach Abschluss noch gehalten?"
        add(
            "action",
            case_id,
            {
                "title": months_text,
                "due_on": due.isoformat(),
                "owner_id": worker,
                "status": "done" if held else "open",
                "done_on": due.isoformat() if held else None,
                "source_kind": "case",
                "source_id": str(case_id),
                "follow_up": f"tenancy_{months}m",
                "tenancy_held": held,
            },
            record_id=derived_id(case_id, f"tenancy-{months}m"),
        )


def _statistics(asked: random.Random, outcome: str) -> dict[str, Any]:
    """The statistics recorded on a demo case: a spread like a prevention service's, some of it unknown."""
    household = asked.choices(
        ["single", "single_parent", "couple", "couple_with_children", "other", "unknown"],
        weights=[40, 18, 14, 18, 6, 4],
    )[0]
    children = {"single_parent": asked.randrange(1, 4), "couple_with_children": asked.randrange(1, 5)}.get(household, 0)
    ages = ["under_21", "21_to_24", "25_to_29", "30_to_39", "40_to_49", "50_to_59", "60_to_64", "65_plus", "unknown"]
    income = ["employment", "unemployment_benefit", "basic_income", "pension", "other_benefit", "no_income", "unknown"]
    return {
        "age_group": asked.choices(ages, weights=[2, 6, 10, 24, 22, 18, 8, 8, 2])[0],
        "gender": asked.choices(["female", "male", "diverse", "unknown"], weights=[52, 45, 1, 2])[0],
        "household_type": household,
        "children": None if household == "unknown" else children,
        "income_status": asked.choices(income, weights=[30, 10, 35, 12, 6, 3, 4])[0],
        "nationality_group": asked.choices(["national", "eu", "non_eu", "unknown"], weights=[62, 14, 21, 3])[0],
        "housing_at_start": "own_tenancy",
        "housing_at_end": HOUSING_AT_END.get(outcome, "own_tenancy"),
    }


def _missed(channel: str, on: dt.date) -> dict[str, Any]:
    """A call nobody answered, a door nobody opened: an attempt."""
    return {"channel": channel, "at": _at(on, 14), "reached": False, "summary": "Niemand erreicht."}


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


def _money(
    add: Add, rng: random.Random, case_id: uuid.UUID, outcome: str, span: tuple[dt.date, dt.date], flavour: Flavour
) -> None:
    """A granted benefit or debt takeover for the cases kept with one; an installment agreement, mostly kept,
    for those kept with one."""
    opened, closed = span
    if outcome == "secured_benefit":
        kind = rng.choice(list(flavour.benefits))
        agency, basis, monthly = flavour.benefits[kind]
        submitted = opened + dt.timedelta(days=14)
        add(
            "benefit_application",
            case_id,
            {
                "kind": kind,
                "agency": agency,
                "submitted_on": submitted.isoformat(),
                "decided_on": min(closed, submitted + dt.timedelta(days=35)).isoformat(),
                "decision": "granted",
                "amount_cents": rng.randrange(120, 420) * 100 if monthly else rng.randrange(900, 3600) * 100,
                "period": "monthly" if monthly else "one_off",
                "months": 12 if monthly else None,
                "form": None if monthly else "loan" if kind == "debt_takeover_loan" else "grant",
                "legal_basis": basis,
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
                "creditor_name": flavour.landlord,
                "total_cents": rate * due,
                "monthly_rate_cents": rate,
                "start_on": start.isoformat(),
                "status": "active",
                "payments": recorded_payments(start, closed, rate, rate * due, behind=rng.random() < 0.15),
            },
        )


def enquiries(rng: random.Random, team_id: uuid.UUID, workers: list[uuid.UUID], today: dt.date) -> list[Enquiry]:
    """About ten anonymous enquiries a week since the start of last year, most by telephone."""
    rows: list[Enquiry] = []
    day = dt.date(today.year - 1, 1, 2)
    while day <= today:
        if day.weekday() < 5:
            for _ in range(rng.choice([1, 2, 2, 3])):
                rows.append(
                    Enquiry(
                        id=uuid.uuid4(),
                        team_id=team_id,
                        on=day,
                        channel=rng.choices(["phone", "in_person", "email"], weights=[70, 20, 10])[0],
                        topic=rng.choices(TOPICS, weights=[40, 20, 20, 10, 5, 5])[0],
                        duration_minutes=rng.choice([5, 10, 10, 15, 20, 30]),
                        referred_to=rng.choices(REFERRALS, weights=[55, 15, 12, 6, 5, 5, 2])[0],
                        recorded_by=workers[len(rows) % len(workers)],
                    )
                )
        day += dt.timedelta(days=1)
    return rows
