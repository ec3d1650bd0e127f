"""The msgspec schema of every record kind (SYNC-PROTOCOL.md "Records", DOMAIN.md).

Each kind is a Struct of its ``fields``. Amounts are integer cents in EUR; dates are ``date`` (``YYYY-MM-DD``)
and moments are ``datetime`` (RFC 3339). The fields the protocol fixes keep exactly their names, types and
values; every other field has a default, so a record carrying only the fixed fields is valid.

Evolving a kind: add a field with a default and bump :data:`SCHEMA_VERSION`; never change an existing
annotation. Unknown fields are refused (``forbid_unknown_fields``), so a client never believes it saved a
field this server would have dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any, ClassVar, Literal

import msgspec

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "Action",
    "Assessment",
    "BenefitApplication",
    "BenefitKind",
    "Case",
    "CaseOutcome",
    "Channel",
    "Conflict",
    "Consent",
    "Contact",
    "Household",
    "InstallmentAgreement",
    "LegalEvent",
    "Mediation",
    "Note",
    "RecordFields",
    "Referral",
    "RuleViolation",
    "Visit",
]

SCHEMA_VERSION = 1

Cents = Annotated[int, msgspec.Meta(ge=0, le=10_000_000_00, description="EUR amount in cents")]
PositiveCents = Annotated[int, msgspec.Meta(gt=0, le=10_000_000_00, description="EUR amount in cents, > 0")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=20_000)]
NoteText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=24 * 60)]
Year = Annotated[int, msgspec.Meta(ge=1900, le=2100)]
Count = Annotated[int, msgspec.Meta(ge=0, le=50)]
# RFC 3339 with an offset; a moment without a time zone is ambiguous and refused.
Moment = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class RecordFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every kind's fields.

    ``SET_FIELDS`` merge by union instead of conflicting; ``IMMUTABLE_FIELDS`` cannot change after creation
    (a change is rejected with ``append-only``); ``CLEAR`` names the fields copied into clear columns for
    queries and access control (SECURITY.md part 1: only ids, assignee, team, dates, status and outcome).
    """

    KIND: ClassVar[str] = ""
    SET_FIELDS: ClassVar[frozenset[str]] = frozenset()
    IMMUTABLE_FIELDS: ClassVar[frozenset[str]] = frozenset()
    REQUIRED_ON_CREATE: ClassVar[frozenset[str]] = frozenset()

    def clear_status(self) -> str | None:
        """The status enum kept in clear, if the kind has one."""
        return None

    def clear_at(self) -> dt.datetime | None:
        """The date that orders and filters this record in clear (planned time, due date ...)."""
        return None

    def clear_assignee(self) -> uuid.UUID | None:
        """The user this record is assigned to, in clear for scope rules."""
        return None

    def clear_outcome(self) -> str | None:
        """The outcome enum kept in clear (closed cases), for reports."""
        return None


def _day(value: dt.date | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)


class RuleViolation(ValueError):
    """A cross-field rule that failed, naming the field to show the error on."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


def _must(condition: bool, message: str, field: str | None = None) -> None:
    # msgspec turns a ValueError raised in __post_init__ into a ValidationError whose __cause__ is this error.
    if not condition:
        raise RuleViolation(message, field)


# --- household ---------------------------------------------------------------------------------------------


class Member(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A person living in the household."""

    name: Short = ""
    birth_year: Year | None = None
    relation: Literal["tenant", "partner", "child", "parent", "relative", "other"] = "other"
    dependant: bool = False


