"""CSV exports of a report: UTF-8 with a byte-order mark (spreadsheet programs read the umlauts right), ``,`` or the
German ``;`` with decimal commas. The case list is anonymised: numbers instead of ids, no names, addresses, titles
or free text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from server.reports.charts import CHANNEL_LABELS, OUTCOME_LABELS
from server.reports.service import Report

__all__ = ["cases_csv", "figures_csv", "neutralised"]

BENEFIT_LABELS = {
    "wohngeld": "Wohngeld",
    "wohnbeihilfe": "Wohnbeihilfe",
    "kdu_direct_payment": "KdU-Direktzahlung / Abtretung",
    "debt_takeover_loan": "Schuldenübernahme (Darlehen)",
    "debt_takeover_grant": "Schuldenübernahme (Beihilfe)",
    "wohnschirm_rent": "Wohnschirm Miete",
    "wohnschirm_energy": "Wohnschirm Energie",
    "other": "Sonstige",
}


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


def figures_csv(report: Report, german: bool) -> str:
    """The report's tables, one after another: section, measure, value."""
    rows: list[list[object]] = [["Bereich", "Kennzahl", "Wert"]]
    period = f"{report.start.isoformat()} bis {report.end.isoformat()}"
    rows += [
        ["Bericht", "Team", report.team_name],
        ["Bericht", "Zeitraum", period],
        ["Fälle", "Unterstützte Haushalte", report.households_supported],
        ["Fälle", "Neue Fälle", report.new_cases],
        ["Fälle", "Abgeschlossene Fälle", report.closed_cases],
        ["Fälle", "Davon Wohnung gesichert", report.secured],
        ["Fälle", "Erfolgsquote (%)", None if report.success_rate is None else round(report.success_rate * 100, 2)],
        [
            "Fälle",
            "Median Tage Erstkontakt bis Abschluss",
            None if report.median_days_to_closure is None else float(report.median_days_to_closure),
        ],
        ["Fälle", "Überfällige Besuche (heute)", report.overdue_visits],
    ]
    rows += [["Ergebnis", OUTCOME_LABELS[key], value] for key, value in report.outcomes.items()]
    rows += [["Kontakte", CHANNEL_LABELS[key], value] for key, value in report.contacts.items()]
    rows += [["Kontakte", "Gesamt", report.contacts_total]]
    rows += [
        ["Vermittlung", "Verfahren mit Sitzung im Zeitraum", report.mediations_held],
        ["Vermittlung", "Davon mit Einigung", report.mediations_resolved],
        ["Vermittlung", "Beteiligte Haushalte", report.mediation_households],
    ]
    for money in report.money:
        label = BENEFIT_LABELS.get(money.kind, money.kind)
        rows += [
            ["Mittel (EUR)", f"{label}: Zuschuss", _euros(money.grant_cents)],
            ["Mittel (EUR)", f"{label}: Darlehen", _euros(money.loan_cents)],
        ]
        if money.unspecified_cents:
            rows.append(["Mittel (EUR)", f"{label}: ohne Angabe", _euros(money.unspecified_cents)])
        if money.monthly_cents:
            rows.append(["Mittel (EUR je Monat)", f"{label}: monatlich", _euros(money.monthly_cents)])
    rows += [
        ["Mittel (EUR)", "Zuschüsse gesamt", _euros(report.money_grant_cents)],
        ["Mittel (EUR)", "Darlehen gesamt", _euros(report.money_loan_cents)],
    ]
    names = {"kept": "eingehalten", "unrecorded": "Zahlung nicht erfasst", "behind": "im Rückstand"}
    names |= {"broken": "gescheitert", "completed": "erfüllt", "cancelled": "aufgehoben"}
    rows += [["Ratenzahlungen", names[key], value] for key, value in report.installments.items()]
    rows += [
        ["Monat", f"{m.month}: abgeschlossen / gesichert / Kontakte", f"{m.closed} / {m.secured} / {m.contacts}"]
        for m in report.months
    ]
    return _writer(rows, german)


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
