"""The headline table ("Auf einen Blick"), the consultations, attempts and written help, and how the households the
team was told about were reached: the report's lines that follow docs/domain.md "Definitions" word for word."""

from __future__ import annotations

import msgspec

from server.reports.labels import CHANNEL_LABELS, term
from server.reports.schema import WRITTEN_CHANNELS, Figure, Report
from server.reports.words import count, number, percent

__all__ = ["headline", "outreach", "reach"]


def _enquiries(report: Report, channel: str) -> int:
    return report.funder.enquiries.get("channel", {}).get(channel, 0)


def headline(report: Report, kept: Figure) -> list[Figure]:
    """The table a funder reads first, each line by its definition (docs/domain.md "Definitions")."""
    d, c = report.definitions, report.consultations
    held = report.funder.enquiries.get("appointments", {}).get("held", 0)
    phone_asked, desk_asked, mail_asked = (_enquiries(report, k) for k in ("phone", "in_person", "email"))
    personal = c.get("in_person", 0) + c.get("home_visit", 0) + held + desk_asked
    written = report.written
    return [
        count("tenancy_kept", "Wohnungen erhalten", report.tenancy_kept, d["tenancy_kept"], tone="good"),
        msgspec.structs.replace(
            kept,
            label="Erfolgsquote",
            detail=f"{number(report.tenancy_kept)} von {number(report.closed_cases)} abgeschlossenen Fällen",
            definition=d["success_rate"],
        ),
        msgspec.structs.replace(
            count("phone_consultations", "Telefonische Beratungen", c.get("phone", 0) + phone_asked),
            detail=f"davon {number(phone_asked)} anonyme Anfragen",
            definition=d["phone_consultations"],
        ),
        msgspec.structs.replace(
            count("personal_consultations", "Persönliche Beratungen", personal),
            detail=f"davon {number(c.get('home_visit', 0))} Hausbesuche, {number(held)} Termine im Servicecenter",
            definition=d["personal_consultations"],
        ),
        msgspec.structs.replace(
            count("written_help", "Hilfe per E-Mail, SMS und Brief", sum(written.values()) + mail_asked),
            detail=" · ".join(
                f"{CHANNEL_LABELS[k]} {number(written.get(k, 0) + (mail_asked if k == 'email' else 0))}"
                for k in WRITTEN_CHANNELS
            ),
            definition=d["written_help"],
        ),
        count("households_supported", "Unterstützte Haushalte", report.households_supported, d["households_supported"]),
        count("mediations_held", "Nachbarschafts\u00advermittlungen", report.mediations_held, d["mediations"]),
    ]


def reach(report: Report) -> list[Figure]:
    d = report.definitions
    return [
        *(
            count(f"consultation.{k}", f"Beratung: {CHANNEL_LABELS[k]}", n, d["consultations"] if i == 0 else None)
            for i, (k, n) in enumerate(report.consultations.items())
        ),
        *(
            count(f"written.{k}", f"Geschickt: {CHANNEL_LABELS[k]}", n, d["written"] if i == 0 else None)
            for i, (k, n) in enumerate(report.written.items())
        ),
        count("attempts", "Kontaktversuche ohne Erreichen", sum(report.attempts.values()), d["attempts"]),
        *(count(f"attempt.{k}", f"davon {CHANNEL_LABELS[k]}", n) for k, n in report.attempts.items() if n),
        count("first_contacts", "Erstkontakte", report.first_contacts, d["first_contacts"]),
    ]


TOLD = "Gemeldete Haushalte (Mitteilung des Gerichts, Meldung der Vermieterin)"


def outreach(report: Report) -> list[Figure]:
    told = report.outreach.get("told", 0)
    lines = [
        count(
            f"outreach.{k}",
            TOLD if k == "told" else f"davon {term(report.country, f'reached.{k}')}",
            n,
            report.definitions["outreach"] if k == "told" else None,
        )
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
            text=number(reached),
            detail=f"{percent(share)} der gemeldeten Haushalte",
        ),
    )
    return lines
