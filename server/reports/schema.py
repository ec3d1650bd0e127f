"""What a report holds: the counts computed from the records (``Report``), their German definitions, and the
outcome groups the rates are made of (docs/domain.md "Figures for the board")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal, get_args

import msgspec

from server.records.schemas import BenefitKind, CaseOutcome, Channel

__all__ = [
    "AVOIDED_OUTCOMES",
    "BENEFIT_KINDS",
    "CHANNELS",
    "CONSULTING_CHANNELS",
    "DEFINITIONS",
    "INSTALLMENT_STATES",
    "KEPT_OUTCOMES",
    "LOST_OUTCOMES",
    "OUTCOMES",
    "OUTREACH",
    "STATISTICS",
    "WRITTEN_CHANNELS",
    "CaseLine",
    "Figure",
    "FunderFigures",
    "MoneyRow",
    "MonthRow",
    "Report",
    "Section",
]

CHANNELS: tuple[str, ...] = get_args(Channel)
OUTCOMES = tuple(outcome.value for outcome in CaseOutcome)
BENEFIT_KINDS: tuple[str, ...] = get_args(BenefitKind)
INSTALLMENT_STATES = ("kept", "unrecorded", "behind", "broken", "completed", "cancelled")

# "Wohnung erhalten": the household kept its flat. A move to a cheaper flat does not keep it, but it does avoid
# homelessness ("Wohnungslosigkeit vermieden"). Lost tenancies are lost whether or not the household found a roof.
KEPT_OUTCOMES = frozenset({CaseOutcome.SECURED, CaseOutcome.SECURED_INSTALLMENT, CaseOutcome.SECURED_BENEFIT})
AVOIDED_OUTCOMES = KEPT_OUTCOMES | {CaseOutcome.MOVED_AFFORDABLE}
LOST_OUTCOMES = frozenset({CaseOutcome.LOST_HOUSED, CaseOutcome.LOST_HOMELESS})

# docs/domain.md "Definitions": a consultation is a reached contact by phone, in person or at the door; written
# help is an e-mail, SMS or letter the team sent; a contact that reached nobody is an attempt.
CONSULTING_CHANNELS = ("phone", "in_person", "home_visit")
WRITTEN_CHANNELS = ("email", "sms", "letter")
# How a household the team was told about was first reached (server/reports/counts.py how_reached), after "told".
OUTREACH = (
    "told",
    "reached_incoming",
    "reached_contact",
    "reached_visit",
    "reached_visit_after_letters",
    "not_reached",
)
# The dimensions of the Land's statistics recorded on each case (server/reports/statistics.py).
STATISTICS = (
    "age_group",
    "gender",
    "household_type",
    "children",
    "income_status",
    "nationality_group",
    "housing_at_start",
    "trigger",
)

DEFINITIONS = {
    "households_supported": "Haushalte mit mindestens einem Fall, der im Zeitraum offen war (eröffnet bis zum Ende "
    "des Zeitraums und nicht für den ganzen Zeitraum abgeschlossen); ein Haushalt mit zwei Fällen zählt einmal.",
    "monthly_total": "Laufende Leistungen über die bewilligte Dauer: Monatsbetrag × bewilligte Monate (ohne Angabe "
    "der Dauer: ein Monat).",
    "new_cases": "Fälle, die im Zeitraum eröffnet wurden.",
    "closed_cases": "Fälle, die im Zeitraum abgeschlossen wurden und es noch sind (ein wieder geöffneter Fall "
    "zählt nicht); das Ergebnis ist das zuletzt erfasste.",
    "tenancy_kept": "Wohnung erhalten: der Haushalt wohnt weiter in seiner Wohnung – ohne weitere Hilfe, mit "
    "Ratenzahlung oder mit Leistung bzw. Schuldenübernahme. Ein Umzug zählt nicht.",
    "homelessness_avoided": "Wohnungslosigkeit vermieden: Wohnung erhalten oder Umzug in eine günstigere Wohnung.",
    "corrections": "Fälle, deren Abschluss im Zeitraum erst nach dessen Ende erfasst oder berichtigt wurde (Datum oder "
    "Ergebnis); sie zählen mit dem berichtigten Stand. Ein später wieder geöffneter Fall bleibt im Zeitraum seines "
    "Abschlusses abgeschlossen.",
    "rates": "Quote: Anteil an allen im Zeitraum abgeschlossenen Fällen; in Klammern an den Fällen, in denen ein "
    "Kontakt zustande kam (ohne „Kein Kontakt zustande gekommen“).",
    "intake": "Fälle, die im Zeitraum eröffnet wurden, nach Fallart und nach Anlass der Aufnahme.",
    "referrals": "Weitervermittlungen mit Versanddatum im Zeitraum, nach Fachdienst.",
    "enquiries": "Anonyme Anfragen und Kurzberatungen ohne Fall (ohne Namen erfasst) mit Datum im Zeitraum, nach "
    "Kontaktart, Thema und Weitervermittlung; sie zählen als Kontakte und als Beratungen.",
    "appointments": "Termine im Servicecenter mit Beginn im Zeitraum, die als wahrgenommen erfasst sind: eine "
    "persönliche Beratung der anrufenden Person vor Ort (ohne Namen erfasst, wie die Anfrage, aus der sie kam).",
    "follow_ups": "Nachfrage 6 und 12 Monate nach einem Abschluss mit erhaltener Wohnung, fällig im Zeitraum: "
    "Wohnung noch gehalten ja, nein, unbekannt, oder noch nicht beantwortet.",
    "arrears": "Miet- und Nebenkostenrückstände laut Einschätzung bei den im Zeitraum abgeschlossenen Fällen: der "
    "erste erfasste Betrag (bei Aufnahme) und der letzte bis zum Abschlusstag erfasste (bei Abschluss); Fälle ohne "
    "erfassten Betrag zählen nicht mit. Gerichts- und Anwaltskosten sind keine Rückstände.",
    "counselling_time": "Summe der bei Kontakten im Zeitraum erfassten Dauer (ein Hausbesuch zählt über seinen "
    "Kontakt); Kontakte ohne erfasste Dauer zählen nicht mit.",
    "contacts": "Erfasste Kontakte mit Zeitpunkt im Zeitraum, nach Kontaktart; ein Hausbesuch zählt über seinen "
    "Kontakt, einmal.",
    "consultations": "Beratung: ein Kontakt mit Erreichen der Mieterin oder des Mieters, am Telefon, persönlich oder "
    "beim Hausbesuch, gleich wer angerufen hat; ein Hausbesuch zählt über seinen Kontakt, einmal.",
    "attempts": "Kontaktversuch: ein Kontakt, bei dem niemand erreicht wurde (niemand am Telefon, niemand an der "
    "Tür, Brief unzustellbar). Versuche sind keine Beratungen.",
    "written": "Schriftliche Hilfe: E-Mails, SMS und Briefe, die das Team geschickt hat. Ein Brief zählt, wenn er "
    "als versandt erfasst ist, nie beim Drucken; eingegangene Schreiben zählen als Kontakte, nicht als Hilfe.",
    "first_contacts": "Erstkontakt: der erste Kontakt eines Falls, bei dem die Mieterin oder der Mieter erreicht "
    "wurde (Datum „Erstkontakt am“ im Zeitraum); jeder weitere ist eine Folgeberatung.",
    "phone_consultations": "Beratungen am Telefon: Anrufe, bei denen die Mieterin oder der Mieter erreicht wurde, "
    "gleich wer angerufen hat, und anonyme Anfragen am Telefon. Ein Anruf ohne Erreichen ist ein Kontaktversuch.",
    "personal_consultations": "Persönliche Beratungen: Gespräche im Büro und beim Hausbesuch, bei denen die Mieterin "
    "oder der Mieter erreicht wurde, wahrgenommene Termine im Servicecenter und anonyme Anfragen vor Ort. Niemand an "
    "der Tür ist ein Kontaktversuch.",
    "written_help": "Hilfe per E-Mail, SMS und Brief: was das Team geschickt hat, und anonyme Anfragen per E-Mail. Ein "
    "Brief zählt, wenn er als versandt erfasst ist, nie beim Drucken; eingegangene Schreiben zählen nicht.",
    "success_rate": "Erfolgsquote: im Zeitraum abgeschlossene Fälle mit erhaltener Wohnung (ohne weitere Hilfe, mit "
    "Ratenzahlung oder mit Leistung bzw. Schuldenübernahme) von allen im Zeitraum abgeschlossenen Fällen.",
    "outreach": "Haushalte, von denen das Team durch eine Mitteilung des Gerichts oder eine Meldung der Vermieterin "
    "erfahren hat (Fälle mit diesem Anlass, eröffnet im Zeitraum), und wie sie zuerst erreicht wurden: sie haben "
    "sich selbst gemeldet, am Telefon oder persönlich, beim Hausbesuch (nach unbeantworteten Briefen oder ohne), "
    "oder bisher nicht.",
    "statistics": "Fälle, die im Zeitraum offen waren, nach den bei der Aufnahme erfassten Angaben („unbekannt“, wenn "
    "nichts erfasst ist); Wohnsituation bei Abschluss: die im Zeitraum abgeschlossenen Fälle; Zeit bis zum "
    "Erstkontakt: die Fälle mit Erstkontakt im Zeitraum, ab dem Tag des Anlasses. Felder mit 1 bis 4 Fällen werden "
    "als „< 5“ gezeigt; bleibt in einer Tabelle nur ein Feld verborgen, wird das nächstkleinere mit verborgen („x“), "
    "damit sich das kleine nicht aus der Summe errechnen lässt.",
    "mediations": "Vermittlungsverfahren mit mindestens einem Vermittlungsgespräch im Zeitraum; mit Einigung: "
    "eine Einigung wurde erzielt.",
    "money": "Bewilligte oder teilweise bewilligte Anträge mit Bescheid im Zeitraum, Betrag nach Leistung, als "
    "Zuschuss, als Darlehen oder ohne diese Angabe; einmalige Beträge und laufende Leistungen (je Monat) getrennt, "
    "nie zusammengezählt.",
    "median_days": "Median der Tage vom Erstkontakt (sonst Eröffnung) bis zum Abschluss der im Zeitraum "
    "abgeschlossenen Fälle.",
    "installments": "Ratenzahlungen, die bis zum Ende des Zeitraums begonnen haben, mit ihrem Stand an dessen Ende "
    "(oder heute), nur nach erfassten Zahlungen: eingehalten, Zahlung nicht erfasst (eine fällige Rate ist weder "
    "als bezahlt noch als nicht gezahlt erfasst), im Rückstand (eine Rate nicht gezahlt), gescheitert (zwei oder "
    "mehr nicht gezahlt, oder so erfasst), erfüllt, aufgehoben.",
}


class MoneyRow(msgspec.Struct, kw_only=True, frozen=True):
    kind: str
    applications: int
    grant_cents: int
    loan_cents: int
    unspecified_cents: int
    # Monthly benefits (per month), kept apart from the one-off sums above, and over their granted months.
    monthly_cents: int = 0
    monthly_total_cents: int = 0


class MonthRow(msgspec.Struct, kw_only=True, frozen=True):
    month: str  # YYYY-MM
    closed: int
    kept: int
    kept_rate: float | None
    contacts: int


class CaseLine(msgspec.Struct, kw_only=True, frozen=True):
    """One case of the anonymised list: no names, addresses, titles or free text."""

    number: int
    type: str
    risk: str
    phase: str | None
    status: str
    opened_month: str | None
    closed_on: str | None
    outcome: str | None
    days_to_closure: int | None
    contacts: int
    home_visits: int
    granted_cents: int


class FunderFigures(msgspec.Struct, kw_only=True, frozen=True):
    """Intake, referrals, counselling time and money by legal basis (server/reports/funder.py)."""

    intake_by_type: dict[str, int] = msgspec.field(default_factory=dict)
    intake_by_trigger: dict[str, int] = msgspec.field(default_factory=dict)  # "unknown" when none was recorded
    referrals_by_service: dict[str, int] = msgspec.field(default_factory=dict)
    counselling_minutes: int = 0  # the durations recorded on the period's contacts
    timed_contacts: int = 0  # contacts with a duration
    one_off_by_basis: dict[str, int] = msgspec.field(default_factory=dict)  # cents, "unknown" when none recorded
    monthly_by_basis: dict[str, int] = msgspec.field(default_factory=dict)  # cents per month
    # The follow-ups due in the period, 6 and 12 months after a closing with the tenancy kept: yes, no, unknown,
    # and open (not answered yet).
    follow_ups: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    # Anonymous enquiries without a case: by channel, topic and referral, and {"enquiries": n, "minutes": m}.
    enquiries: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    # Rent and service-charge arrears of the cases closed in the period (those with an amount recorded by the end
    # of the closing day): the first amount recorded (intake) and the last one by then (closing), in cents.
    arrears_cases: int = 0
    arrears_intake_cents: int = 0
    arrears_closing_cents: int = 0
    arrears_intake_median_cents: int | None = None
    arrears_closing_median_cents: int | None = None


class Figure(msgspec.Struct, kw_only=True, frozen=True):
    """One line of a report as every output shows it: the screen, the print page and the CSV."""

    key: str
    label: str
    # The number: a count, euros, a rate in per cent or days, as ``unit`` says (one JSON number type, so that a
    # count of 0 is not two things at once in the API's schema).
    value: float | None
    unit: Literal["count", "euro", "percent", "days"] = "count"
    text: str  # the value as written: "57 %", "1.234,50 €"
    detail: str | None = None  # "4 von 7", "67 % mit Kontakt"
    definition: str | None = None
    tone: str | None = None  # outcomes: "good" (kept), "fair" (homelessness avoided), "bad" (lost), "neutral"
    previous: str | None = None  # the organisation's report: the same line in the same period of the year before


class Section(msgspec.Struct, kw_only=True, frozen=True):
    key: str
    title: str
    figures: list[Figure]


class Report(msgspec.Struct, kw_only=True, frozen=True):
    team_id: uuid.UUID | None  # none: the whole organisation
    team_name: str
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    time_zone: str
    households_supported: int  # distinct households: two cases of one household count once
    cases_supported: int
    new_cases: int
    closed_cases: int
    # Closed cases in which a contact came about (all but "no contact"): the second denominator of the rates.
    closed_reached: int
    # Cases whose closures in the period were recorded or changed after its end (counted as they stand now).
    corrections: int = 0
    outcomes: dict[str, int]
    tenancy_kept: int
    homelessness_avoided: int
    kept_rate: float | None
    kept_rate_reached: float | None
    avoided_rate: float | None
    avoided_rate_reached: float | None
    contacts: dict[str, int]
    contacts_total: int
    # docs/domain.md "Definitions": consultations (reached by phone, in person, at the door), attempts (nobody
    # reached), written help sent (e-mail, SMS, letter), by channel; cases with their first contact in the period.
    consultations: dict[str, int] = msgspec.field(default_factory=dict)
    attempts: dict[str, int] = msgspec.field(default_factory=dict)
    written: dict[str, int] = msgspec.field(default_factory=dict)
    first_contacts: int = 0
    # The households the team was told about (a court's notice, a landlord's referral) opened in the period: "told",
    # and how each was first reached (server/reports/counts.py how_reached).
    outreach: dict[str, int] = msgspec.field(default_factory=dict)
    mediations_held: int
    mediations_resolved: int
    mediation_households: int
    money: list[MoneyRow]
    money_grant_cents: int
    money_loan_cents: int
    money_unspecified_cents: int
    money_monthly_cents: int
    median_days_to_closure: float | None
    installments: dict[str, int]
    months: list[MonthRow]
    funder: FunderFigures = msgspec.field(default_factory=FunderFigures)
    definitions: dict[str, str]
    cases: list[CaseLine] = msgspec.field(default_factory=list)
    # The figures above as lines for the screen, the print page and the CSV (server/reports/figures.py).
    sections: list[Section] = msgspec.field(default_factory=list)
    # The Land's statistics, one section per dimension, small cells suppressed (server/reports/statistics.py).
    statistics: list[Section] = msgspec.field(default_factory=list)
    # The organisation's country: its lines use the country's words (an Austrian team's "Mietzinsrückstand").
    country: str = "DE"
