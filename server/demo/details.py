"""The details that make the demo read like real case work: invented names and streets, households, floors, court
days, first-visit notes that differ from case to case, and installment payments recorded as a worker records
them."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from server.records.standing import add_months

__all__ = [
    "FIRST_NAMES",
    "FIRST_VISIT_NOTES",
    "STREETS",
    "SURNAMES",
    "court_day",
    "floor_label",
    "household_fields",
    "recorded_payments",
]


def _names(text: str) -> list[str]:
    return text.split()


SURNAMES = _names(
    "Yilmaz Schneider Kowalski Hoffmann Nowak Becker Petrović Wagner Popescu Schulz Klein Hadžić Wolf "
    "Neumann Kaya Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier "
    "Lehmann Köhler Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Vogel Friedrich"
)
FIRST_NAMES = _names(
    "Anna Mehmet Katarzyna Peter Olga Sven Ivana Ahmet Elena Dirk Sabine Emir Monika Hasan Renate Marek "
    "Ute Tomasz Gül Frank"
)
STREETS = ["Lindenweg", "Am Hang", "Birkenstraße", "Hafenstraße", "Gartenring", "Mühlenweg", "Schillerplatz"]


def floor_label(level: int) -> str:
    return "EG links" if level == 0 else f"{level}. OG links"


def court_day(day: dt.date) -> dt.date:
    """The day itself, or the Monday after a weekend: courts do not sit on Saturdays and Sundays."""
    return day + dt.timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


# First visit notes, one of them per case, so that the demo does not read the same text everywhere.
FIRST_VISIT_NOTES = (
    "Erstbesuch bei {name}. Offen für die Beratung, Kontoauszüge der letzten drei Monate gesichtet. Nächster "
    "Schritt: der Wohnbau Beispiel eG eine Ratenzahlung vorschlagen.",
    "Erstbesuch bei {name}. Die Mahnungen lagen ungeöffnet im Flur; gemeinsam sortiert. Einkommen reicht knapp, "
    "Wohngeld wurde nie beantragt. Antrag vorbereiten.",
    "Erstbesuch bei {name}. Nach der Trennung allein mit der Miete; Unterhalt kommt unregelmäßig. Termin beim "
    "Jobcenter wegen der Mietschulden vereinbart.",
    "Erstbesuch bei {name}. Krankheitsbedingt seit Monaten ohne Post-Erledigung. Einverstanden, dass wir mit der "
    "Vermieterin sprechen; Schweigepflichtentbindung unterschrieben.",
)


def recorded_payments(
    start: dt.date, today: dt.date, rate: int, total: int, *, behind: bool
) -> list[dict[str, object]]:
    """The installments due before today, recorded as paid a few days after each due date (never later than
    today); a case ``behind`` has its latest one recorded as not paid."""
    payments: list[dict[str, object]] = []
    for i in range(max(1, -(-total // rate))):
        due = add_months(start, i)
        if due >= today:
            break
        paid = min(due + dt.timedelta(days=3), today)
        payments.append({"due_on": due.isoformat(), "amount_cents": rate, "paid_on": paid.isoformat()})
    if behind and payments:
        payments[-1] = {"due_on": payments[-1]["due_on"], "amount_cents": rate, "missed": True}
    return payments


def household_fields(
    rng: random.Random, index: int, name: tuple[str, str], rent: tuple[int, int, int], today: dt.date
) -> dict[str, Any]:
    """The ``index``-th demo household: its tenant (``name``: first name and surname; a child in every third
    household), address, ``rent`` (net rent, service charges and heating, in cents) and landlord."""
    first, surname = name
    net_rent, service, heating = rent
    return {
        "name": f"Haushalt {surname}",
        "members": [
            {"name": f"{first} {surname}", "birth_year": rng.randrange(1950, 2000), "relation": "tenant"},
            *(
                [
                    {
                        "name": f"Kind {surname}",
                        "birth_year": rng.randrange(2008, 2022),
                        "relation": "child",
                        "dependant": True,
                    }
                ]
                if index % 3 == 0
                else []
            ),
        ],
        "address": {
            "street": STREETS[index % len(STREETS)],
            "house_number": str(rng.randrange(1, 90)),
            "unit": floor_label(rng.randrange(0, 5)),
            "postcode": f"{rng.randrange(10, 99)}{rng.randrange(100, 999)}",
            "city": "Beispielstadt",
        },
        "net_rent_cents": net_rent,
        "service_charges_cents": service,
        "heating_cents": heating,
        "tenancy_start": (today - dt.timedelta(days=rng.randrange(400, 6000))).isoformat(),
        "payment_method": rng.choice(["standing_order", "transfer", "paid_by_agency"]),
        "landlord": "Wohnbau Beispiel eG",
    }
