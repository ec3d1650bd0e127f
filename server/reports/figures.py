"""A report as lines: the one source the screen, the print page and the CSV are written from, so that they cannot
disagree. Each line has a stable key, its German label, the number, the number as written, and where there is
one, its definition and a detail ("4 von 7")."""

from __future__ import annotations

import msgspec

from server.reports.headline import headline, outreach, reach
from server.reports.labels import (
    CHANNEL_LABELS,
    INSTALLMENT_LABELS,
    LEGAL_BASIS_LABELS,
    OUTCOME_LABELS,
    TRIGGER_LABELS,
    term,
)
from server.reports.schema import (
    AVOIDED_OUTCOMES,
    CHANNELS,
    INSTALLMENT_STATES,
    KEPT_OUTCOMES,
    LOST_OUTCOMES,
    OUTCOMES,
    Figure,
    Report,
    Section,
)
from server.reports.words import NBSP, count, money, month_name, number, percent

__all__ = ["sections", "tone"]


def tone(outcome: str) -> str:
    """How an outcome is coloured: kept green, a move amber, lost red, no contact grey."""
    if outcome in KEPT_OUTCOMES:
        return "good"
    if outcome in AVOIDED_OUTCOMES:
        return "fair"
    return "bad" if outcome in LOST_OUTCOMES else "neutral"


def _rate(key: str, label: str, part: int, share: float | None, reached: float | None, report: Report) -> Figure:
    detail = f"{number(part)} von {number(report.closed_cases)}"
    if report.closed_reached != report.closed_cases:
        detail += f"; {percent(reached)} der {number(report.closed_reached)} Fälle mit Kontakt"
    value = None if share is None else round(share * 100, 2)
    return Figure(key=key, label=label, value=value, unit="percent", text=percent(share), detail=detail)


def sections(report: Report) -> list[Section]:
    """The report's lines, section by section, in the order every output shows them."""
    d = report.definitions
    kept = _rate(
        "kept_rate", "Wohnung erhalten", report.tenancy_kept, report.kept_rate, report.kept_rate_reached, report
    )
    avoided = _rate(
        "avoided_rate",
        "Wohnungs\u00adlosigkeit vermieden",
        report.homelessness_avoided,
        report.avoided_rate,
        report.avoided_rate_reached,
        report,
    )
    return [
        Section(key="key", title="Auf einen Blick", figures=headline(report, kept)),
        Section(
            key="cases",
            title="Fälle",
            figures=[
                count(
                    "households_supported",
                    "Unterstützte Haushalte",
                    report.households_supported,
                    d["households_supported"],
                ),
                count("cases_supported", "Fälle dieser Haushalte", report.cases_supported),
                count("new_cases", "Neue Fälle", report.new_cases, d["new_cases"]),
                count("closed_cases", "Abgeschlossene Fälle", report.closed_cases, d["closed_cases"]),
                count("closed_reached", "davon mit Kontakt", report.closed_reached),
                count(
                    "corrections",
                    "nach Ende des Zeitraums erfasst oder berichtigt",
                    report.corrections,
                    d["corrections"],
                ),
                count("tenancy_kept", "Wohnung erhalten", report.tenancy_kept, d["tenancy_kept"], tone="good"),
                msgspec.structs.replace(kept, label="Quote Wohnung erhalten", definition=d["rates"]),
                count(
                    "homelessness_avoided",
                    "Wohnungs\u00adlosigkeit vermieden",
                    report.homelessness_avoided,
                    d["homelessness_avoided"],
                    tone="fair",
                ),
                msgspec.structs.replace(avoided, label="Quote Wohnungslosigkeit vermieden"),
                Figure(
                    key="median_days_to_closure",
                    label="Median Tage vom Erstkontakt bis zum Abschluss",
                    value=report.median_days_to_closure,
                    unit="days",
                    text="–" if report.median_days_to_closure is None else f"{report.median_days_to_closure:.0f}",
                    definition=d["median_days"],
                ),
            ],
        ),
        Section(
            key="outcomes",
            title="Abgeschlossen nach Ergebnis",
            figures=[count(f"outcome.{o}", OUTCOME_LABELS[o], report.outcomes[o], tone=tone(o)) for o in OUTCOMES],
        ),
        Section(
            key="contacts",
            title="Kontakte nach Kontaktart",
            figures=[
                *(count(f"contact.{c}", CHANNEL_LABELS[c], report.contacts[c]) for c in CHANNELS),
                count("contacts_total", "Kontakte gesamt", report.contacts_total, d["contacts"]),
            ],
        ),
        Section(key="reach", title="Beratungen, schriftliche Hilfe und Kontaktversuche", figures=reach(report)),
        Section(key="outreach", title="Gemeldete Haushalte: erreicht?", figures=outreach(report)),
        Section(key="money", title="Mobilisierte Mittel, einmalig", figures=_one_off(report)),
        Section(key="monthly", title="Laufende Leistungen, je Monat", figures=_monthly(report)),
        *_funder_sections(report),
        Section(
            key="mediation",
            title="Nachbarschaftsvermittlung",
            figures=[
                count(
                    "mediations_held",
                    "Verfahren mit Vermittlungsgespräch im Zeitraum",
                    report.mediations_held,
                    d["mediations"],
                ),
                count("mediations_resolved", "davon mit Einigung", report.mediations_resolved),
                count("mediation_households", "beteiligte Haushalte", report.mediation_households),
            ],
        ),
        Section(
            key="installments",
            title="Ratenzahlungen",
            figures=[
                count(
                    f"installments.{s}",
                    INSTALLMENT_LABELS[s],
                    report.installments[s],
                    d["installments"] if s == INSTALLMENT_STATES[0] else None,
                )
                for s in INSTALLMENT_STATES
            ],
        ),
        Section(
            key="months",
            title="Nach Monat",
            figures=[
                Figure(
                    key=f"month.{m.month}",
                    label=month_name(m.month),
                    value=m.closed,
                    text=f"{number(m.closed)} abgeschlossen",
                    detail=f"{number(m.kept)} Wohnung erhalten ({percent(m.kept_rate)})"
                    f" · {number(m.contacts)} Kontakte",
                )
                for m in report.months
            ],
        ),
    ]