class Address(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The rented unit."""

    street: Short = ""
    house_number: Annotated[str, msgspec.Meta(max_length=20)] = ""
    unit: Annotated[str, msgspec.Meta(max_length=50)] = ""
    postcode: Annotated[str, msgspec.Meta(max_length=10)] = ""
    city: Short = ""


class Household(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Haushalt: the members and the tenancy."""

    KIND = "household"
    REQUIRED_ON_CREATE = frozenset({"name"})

    name: Title
    members: Annotated[list[Member], msgspec.Meta(max_length=30)] = msgspec.field(default_factory=list)
    address: Address = msgspec.field(default_factory=Address)
    net_rent_cents: Cents = 0
    service_charges_cents: Cents = 0
    heating_cents: Cents = 0
    tenancy_start: dt.date | None = None
    payment_method: Literal["standing_order", "transfer", "direct_debit", "paid_by_agency", "cash", "other"] | None = (
        None
    )
    landlord: Short = ""
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    email: Annotated[str, msgspec.Meta(max_length=200)] = ""


# --- case ------------------------------------------------------------------------------------------------


class CaseOutcome(enum.StrEnum):
    """How a closed case ended (DOMAIN.md "Outcome"). The first four count as a secured tenancy."""

    SECURED = "secured"
    SECURED_INSTALLMENT = "secured_installment"
    SECURED_BENEFIT = "secured_benefit"
    MOVED_AFFORDABLE = "moved_affordable"
    LOST_HOUSED = "lost_housed"
    LOST_HOMELESS = "lost_homeless"
    NO_CONTACT = "no_contact"


SECURED_OUTCOMES = frozenset(
    {
        CaseOutcome.SECURED,
        CaseOutcome.SECURED_INSTALLMENT,
        CaseOutcome.SECURED_BENEFIT,
        CaseOutcome.MOVED_AFFORDABLE,
    }
)


class Case(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Fall: the unit of access scope, of encryption keys and of erasure."""

    KIND = "case"
    REQUIRED_ON_CREATE = frozenset({"team_id", "assigned_worker_id", "type", "status", "risk", "title"})

    team_id: uuid.UUID
    assigned_worker_id: uuid.UUID | None
    type: Literal["rent_arrears", "energy_debt", "psychosocial", "neighbour_conflict"]
    status: Literal["open", "closed"]
    risk: Literal["low", "medium", "high", "acute"]
    title: Title
    trigger: Literal["receivables", "court_notice", "neighbour_complaint", "outreach", "self_referral"] | None = None
    phase: Literal["pre_court", "court", "enforcement"] | None = None
    household_id: uuid.UUID | None = None
    opened_on: dt.date | None = None
    first_contact_on: dt.date | None = None
    closed_on: dt.date | None = None
    outcome: CaseOutcome | None = None
    reopen_reason: Text = ""
    summary: Text = ""

    def __post_init__(self) -> None:
        _must(self.status != "closed" or self.outcome is not None, "a closed case needs an outcome", "outcome")

    def clear_status(self) -> str | None:
        return self.status

    def clear_assignee(self) -> uuid.UUID | None:
        return self.assigned_worker_id

    def clear_outcome(self) -> str | None:
        return None if self.outcome is None else self.outcome.value

    def clear_at(self) -> dt.datetime | None:
        return _day(self.closed_on if self.status == "closed" else self.opened_on)


# --- visit, contact, note ----------------------------------------------------------------------------------


class Visit(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Hausbesuch / Termin."""

    KIND = "visit"
    REQUIRED_ON_CREATE = frozenset({"planned_at", "status"})

    assigned_worker_id: uuid.UUID | None = None
    planned_at: Moment
    status: Literal["planned", "done", "not_home", "cancelled"]
    visited_at: Moment | None = None
    card_left: bool = False
    purpose: Text = ""
    duration_minutes: Minutes | None = None

    def clear_status(self) -> str | None:
        return self.status

    def clear_at(self) -> dt.datetime | None:
        return self.planned_at

    def clear_assignee(self) -> uuid.UUID | None:
        return self.assigned_worker_id


Channel = Literal["phone", "email", "sms", "letter", "in_person", "home_visit"]


class Contact(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Kontakt: one counselling contact, counted by channel in the annual report."""

    KIND = "contact"
    REQUIRED_ON_CREATE = frozenset({"channel", "at"})

    channel: Channel
    at: Moment
    direction: Literal["outgoing", "incoming"] = "outgoing"
    reached: bool = True
    summary: Text = ""
    duration_minutes: Minutes | None = None
    visit_id: uuid.UUID | None = None

    def clear_at(self) -> dt.datetime | None:
        return self.at

    def clear_status(self) -> str | None:
        return self.channel


class Note(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Notiz: append-only free text. A correction is a new note that names the one it corrects."""

    KIND = "note"
    REQUIRED_ON_CREATE = frozenset({"text", "visit_id"})
    IMMUTABLE_FIELDS = frozenset({"text", "corrects_note_id"})

    text: NoteText
    visit_id: uuid.UUID | None = None
    corrects_note_id: uuid.UUID | None = None


# --- assessment --------------------------------------------------------------------------------------------


class HouseholdSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """1. Household: members, ages, dependants."""

    adults: Count | None = None
    children: Count | None = None
    dependants: Count | None = None
    youngest_age: Annotated[int, msgspec.Meta(ge=0, le=120)] | None = None
    oldest_age: Annotated[int, msgspec.Meta(ge=0, le=120)] | None = None
    notes: Text = ""


class HousingSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """2. Housing costs and tenancy."""

    net_rent_cents: Cents | None = None
    service_charges_cents: Cents | None = None
    heating_cents: Cents | None = None
    main_residence_registered: bool | None = None
    tenancy_since: dt.date | None = None
    notes: Text = ""


class ArrearsSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """3. Arrears and legal status."""

    rent_arrears_cents: Cents | None = None
    service_charge_arrears_cents: Cents | None = None
    court_costs_cents: Cents | None = None
    lawyer_costs_cents: Cents | None = None
    notice_received_on: dt.date | None = None
    lawsuit_filed_on: dt.date | None = None
    court_date: dt.date | None = None
    eviction_date: dt.date | None = None
    notes: Text = ""


IncomeSource = Literal[
    "wages", "pension", "unemployment_benefit", "citizens_income", "child_benefit", "maintenance", "other"
]


class IncomeItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One income of one household member."""

    member: Short = ""
    source: IncomeSource = "other"
    monthly_cents: Cents = 0
    proof_seen: bool = False


class IncomeSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """4. Income of every member, with proof seen."""

    items: Annotated[list[IncomeItem], msgspec.Meta(max_length=40)] = msgspec.field(default_factory=list)


BenefitKind = Literal[
    "wohngeld",
    "wohnbeihilfe",
    "kdu_direct_payment",
    "debt_takeover_loan",
    "debt_takeover_grant",
    "wohnschirm_rent",
    "wohnschirm_energy",
    "other",
]


class BenefitItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A benefit received or applied for."""

    kind: BenefitKind = "other"
    monthly_cents: Cents = 0
    applied_on: dt.date | None = None


class BenefitsSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """5. Benefits received and applied for."""

    received: Annotated[list[BenefitItem], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    applied: Annotated[list[BenefitItem], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)


class BudgetLine(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One monthly expense."""

    label: Short = ""
    monthly_cents: Cents = 0
    priority: bool = False  # rent and energy come first


class BudgetSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """6. Budget: fixed and variable expenses against income."""

    fixed: Annotated[list[BudgetLine], msgspec.Meta(max_length=40)] = msgspec.field(default_factory=list)
    variable: Annotated[list[BudgetLine], msgspec.Meta(max_length=40)] = msgspec.field(default_factory=list)


class Creditor(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One creditor."""

    name: Short = ""
    amount_cents: Cents = 0
    kind: Literal["landlord", "energy", "bank", "public", "telecom", "other"] = "other"


class DebtsSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """7. Debts and enforcement."""

    creditors: Annotated[list[Creditor], msgspec.Meta(max_length=40)] = msgspec.field(default_factory=list)
    garnishment: bool | None = None
    protected_account: bool | None = None
    notes: Text = ""


class EnergySection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """8. Energy: arrears, disconnection threatened or done."""

    arrears_cents: Cents | None = None
    supplier: Short = ""
    disconnection: Literal["none", "threatened", "done"] | None = None
    notes: Text = ""


class CauseSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """9. Cause and trigger."""

    causes: list[Literal["job_loss", "illness", "separation", "partner_death", "benefit_delay", "debt", "other"]] = (
        msgspec.field(default_factory=list)
    )
    details: Text = ""


class HealthSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """10. Health, psychosocial needs, domestic violence, services already involved."""

    notes: Text = ""
    domestic_violence: bool | None = None
    services_involved: Annotated[list[Short], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)


class NeighbourhoodSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """11. Neighbourhood: complaints, conflict parties."""

    complaints: bool | None = None
    conflict_parties: Text = ""


class RiskSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """12. Risk rating, next deadline, consents given."""

    risk: Literal["low", "medium", "high", "acute"] | None = None
    next_deadline: dt.date | None = None
    consents_given: Annotated[list[Short], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    notes: Text = ""


Document = Literal["id", "registration", "lease", "energy_bill", "income_proofs", "landlord_letters", "court_letters"]

# Form versions the server accepts. A version is fixed once answers exist: a new question means a new version.
ASSESSMENT_FORM_VERSIONS = frozenset({1})
ASSESSMENT_SECTIONS = (
    "household",
    "housing",
    "arrears",
    "income",
    "benefits",
    "budget",
    "debts",
    "energy",
    "cause",
    "health",
    "neighbourhood",
    "risk",
)


class Assessment(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Einschätzung der Wohn- und Lebenssituation: twelve sections, captured under one form version.

    Sections merge as whole fields; the document checklist is a set and merges by union.
    """

    KIND = "assessment"
    REQUIRED_ON_CREATE = frozenset({"form_version"})
    IMMUTABLE_FIELDS = frozenset({"form_version"})
    SET_FIELDS = frozenset({"documents"})

    form_version: int
    household: HouseholdSection = msgspec.field(default_factory=HouseholdSection)
    housing: HousingSection = msgspec.field(default_factory=HousingSection)
    arrears: ArrearsSection = msgspec.field(default_factory=ArrearsSection)
    income: IncomeSection = msgspec.field(default_factory=IncomeSection)
    benefits: BenefitsSection = msgspec.field(default_factory=BenefitsSection)
    budget: BudgetSection = msgspec.field(default_factory=BudgetSection)
    debts: DebtsSection = msgspec.field(default_factory=DebtsSection)
    energy: EnergySection = msgspec.field(default_factory=EnergySection)
    cause: CauseSection = msgspec.field(default_factory=CauseSection)
    health: HealthSection = msgspec.field(default_factory=HealthSection)
    neighbourhood: NeighbourhoodSection = msgspec.field(default_factory=NeighbourhoodSection)
    risk: RiskSection = msgspec.field(default_factory=RiskSection)
    documents: list[Document] = msgspec.field(default_factory=list)
    completed_at: Moment | None = None

    def __post_init__(self) -> None:
        _must(self.form_version in ASSESSMENT_FORM_VERSIONS, "unknown assessment form version", "form_version")
        self.documents = sorted(set(self.documents))  # a set, kept in a stable order

    def monthly_balance_cents(self) -> int:
        """Income minus fixed and variable expenses (section 6), in cents; negative means a shortfall."""
        income = sum(item.monthly_cents for item in self.income.items)
        income += sum(item.monthly_cents for item in self.benefits.received)
        expenses = sum(line.monthly_cents for line in (*self.budget.fixed, *self.budget.variable))
        return income - expenses

    def clear_at(self) -> dt.datetime | None:
        return self.completed_at


# --- actions, legal events, applications, agreements ------------------------------------------------------


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
        return _day(self.due_on)

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
        return _day(self.date)


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
            _must(self.decided_on >= self.submitted_on, "the decision date is before the submission date", "decided_on")

    def clear_status(self) -> str | None:
        return self.decision

    def clear_at(self) -> dt.datetime | None:
        return _day(self.decided_on or self.expected_decision_on or self.submitted_on)


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
        _must(self.monthly_rate_cents <= self.total_cents, "the monthly rate exceeds the total", "monthly_rate_cents")

    def clear_status(self) -> str | None:
        return self.status

    def clear_at(self) -> dt.datetime | None:
        return _day(self.start_on)


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
        return _day(self.sent_on)


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
            _must(self.withdrawn_on >= self.given_on, "the consent is withdrawn before it was given", "withdrawn_on")

    def clear_status(self) -> str | None:
        return "withdrawn" if self.withdrawn_on else "given"

    def clear_at(self) -> dt.datetime | None:
        return _day(self.given_on)


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
        _must(len(set(self.party_case_ids)) == len(self.party_case_ids), "a party is listed twice", "party_case_ids")

    def clear_status(self) -> str | None:
        return self.status


# --- conflict ---------------------------------------------------------------------------------------------


class Conflict(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Two concurrent values of one field, kept for a person to decide (SYNC-PROTOCOL.md merge rule)."""

    KIND = "conflict"

    record_kind: str
    record_id: uuid.UUID
    field: str | None
    server_value: Any
    client_value: Any
    server_user_id: uuid.UUID | None = None
    client_user_id: uuid.UUID
    client_device_id: uuid.UUID
    created_at: Moment
    status: Literal["open", "resolved"]
    resolution: Any = None
    resolved_by: uuid.UUID | None = None
    resolved_at: Moment | None = None

    def clear_status(self) -> str | None:
        return self.status

    def clear_at(self) -> dt.datetime | None:
        return self.created_at


KINDS: dict[str, type[RecordFields]] = {
    cls.KIND: cls
    for cls in (
        Household,
        Case,
        Visit,
        Contact,
        Note,
        Assessment,
        Action,
        LegalEvent,
        BenefitApplication,
        InstallmentAgreement,
        Referral,
        Mediation,
        Consent,
        Conflict,
    )
}
