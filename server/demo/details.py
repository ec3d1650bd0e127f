"""The details that make the demo read like real case work: floors, court days, first-visit notes that differ
from case to case, and installment payments recorded as a worker records them."""

from __future__ import annotations

import datetime as dt

from server.records.standing import add_months

__all__ = ["FIRST_VISIT_NOTES", "court_day", "floor_label", "recorded_payments"]


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
