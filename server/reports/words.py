"""How a report writes its numbers, sums, dates and periods in German ("1.234,56 €", "57 %", "1. Jänner bis 30.
November 2026"), and the report's line of each kind (a count, a sum of money): one place for the figures, the
headline and the print page."""

from __future__ import annotations

import datetime as dt

from server.reports.schema import Figure

__all__ = ["NBSP", "count", "euros", "long_date", "money", "month_name", "number", "percent", "period_words"]

MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
NBSP = "\u00a0"


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def percent(share: float | None) -> str:
    """0.5714 as "57 %"; no share (nothing to divide by) as "–"."""
    return "–" if share is None else f"{share * 100:.0f}{NBSP}%"


def euros(cents: int) -> str:
    """123456 as "1.234,56 €"."""
    whole, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{number(whole)},{rest:02d}{NBSP}€"


def long_date(day: dt.date, country: str = "DE", *, year: bool = True) -> str:
    """1 January 2026 as "1. Januar 2026" ("1. Jänner 2026" in Austria)."""
    month = "Jänner" if country == "AT" and day.month == 1 else MONTHS[day.month - 1]
    return f"{day.day}. {month}" + (f" {day.year}" if year else "")


def period_words(start: dt.date, end: dt.date, country: str = "DE") -> str:
    """A report's period as a funder writes it: "1. Jänner bis 30. November 2026"; a calendar year as "2026"."""
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(start.year)
    return f"{long_date(start, country, year=start.year != end.year)} bis {long_date(end, country)}"


def month_name(month: str) -> str:
    """ "2026-03" as "März 2026"."""
    year, in_year = month.split("-")
    return f"{MONTHS[int(in_year) - 1]} {year}"


def count(key: str, label: str, value: int, definition: str | None = None, tone: str | None = None) -> Figure:
    """A line that counts (cases, contacts, households)."""
    return Figure(key=key, label=label, value=value, text=number(value), definition=definition, tone=tone)


def money(key: str, label: str, cents: int) -> Figure:
    """A line of euros."""
    return Figure(key=key, label=label, value=cents / 100, unit="euro", text=euros(cents))
