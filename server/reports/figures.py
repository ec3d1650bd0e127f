"""A report as lines: the one source the screen, the print page and the CSV are written from, so that they cannot
disagree. Each line has a stable key, its German label, the number, the number as written, and where there is
one, its definition and a detail ("4 von 7")."""

from __future__ import annotations

import datetime as dt

import msgspec

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
    WRITTEN_CHANNELS,
    Figure,
    Report,
    Section,
)

__all__ = [
    "euros",
    "long_date",
    "month_name",
    "percent",
    "period_words",
    "sections",
    "tone",
]

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


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def percent(share: float | None) -> str:
    """0.5714 as "57 %"; no share (nothing to divide by) as "–"."""
    return "–" if share is None else f"{share * 100:.0f}{NBSP}%"


def euros(cents: int) -> str:
    """123456 as "1.234,56 €"."""
    whole, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{_number(whole)},{rest:02d}{NBSP}€"


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
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def tone(outcome: str) -> str:
    """How an outcome is coloured: kept green, a move amber, lost red, no contact grey."""
    if outcome in KEPT_OUTCOMES:
        return "good"
    if outcome in AVOIDED_OUTCOMES:
        return "fair"
    return "bad" if outcome in LOST_OUTCOMES else "neutral"


def _count(key: str, label: str, value: int, definition: str | None = None, tone: str | None = None) -> Figure:
    return Figure(key=key, label=label, value=value, text=_number(value), definition=definition, tone=tone)


def _rate(key: str, label: str, part: int, share: float | None, reached: float | None, report: Report) -> Figure:
    detail = f"{_number(part)} von {_number(report.closed_cases)}"
    if report.closed_reached != report.closed_cases:
        detail += f"; {percent(reached)} der {_number(report.closed_reached)} Fälle mit Kontakt"
    value = None if share is None else round(share * 100, 2)
    return Figure(key=key, label=label, value=value, unit="percent", text=percent(share), detail=detail)


