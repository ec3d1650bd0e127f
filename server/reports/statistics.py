"""The statistics a Land and the umbrella bodies ask for (docs/domain.md "Statistics"): the cases of a period by the
categories recorded on each case, as tables, with small cells suppressed.

The dimensions follow the structure of the BAG Wohnungslosenhilfe's Dokumentationssystem and the Land statistics
of housing emergencies (docs/legal.md "Statistics"): age group, gender, household type, children, income, nationality
group, housing at the start and at the end, the trigger, and the time from the trigger to the first contact.

No figure is published from a cell of fewer than five cases: such a cell reads "< 5". When a table hides exactly
one cell, the next smallest is hidden as well ("x"), so that the small one cannot be worked out from the total.
"""

from __future__ import annotations

import statistics as stats
from collections import Counter

import msgspec

from server.reports.labels import term
from server.reports.schema import DEFINITIONS, STATISTICS, Figure, Section

__all__ = ["SMALLEST", "statistics_sections", "suppressed"]

SMALLEST = 5  # the smallest number of cases a cell is published from
HIDDEN = "< 5"
ALSO_HIDDEN = "x"  # a cell of five or more, hidden so that a small one cannot be worked out from the total

# Each table: its key, its title, the catalogue prefix of its values, and its values in order.
TABLES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "age_group",
        "Altersgruppe",
        "age_group",
        ("under_21", "21_to_24", "25_to_29", "30_to_39", "40_to_49", "50_to_59", "60_to_64", "65_plus", "unknown"),
    ),
    ("gender", "Geschlecht", "gender", ("female", "male", "diverse", "unknown")),
    (
        "household_type",
        "Haushaltsform",
        "household_type",
        ("single", "single_parent", "couple", "couple_with_children", "other", "unknown"),
    ),
    ("children", "Minderjährige Kinder im Haushalt", "children", ("0", "1", "2", "3_plus", "unknown")),
    (
        "income_status",
        "Überwiegender Lebensunterhalt",
        "income_status",
        ("employment", "unemployment_benefit", "basic_income", "pension", "other_benefit", "no_income", "unknown"),
    ),
    ("nationality_group", "Staatsangehörigkeit", "nationality_group", ("national", "eu", "non_eu", "unknown")),
    (
        "housing_at_start",
        "Wohnsituation bei Beginn",
        "housing",
        ("own_tenancy", "with_others", "accommodation", "institution", "street", "unknown"),
    ),
    (
        "housing_at_end",
        "Wohnsituation bei Abschluss",
        "housing",
        ("own_tenancy", "with_others", "accommodation", "institution", "street", "unknown"),
    ),
    (
        "trigger",
        "Anlass",
        "trigger",
        (
            "notice",
            "lawsuit",
            "court_notice",
            "receivables",
            "neighbour_complaint",
            "outreach",
            "self_referral",
            "unknown",
        ),
    ),
    (
        "trigger_days",
        "Zeit vom Anlass bis zum Erstkontakt",
        "trigger_days",
        ("up_to_7", "up_to_14", "up_to_30", "up_to_90", "over_90", "unknown"),
    ),
)
assert {key for key, *_ in TABLES} >= set(STATISTICS)

# Values the tablet's catalogue has no words for (the children counted, the time bands).
WORDS = {
    "children.0": "keine",
    "children.1": "1",
    "children.2": "2",
    "children.3_plus": "3 und mehr",
    "children.unknown": "unbekannt",
    "trigger.unknown": "unbekannt",
    "trigger_days.up_to_7": "bis 7 Tage",
    "trigger_days.up_to_14": "8 bis 14 Tage",
    "trigger_days.up_to_30": "15 bis 30 Tage",
    "trigger_days.up_to_90": "31 bis 90 Tage",
    "trigger_days.over_90": "mehr als 90 Tage",
    "trigger_days.unknown": "Tag des Anlasses nicht erfasst",
}


def suppressed(cells: dict[str, int]) -> dict[str, str]:
    """The cells of one table that are not published, with what they read instead: those of 1 to 4 cases ("< 5"),
    and when that is exactly one, the next smallest non-empty cell too ("x"; else the total would give the small
    one away)."""
    hidden = {name: HIDDEN for name, n in cells.items() if 0 < n < SMALLEST}
    if len(hidden) == 1:
        others = sorted((n, name) for name, n in cells.items() if n > 0 and name not in hidden)
        if others:
            hidden[others[0][1]] = ALSO_HIDDEN
    return hidden


def statistics_sections(counted: dict[str, Counter[str]], trigger_days: list[int], country: str) -> list[Section]:
    """One section per table of the counts ``counted`` (dimension -> value -> cases), suppressed, in the words of
    ``country``; ``trigger_days`` are the days from trigger to first contact, for the median."""
    sections = []
    for index, (key, title, prefix, values) in enumerate(TABLES):
        counts = counted.get(key, Counter())
        cells = {value: counts[value] for value in values}
        hidden = suppressed(cells)
        total = sum(cells.values())
        lines = [
            _cell(f"stat.{key}.{value}", _word(country, prefix, value), n, hidden.get(value))
            for value, n in cells.items()
        ]
        lines.append(_cell(f"stat.{key}.total", "Fälle gesamt", total, HIDDEN if 0 < total < SMALLEST else None))
        if key == "trigger_days" and trigger_days:
            median = stats.median(trigger_days)
            small = len(trigger_days) < SMALLEST
            lines.append(
                Figure(
                    key="stat.trigger_days.median",
                    label="Median Tage vom Anlass bis zum Erstkontakt",
                    value=None if small else float(median),
                    unit="days",
                    text=HIDDEN if small else f"{median:.0f}",
                )
            )
        if index == 0:
            lines[0] = msgspec.structs.replace(lines[0], definition=DEFINITIONS["statistics"])
        sections.append(Section(key=f"stat.{key}", title=title, figures=lines))
    return sections


def _word(country: str, prefix: str, value: str) -> str:
    key = f"{prefix}.{value}"
    return WORDS[key] if key in WORDS else term(country, key, value)


def _cell(key: str, label: str, n: int, hidden: str | None) -> Figure:
    text = hidden or f"{n:,}".replace(",", ".")
    return Figure(key=key, label=label, value=None if hidden else n, text=text)