def _one_off(report: Report) -> list[Figure]:
    lines: list[Figure] = []
    for row in report.money:
        label = term(report.country, f"benefit.{row.kind}", row.kind)
        for part, cents in (
            ("grant", row.grant_cents),
            ("loan", row.loan_cents),
            ("unspecified", row.unspecified_cents),
        ):
            if cents:
                name = {"grant": "Zuschuss", "loan": "Darlehen", "unspecified": "ohne Angabe Zuschuss/Darlehen"}[part]
                lines.append(money(f"money.{row.kind}.{part}", f"{label}: {name}", cents))
    lines += [
        money("money.grant", "Zuschüsse gesamt", report.money_grant_cents),
        money("money.loan", "Darlehen gesamt", report.money_loan_cents),
    ]
    if report.money_unspecified_cents:
        lines.append(money("money.unspecified", "ohne Angabe gesamt", report.money_unspecified_cents))
    lines[0] = msgspec.structs.replace(lines[0], definition=report.definitions["money"])
    return lines


def _monthly(report: Report) -> list[Figure]:
    lines = [
        money(
            f"monthly.{row.kind}",
            f"{term(report.country, f'benefit.{row.kind}', row.kind)} (je Monat)",
            row.monthly_cents,
        )
        for row in report.money
        if row.monthly_cents
    ]
    over = sum(row.monthly_total_cents for row in report.money)
    total = money("monthly.over_months", "über die bewilligte Dauer (Monate × Betrag)", over)
    return [
        *lines,
        money("monthly.total", "laufende Leistungen gesamt (je Monat)", report.money_monthly_cents),
        msgspec.structs.replace(total, definition=report.definitions["monthly_total"]),
    ]


