"""The records of case work: actions, legal events, benefit applications, installment agreements, referrals,
consents and neighbour mediations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from server.records.assessment import BenefitKind
from server.records.fields import (
    Cents,
    PositiveCents,
    RecordFields,
    Short,
    Text,
    Title,
    day_start,
    must,
)


class Action(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Maßnahme: a task with a due date and an owner, possibly generated from a deadline."""

    KIND = "action"
    REQUIRED_ON_CREATE = frozenset({"title", "due_on"})

    title: Title
    due_on: dt.date
    owner_id: uuid.UUID | None = None
    status: Literal["open", "done", "cancelled"] = "open"
    done_on: dt.date | None = None
    source_kind: Literal["legal_event", "benefit_application", "installment_agreement"] | None = None
    source_id: uuid.UUID | None = None
    notes: Text = ""

    def clear_status(self) -> str | None:
        return self.status

    def clear_at(self) -> dt.datetime | None:
        return day_start(self.due_on)

    def clear_assignee(self) -> uuid.UUID | None:
        return self.owner_id


class LegalEvent(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Mahnung, Kündigung, Räumungsklage, Gerichtstermin, Räumungstermin: each with a date."""

    KIND = "legal_event"
    REQUIRED_ON_CREATE = frozenset({"type", "date"})

    type: Literal["reminder", "notice_to_quit", "eviction_lawsuit", "court_date", "eviction_date"]
    date: dt.date
    received_on: dt.date | None = None
    court: Short = ""
    reference: Annotated[str, msgspec.Meta(max_length=100)] = ""
    notes: Text = ""

    def clear_status(self) -> str | None:
        return self.type

    def clear_at(self) -> dt.datetime | None:
        return day_start(self.date)


class BenefitApplication(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Antrag: Wohngeld, Wohnbeihilfe, KdU direct payment, debt takeover, Wohnschirm ..."""

    KIND = "benefit_application"
    REQUIRED_ON_CREATE = frozenset({"kind"})

    kind: BenefitKind
    agency: Short = ""
    submitted_on: dt.date | None = None
    expected_decision_on: dt.date | None = None
    decided_on: dt.date | None = None
    decision: Literal["pending", "granted", "partly_granted", "refused", "withdrawn"] = "pending"
    amount_cents: Cents | None = None
    form: Literal["grant", "loan"] | None = None
    notes: Text = ""

    def __post_init__(self) -> None:
        if self.decided_on is not None and self.submitted_on is not None:
            must(self.decided_on >= self.submitted_on, "the decision date is before the submission date", "decided_on")

    def clear_status(self) -> str | None:
        return self.decision

    def clear_at(self) -> dt.datetime | None:
        return day_start(self.decided_on or self.expected_decision_on or self.submitted_on)


class Payment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One expected installment, paid or missed."""

    due_on: dt.date
    amount_cents: Cents = 0
    paid_on: dt.date | None = None
    missed: bool = False


class InstallmentAgreement(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Ratenzahlung with a landlord or an energy supplier."""

    KIND = "installment_agreement"
    REQUIRED_ON_CREATE = frozenset({"creditor", "total_cents", "monthly_rate_cents", "start_on"})

    creditor: Literal["landlord", "energy_supplier", "other"]
    creditor_name: Short = ""
    total_cents: PositiveCents
    monthly_rate_cents: PositiveCents
    start_on: dt.date
    status: Literal["active", "completed", "broken", "cancelled"] = "active"
    payments: Annotated[list[Payment], msgspec.Meta(max_length=240)] = msgspec.field(default_factory=list)
    notes: Text = ""

    def __post_init__(self) -> None:
        must(self.monthly_rate_cents <= self.total_cents, "the monthly rate exceeds the total", "monthly_rate_cents")

    def clear_status(self) -> str | None:
        return self.status

    def clear_at(self) -> dt.datetime | None:
        return day_start(self.start_on)


# --- referral, consent, mediation ------------------------------------------------------------------------


class Referral(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Vermittlung to a specialised service; needs a consent on file (checked against the case's consents)."""

    KIND = "referral"
    REQUIRED_ON_CREATE = frozenset({"service", "consent_id"})

    service: Title
    consent_id: uuid.UUID
    reason: Text = ""
    status: Literal["sent", "accepted", "declined", "completed"] = "sent"
    sent_on: dt.date | None = None
    consent_withdrawn: bool = False

    def clear_status(self) -> str | None:
        return self.status

    def clear_at(self) -> dt.datetime | None:
        return day_start(self.sent_on)


class Consent(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Einwilligung: purpose, recipient, given and withdrawn dates."""

    KIND = "consent"
    REQUIRED_ON_CREATE = frozenset({"purpose", "given_on"})

    purpose: Title
    recipient: Short = ""
    given_on: dt.date
    withdrawn_on: dt.date | None = None

    def __post_init__(self) -> None:
        if self.withdrawn_on is not None:
            must(self.withdrawn_on >= self.given_on, "the consent is withdrawn before it was given", "withdrawn_on")

    def clear_status(self) -> str | None:
        return "withdrawn" if self.withdrawn_on else "given"

    def clear_at(self) -> dt.datetime | None:
        return day_start(self.given_on)


class MediationSession(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One mediation meeting."""

    on: dt.date
    outcome: Text = ""


class Mediation(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Nachbarschaftskonflikt: two or more households, each a case of its own, referenced by case id."""

    KIND = "mediation"
    REQUIRED_ON_CREATE = frozenset({"party_case_ids"})

    party_case_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=2, max_length=20)]
    topic: Short = ""
    sessions: Annotated[list[MediationSession], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    agreement_reached: bool | None = None
    status: Literal["open", "closed"] = "open"
    outcome: Text = ""

    def __post_init__(self) -> None:
        must(len(set(self.party_case_ids)) == len(self.party_case_ids), "a party is listed twice", "party_case_ids")

    def clear_status(self) -> str | None:
        return self.status