def _money(key: str, label: str, cents: int) -> Figure:
    return Figure(key=key, label=label, value=cents / 100, unit="euro", text=euros(cents))


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
        Section(key="key", title="Auf einen Blick", figures=_headline(report, kept)),
        Section(
            key="cases",
            title="Fälle",
            figures=[
                _count(
                    "households_supported",
                    "Unterstützte Haushalte",
                    report.households_supported,
                    d["households_supported"],
                ),
                _count("cases_supported", "Fälle dieser Haushalte", report.cases_supported),
                _count("new_cases", "Neue Fälle", report.new_cases, d["new_cases"]),
                _count("closed_cases", "Abgeschlossene Fälle", report.closed_cases, d["closed_cases"]),
                _count("closed_reached", "davon mit Kontakt", report.closed_reached),
                _count(
                    "corrections",
                    "nach Ende des Zeitraums erfasst oder berichtigt",
                    report.corrections,
                    d["corrections"],
                ),
                _count("tenancy_kept", "Wohnung erhalten", report.tenancy_kept, d["tenancy_kept"], tone="good"),
                msgspec.structs.replace(kept, label="Quote Wohnung erhalten", definition=d["rates"]),
                _count(
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
            figures=[_count(f"outcome.{o}", OUTCOME_LABELS[o], report.outcomes[o], tone=tone(o)) for o in OUTCOMES],
        ),
        Section(
            key="contacts",
            title="Kontakte nach Kontaktart",
            figures=[
                *(_count(f"contact.{c}", CHANNEL_LABELS[c], report.contacts[c]) for c in CHANNELS),
                _count("contacts_total", "Kontakte gesamt", report.contacts_total, d["contacts"]),
            ],
        ),
        Section(key="reach", title="Beratungen, schriftliche Hilfe und Kontaktversuche", figures=_reach(report)),
        Section(key="outreach", title="Gemeldete Haushalte: erreicht?", figures=_outreach(report)),
        Section(key="money", title="Mobilisierte Mittel, einmalig", figures=_one_off(report)),
        Section(key="monthly", title="Laufende Leistungen, je Monat", figures=_monthly(report)),
        *_funder_sections(report),
        Section(
            key="mediation",
            title="Nachbarschaftsvermittlung",
            figures=[
                _count(
                    "mediations_held",
                    "Verfahren mit Vermittlungsgespräch im Zeitraum",
                    report.mediations_held,
                    d["mediations"],
                ),
                _count("mediations_resolved", "davon mit Einigung", report.mediations_resolved),
                _count("mediation_households", "beteiligte Haushalte", report.mediation_households),
            ],
        ),
        Section(
            key="installments",
            title="Ratenzahlungen",
            figures=[
                _count(
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
                    text=f"{_number(m.closed)} abgeschlossen",
                    detail=f"{_number(m.kept)} Wohnung erhalten ({percent(m.kept_rate)})"
                    f" · {_number(m.contacts)} Kontakte",
                )
                for m in report.months
            ],
        ),
    ]


def _enquiries(report: Report, channel: str) -> int:
    return report.funder.enquiries.get("channel", {}).get(channel, 0)


def _headline(report: Report, kept: Figure) -> list[Figure]:
    """The table a funder reads first, each line by its definition (docs/domain.md "Definitions")."""
    d, c = report.definitions, report.consultations
    held = report.funder.enquiries.get("appointments", {}).get("held", 0)
    phone_asked, desk_asked, mail_asked = (_enquiries(report, k) for k in ("phone", "in_person", "email"))
    personal = c.get("in_person", 0) + c.get("home_visit", 0) + held + desk_asked
    written = report.written
    return [
        _count("tenancy_kept", "Wohnungen erhalten", report.tenancy_kept, d["tenancy_kept"], tone="good"),
        msgspec.structs.replace(
            kept,
            label="Erfolgsquote",
            detail=f"{_number(report.tenancy_kept)} von {_number(report.closed_cases)} abgeschlossenen Fällen",
            definition=d["success_rate"],
        ),
        msgspec.structs.replace(
            _count("phone_consultations", "Telefonische Beratungen", c.get("phone", 0) + phone_asked),
            detail=f"davon {_number(phone_asked)} anonyme Anfragen",
            definition=d["phone_consultations"],
        ),
        msgspec.structs.replace(
            _count("personal_consultations", "Persönliche Beratungen", personal),
            detail=f"davon {_number(c.get('home_visit', 0))} Hausbesuche, {_number(held)} Termine im Servicecenter",
            definition=d["personal_consultations"],
        ),
        msgspec.structs.replace(
            _count("written_help", "Hilfe per E-Mail, SMS und Brief", sum(written.values()) + mail_asked),
            detail=" · ".join(
                f"{CHANNEL_LABELS[k]} {_number(written.get(k, 0) + (mail_asked if k == 'email' else 0))}"
                for k in WRITTEN_CHANNELS
            ),
            definition=d["written_help"],
        ),
        _count(
            "households_supported", "Unterstützte Haushalte", report.households_supported, d["households_supported"]
        ),
        _count("mediations_held", "Nachbarschafts\u00advermittlungen", report.mediations_held, d["mediations"]),
    ]


def _reach(report: Report) -> list[Figure]:
    d = report.definitions
    return [
        *(
            _count(f"consultation.{k}", f"Beratung: {CHANNEL_LABELS[k]}", n, d["consultations"] if i == 0 else None)
            for i, (k, n) in enumerate(report.consultations.items())
        ),
        *(
            _count(f"written.{k}", f"Geschickt: {CHANNEL_LABELS[k]}", n, d["written"] if i == 0 else None)
            for i, (k, n) in enumerate(report.written.items())
        ),
        _count("attempts", "Kontaktversuche ohne Erreichen", sum(report.attempts.values()), d["attempts"]),
        *(_count(f"attempt.{k}", f"davon {CHANNEL_LABELS[k]}", n) for k, n in report.attempts.items() if n),
        _count("first_contacts", "Erstkontakte", report.first_contacts, d["first_contacts"]),
    ]


OUTREACH_LABELS = {
    "told": "Gemeldete Haushalte (Mitteilung des Gerichts, Meldung der Vermieterin)",
    "reached_incoming": "haben sich selbst gemeldet",
    "reached_contact": "erreicht am Telefon oder persönlich",
    "reached_visit": "erreicht beim Hausbesuch",
    "reached_visit_after_letters": "erreicht erst beim Hausbesuch, nach unbeantworteten Briefen",
    "not_reached": "bisher nicht erreicht",
}


def _outreach(report: Report) -> list[Figure]:
    told = report.outreach.get("told", 0)
    lines = [
        _count(f"outreach.{k}", OUTREACH_LABELS[k], n, report.definitions["outreach"] if k == "told" else None)
        for k, n in report.outreach.items()
    ]
    reached = told - report.outreach.get("not_reached", 0)
    share = reached / told if told else None
    lines.insert(
        1,
        Figure(
            key="outreach.reached",
            label="erreicht",
            value=reached,
            text=_number(reached),
            detail=f"{percent(share)} der gemeldeten Haushalte",
        ),
    )
    return lines


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
                lines.append(_money(f"money.{row.kind}.{part}", f"{label}: {name}", cents))
    lines += [
        _money("money.grant", "Zuschüsse gesamt", report.money_grant_cents),
        _money("money.loan", "Darlehen gesamt", report.money_loan_cents),
    ]
    if report.money_unspecified_cents:
        lines.append(_money("money.unspecified", "ohne Angabe gesamt", report.money_unspecified_cents))
    lines[0] = msgspec.structs.replace(lines[0], definition=report.definitions["money"])
    return lines


def _monthly(report: Report) -> list[Figure]:
    lines = [
        _money(
            f"monthly.{row.kind}",
            f"{term(report.country, f'benefit.{row.kind}', row.kind)} (je Monat)",
            row.monthly_cents,
        )
        for row in report.money
        if row.monthly_cents
    ]
    over = sum(row.monthly_total_cents for row in report.money)
    total = _money("monthly.over_months", "über die bewilligte Dauer (Monate × Betrag)", over)
    return [
        *lines,
        _money("monthly.total", "laufende Leistungen gesamt (je Monat)", report.money_monthly_cents),
        msgspec.structs.replace(total, definition=report.definitions["monthly_total"]),
    ]


def _funder_sections(report: Report) -> list[Section]:
    f, d, country = report.funder, report.definitions, report.country
    intake = [
        _count(f"intake.type.{k}", term(country, f"case_type.{k}", k), n, d["intake"] if i == 0 else None)
        for i, (k, n) in enumerate(f.intake_by_type.items())
    ]
    intake += [
        _count(f"intake.trigger.{k}", f"Anlass: {term(country, f'trigger.{k}', TRIGGER_LABELS.get(k, k))}", n)
        for k, n in f.intake_by_trigger.items()
    ]
    referrals = [
        _count(f"referral.{i}", service or "ohne Angabe", n)
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
            detail=f"aus {_number(f.timed_contacts)} Kontakten mit erfasster Dauer",
            definition=d["counselling_time"],
        )
    ]
    basis = [
        _money(f"basis.one_off.{k}", f"{term(country, f'legal_basis.{k}', LEGAL_BASIS_LABELS.get(k, k))}: einmalig", c)
        for k, c in f.one_off_by_basis.items()
    ]
    basis += [
        _money(f"basis.monthly.{k}", f"{term(country, f'legal_basis.{k}', LEGAL_BASIS_LABELS.get(k, k))}: je Monat", c)
        for k, c in f.monthly_by_basis.items()
    ]
    answers = {"yes": "ja", "no": "nein", "unknown": "unbekannt", "open": "noch nicht beantwortet"}
    held = [
        _count(
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
        _count("enquiries.total", "Anonyme Anfragen und Kurzberatungen", total.get("enquiries", 0), d["enquiries"]),
        _count(
            "appointments.held",
            "Persönliche Beratungen im Servicecenter (Termine wahrgenommen)",
            booked.get("held", 0),
            d["appointments"],
        ),
        _count("appointments.missed", "Termine nicht wahrgenommen", booked.get("missed", 0)),
        _count(
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
            _count(f"enquiries.channel.{k}", f"Kontaktart: {CHANNEL_LABELS.get(k, k)}", n)
            for k, n in enquiries.get("channel", {}).items()
        ),
        *(
            _count(f"enquiries.topic.{k}", f"Thema: {term(country, f'enquiry_topic.{k}', k)}", n)
            for k, n in enquiries.get("topic", {}).items()
        ),
        *(
            _count(f"enquiries.referred.{k}", f"Weitervermittelt: {term(country, f'enquiry_referral.{k}', k)}", n)
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
            figures=intake or [_count("intake.none", "Keine Aufnahmen", 0)],
        ),
        Section(
            key="referrals",
            title="Weitervermittlungen nach Fachdienst",
            figures=referrals or [_count("referral.none", "Keine Weitervermittlungen", 0)],
        ),
        Section(key="time", title="Beratungszeit", figures=time),
        Section(
            key="basis",
            title="Mobilisierte Mittel nach Rechtsgrundlage",
            figures=basis or [_count("basis.none", "Keine Bewilligungen", 0)],
        ),
    ]


def _arrears_lines(report: Report) -> list[Figure]:
    f = report.funder
    lines = [_count("arrears.cases", "Abgeschlossene Fälle mit erfassten Rückständen", f.arrears_cases)]
    lines[0] = msgspec.structs.replace(lines[0], definition=report.definitions["arrears"])
    if not f.arrears_cases:
        return lines
    reduced = f.arrears_intake_cents - f.arrears_closing_cents
    share = reduced / f.arrears_intake_cents if f.arrears_intake_cents else None
    return [
        *lines,
        _money("arrears.intake", "Summe bei Aufnahme", f.arrears_intake_cents),
        _money("arrears.closing", "Summe bei Abschluss", f.arrears_closing_cents),
        msgspec.structs.replace(
            _money("arrears.reduced", "Verringerung (Aufnahme minus Abschluss)", reduced),
            detail=None if share is None else f"{percent(share)} der Summe bei Aufnahme",
        ),
        _money("arrears.intake_median", "Median bei Aufnahme", f.arrears_intake_median_cents or 0),
        _money("arrears.closing_median", "Median bei Abschluss", f.arrears_closing_median_cents or 0),
    ]
