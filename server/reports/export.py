"""CSV exports of a report: UTF-8 with a byte-order mark (spreadsheet programs read the umlauts right), ``,`` or the
German ``;`` with decimal commas. The case list is anonymised: numbers instead of ids, no names, addresses, titles
or free text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from server.reports.organisation import OrganisationReport, TeamFigures
from server.reports.schema import Report, Section

__all__ = ["cases_csv", "figures_csv", "neutralised", "organisation_csv"]


def _writer(rows: Iterable[list[object]], german: bool) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if german else ",", lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value, german) for value in row])
    return out.getvalue()


# A text cell starting with one of these is a formula to a spreadsheet (CSV injection): it gets a leading
# apostrophe, which spreadsheets show as text (docs/security.md case 29).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object, german: bool) -> object:
    if isinstance(value, float):
        text = f"{value:.2f}"
        return text.replace(".", ",") if german else text
    if isinstance(value, str):
        return neutralised(value)
    return "" if value is None else value


def neutralised(text: str) -> str:
    """``text`` as a spreadsheet will show it, never run it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _euros(cents: int) -> float:
    return cents / 100


def figures_csv(report: Report, german: bool, *, statistics: bool = False) -> str:
    """The report's lines as the screen and the print page show them (server/reports/figures.py): section,
    measure, value (a number: euros, per cent, count; empty for a suppressed cell), as written, detail,
    definition. With ``statistics``, the Land's statistics instead of the report's lines."""
    rows: list[list[object]] = [["Bereich", "Kennzahl", "Wert", "Anzeige", "Angabe", "Erläuterung"]]
    rows += [
        ["Bericht", "Team", None, report.team_name, None, None],
        ["Bericht", "Zeitraum", None, f"{report.start.isoformat()} bis {report.end.isoformat()}", None, None],
        ["Bericht", "Berechnet am", None, report.generated_at.isoformat(timespec="seconds"), None, None],
    ]
    for section in report.statistics if statistics else report.sections:
        rows += [
            [section.title, f.label, _plain(f.value, f.unit), f.text.replace("\u00a0", " "), f.detail, f.definition]
            for f in section.figures
        ]
    return _writer(rows, german)


def organisation_csv(whole: OrganisationReport, german: bool, *, statistics: bool = False) -> str:
    """The organisation's lines side by side: the whole organisation, each team, and the whole organisation in the
    same period of the year before (server/reports/organisation.py); or the Land's statistics of the whole and of
    each team, each suppressed on its own."""
    columns = [whole.total, *whole.teams]
    rows: list[list[object]] = [
        ["Bereich", "Kennzahl", *(c.name for c in columns), *([] if statistics else ["Vorjahr gesamt"]), "Erläuterung"]
    ]
    rows.append(["Bericht", "Zeitraum", f"{whole.start.isoformat()} bis {whole.end.isoformat()}"])
    rows.append(["Bericht", "Berechnet am", whole.generated_at.isoformat(timespec="seconds")])

    def lines(figures: TeamFigures) -> list[Section]:
        return figures.report.statistics if statistics else figures.report.sections

    by_column = [{(s.key, f.key): f for s in lines(c) for f in s.figures} for c in columns]
    for section in lines(whole.total):
        for f in section.figures:
            values = [by_column[i].get((section.key, f.key)) for i in range(len(columns))]
            cells = [None if v is None else _plain(v.value, v.unit) if v.value is not None else v.text for v in values]
            previous = [] if statistics else [(f.previous or "").replace("\u00a0", " ")]
            rows.append([section.title, f.label, *cells, *previous, f.definition])
    return _writer(rows, german)


def _plain(value: float | None, unit: str) -> object:
    """A count as a whole number, euros and rates with two decimals."""
    return int(value) if value is not None and unit in ("count", "days") and float(value).is_integer() else value


def cases_csv(report: Report, german: bool) -> str:
    rows: list[list[object]] = [
        [
            "Nr",
            "Art",
            "Risiko",
            "Phase",
            "Status",
            "Eröffnet (Monat)",
            "Abgeschlossen am",
            "Ergebnis",
            "Tage bis Abschluss",
            "Kontakte im Zeitraum",
            "Hausbesuche im Zeitraum",
            "Bewilligt (EUR)",
        ]
    ]
    for line in report.cases:
        rows.append(
            [
                line.number,
                line.type,
                line.risk,
                line.phase,
                line.status,
                line.opened_month,
                line.closed_on,
                line.outcome,
                line.days_to_closure,
                line.contacts,
                line.home_visits,
                _euros(line.granted_cents),
            ]
        )
    return _writer(rows, german)