def _funder_sections(report: Report) -> list[Section]:
    f, d, country = report.funder, report.definitions, report.country
    intake = [
        count(f"intake.type.{k}", term(country, f"case_type.{k}", k), n, d["intake"] if i == 0 else None)
        for i, (k, n) in enumerate(f.intake_by_type.items())
    ]
    intake += [
        count(f"intake.trigger.{k}", f"Anlass: {term(country, f'trigger.{k}', TRIGGER_LABELS.get(k, k))}", n)
        for k, n in f.intake_by_trigger.items()
    ]
    referrals = [
        count(f"referral.{i}", service or "ohne Angabe", n)
        for i, (service, n) in enumerate(f.referrals_by_service.items())
    ]
    if referrals:
        referrals[0] = msgspec.structs.replace(referrals[0], definition=d["referrals"])
    hours = f.counselling_minutes / 60
    time = [
        Figure(
            key="counselling.hours",
            label="Beratungszeit",
            value=round(hours, 2),
            text=f"{hours:.1f}".replace(".", ",") + f"{NBSP}Std.",
            detail=f"aus {number(f.timed_contacts)} Kontakten mit erfasster Dauer",
            definition=d["counselling_time"],
        )
    ]
    basis = [
        money(f"basis.one_off.{k}", f"{term(country, f'legal_basis.{k}', LEGAL_BASIS_LABELS.get(k, k))}: einmalig", c)
        for k, c in f.one_off_by_basis.items()
    ]
    basis += [
        money(f"basis.monthly.{k}", f"{term(country, f'legal_basis.{k}', LEGAL_BASIS_LABELS.get(k, k))}: je Monat", c)
        for k, c in f.monthly_by_basis.items()
    ]
    answers = {"yes": "ja", "no": "nein", "unknown": "unbekannt", "open": "noch nicht beantwortet"}
    held = [
        count(
            f"follow_up.{asked}.{answer}", f"nach {months} Monaten: {label}", f.follow_ups.get(asked, {}).get(answer, 0)
        )
        for asked, months in (("tenancy_6m", 6), ("tenancy_12m", 12))
        for answer, label in answers.items()
    ]
    held[0] = msgspec.structs.replace(held[0], definition=d["follow_ups"])
    enquiries = f.enquiries or {"total": {"enquiries": 0, "minutes": 0}}
    total = enquiries.get("total", {})
    minutes = total.get("minutes", 0)
    booked = enquiries.get("appointments", {})
    asked = [
        count("enquiries.total", "Anonyme Anfragen und Kurzberatungen", total.get("enquiries", 0), d["enquiries"]),
        count(
            "appointments.held",
            "Persönliche Beratungen im Servicecenter (Termine wahrgenommen)",
            booked.get("held", 0),
            d["appointments"],
        ),
        count("appointments.missed", "Termine nicht wahrgenommen", booked.get("missed", 0)),
        count(
            "enquiries.with_contacts",
            "Kontakte und anonyme Anfragen zusammen",
            report.contacts_total + total.get("enquiries", 0),
        ),
        Figure(
            key="enquiries.hours",
            label="Beratungszeit der Anfragen",
            value=round(minutes / 60, 2),
            text=f"{minutes / 60:.1f}".replace(".", ",") + f"{NBSP}Std.",
        ),
        *(
            count(f"enquiries.channel.{k}", f"Kontaktart: {CHANNEL_LABELS.get(k, k)}", n)
            for k, n in enquiries.get("channel", {}).items()
        ),
        *(
            count(f"enquiries.topic.{k}", f"Thema: {term(country, f'enquiry_topic.{k}', k)}", n)
            for k, n in enquiries.get("topic", {}).items()
        ),
        *(
            count(f"enquiries.referred.{k}", f"Weitervermittelt: {term(country, f'enquiry_referral.{k}', k)}", n)
            for k, n in enquiries.get("referred_to", {}).items()
        ),
    ]
    return [
        Section(key="enquiries", title="Anonyme Anfragen und Kurzberatungen", figures=asked),
        Section(key="arrears", title=term(report.country, "report.arrears"), figures=_arrears_lines(report)),
        Section(key="sustainability", title="Nachhaltigkeit: Wohnung noch gehalten", figures=held),
        Section(
            key="intake",
            title="Aufnahme nach Fallart und Anlass",
            figures=intake or [count("intake.none", "Keine Aufnahmen", 0)],
        ),
        Section(
            key="referrals",
            title="Weitervermittlungen nach Fachdienst",
            figures=referrals or [count("referral.none", "Keine Weitervermittlungen", 0)],
        ),
        Section(key="time", title="Beratungszeit", figures=time),
        Section(
            key="basis",
            title="Mobilisierte Mittel nach Rechtsgrundlage",
            figures=basis or [count("basis.none", "Keine Bewilligungen", 0)],
        ),
    ]


def _arrears_lines(report: Report) -> list[Figure]:
    f = report.funder
    lines = [count("arrears.cases", "Abgeschlossene Fälle mit erfassten Rückständen", f.arrears_cases)]
    lines[0] = msgspec.structs.replace(lines[0], definition=report.definitions["arrears"])
    if not f.arrears_cases:
        return lines
    reduced = f.arrears_intake_cents - f.arrears_closing_cents
    share = reduced / f.arrears_intake_cents if f.arrears_intake_cents else None
    return [
        *lines,
        money("arrears.intake", "Summe bei Aufnahme", f.arrears_intake_cents),
        money("arrears.closing", "Summe bei Abschluss", f.arrears_closing_cents),
        msgspec.structs.replace(
            money("arrears.reduced", "Verringerung (Aufnahme minus Abschluss)", reduced),
            detail=None if share is None else f"{percent(share)} der Summe bei Aufnahme",
        ),
        money("arrears.intake_median", "Median bei Aufnahme", f.arrears_intake_median_cents or 0),
        money("arrears.closing_median", "Median bei Abschluss", f.arrears_closing_median_cents or 0),
    ]
