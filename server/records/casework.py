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
    Moment,
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
    source_kind: Literal["legal_event", "benefit_application", "installment_agreement", "case"] | None = None
    source_id: uuid.UUID | None = None
    notes: Text = ""
    # The follow-up of a closed case whose tenancy was kept: 6 and 12 months after closing the worker asks whether
    # the household still holds it; the answer is reported (docs/domain.md "Figures for the board").
    follow_up: Literal["tenancy_6m", "tenancy_12m"] | None = None
    tenancy_held: Literal["yes", "no", "unknown"] | None = None

    def __post_init__(self) -> None:
        must(self.tenancy_held is None or self.follow_up is not None, "only a follow-up asks this", "tenancy_held")

    def clear_status(self) -> str | None:
        return self.status

    def clear_at(self) -> dt.datetime | None:
        return day_start(self.due_on)

    def clear_assignee(self) -> uuid.UUID | None:
        return self.owner_id


# The law a benefit is granted under: Germany (SGB II and XII, the Wohngeldgesetz) and Austria (Wohnbeihilfe of the
# Länder, in Vienna MA 40; the federal Wohnschirm).
LegalBasis = Literal[
    "sgb2_22_8",
    "sgb12_36",
    "wogg",
    "sgb2_22_1",
    "at_wohnbeihilfe",
    "at_ma40",
    "at_wohnschirm",
    "other",
]

LegalEventType = Literal[
    # Germany
    "reminder",
    "notice_to_quit",
    "court_notice_to_agency",
    "eviction_lawsuit",
    "court_date",
    "default_judgment",
    "judgment",
    "settlement",
    "eviction_period",
    "payment_commitment",
    "bailiff_notice",
    "eviction_date",
    "eviction_cancelled",
    "eviction_done",
    # Energy supply (§ 19 StromGVV/GasGVV): the threat, the announced day, the disconnection done
    "disconnection_threat",
    "disconnection_notice",
    "disconnection_done",
    # Austria (court_date, judgment, eviction_lawsuit and eviction_date are shared)
    "termination_notice",
    "municipality_notice",
    "eviction_order",
    "eviction_postponement",
]
# The types whose main date is an appointment (with a time): a hearing, the bailiff's eviction.
APPOINTMENTS = frozenset({"court_date", "eviction_date"})


class LegalEvent(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """A step of the legal procedure (docs/legal.md): a letter, a lawsuit, a hearing, a judgment, an eviction.

    Each date says what it is: ``dated_on`` the date on the letter or decision, ``served_on`` its service or receipt
    (Zustellung; for a lawsuit the Rechtshängigkeit), ``scheduled_at`` a hearing's or eviction's appointment,
    ``until_on`` the end of a granted period. The deadlines that follow are computed (server/records/deadlines.py).
    """

    KIND = "legal_event"
    REQUIRED_ON_CREATE = frozenset({"type"})

    type: LegalEventType
    dated_on: dt.date | None = None
    served_on: dt.date | None = None
    scheduled_at: Moment | None = None
    until_on: dt.date | None = None
    # For a notice to quit: fristlos (§ 543 Abs. 2 Nr. 3 BGB), ordentlich (§ 573 BGB), fristlos, hilfsweise
    # ordentlich, or not known yet (the letter is not at hand); the Schonfrist stays provisional until it is.
    notice_kind: Literal["extraordinary", "ordinary", "both", "unknown"] | None = None
    court: Short = ""
    reference: Annotated[str, msgspec.Meta(max_length=100)] = ""
    notes: Text = ""

    def __post_init__(self) -> None:
        must(
            any(d is not None for d in (self.dated_on, self.served_on, self.scheduled_at, self.until_on)),
            "a legal event needs at least one date (dated_on, served_on, scheduled_at or until_on)",
            "dated_on",
        )
        must(
            self.type == "notice_to_quit" or self.notice_kind is None, "only a notice to quit has a kind", "notice_kind"
        )

    def clear_status(self) -> str | None:
        return self.type

    def clear_at(self) -> dt.datetime | None:
        if self.scheduled_at is not None:
            return self.scheduled_at
        return day_start(self.until_on or self.served_on or self.dated_on)


class BenefitApplication(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Antrag: Wohngeld, Wohnbeihilfe, KdU direct payment, debt takeover, Wohnschirm ..."""

    KIND = "benefit_application"
    REQUIRED_ON_CREATE = frozenset({"kind"})

    kind: BenefitKind
    agency: Short = ""
    # The agency's reference for the household: the BG-Nummer at the Jobcenter, the Aktenzeichen at the Sozialamt.
    reference: Annotated[str, msgspec.Meta(max_length=100)] = ""
    submitted_on: dt.date | None = None
    expected_decision_on: dt.date | None = None
    decided_on: dt.date | None = None
    # When the decision reached the household (else it counts as known on the fourth day after decided_on, when
    # it was posted: § 37 Abs. 2 SGB X), and whether it lacked the instructions on how to object (§ 66 SGG).
    notified_on: dt.date | None = None
    instructions_missing: bool = False
    decision: Literal["pending", "granted", "partly_granted", "refused", "withdrawn"] = "pending"
    amount_cents: Cents | None = None
    form: Literal["grant", "loan"] | None = None
    # What the amount is: a one-off sum, or a monthly payment for ``months`` months (reports never add the two).
    period: Literal["one_off", "monthly"] | None = None
    months: Annotated[int, msgspec.Meta(ge=1, le=120)] | None = None
    legal_basis: LegalBasis | None = None
    # The Widerspruch against a refused or partly granted decision.
    objection: Literal["none", "filed", "granted", "refused"] | None = None
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
    # The terms that decide whether the agreement saves the tenancy: the landlord withdraws the notice or the
    # lawsuit, and the current rent keeps being paid besides the rates (None: not agreed or not known).
    landlord_withdraws: bool | None = None
    rent_kept_paid: bool | None = None
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
    # The bodies the tenant allows us to talk to (Jobcenter, landlord, debt counselling ...), how the consent was
    # given, and until when it holds.
    scope: Annotated[list[Short], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    form: Literal["written", "oral"] | None = None
    valid_until: dt.date | None = None
    given_on: dt.date
    withdrawn_on: dt.date | None = None

    def __post_init__(self) -> None:
        if self.withdrawn_on is not None:
            must(self.withdrawn_on >= self.given_on, "the consent is withdrawn before it was given", "withdrawn_on")
        if self.valid_until is not None:
            must(self.valid_until >= self.given_on, "the consent ends before it was given", "valid_until")

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
