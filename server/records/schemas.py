"""The msgspec schema of every record kind (docs/sync-protocol.md "Records", docs/domain.md).

Each kind is a Struct of its ``fields``. Amounts are integer cents in EUR; dates are ``date`` (``YYYY-MM-DD``)
and moments are ``datetime`` (RFC 3339). The fields the protocol fixes keep exactly their names, types and
values; every other field has a default, so a record carrying only the fixed fields is valid.

Evolving a kind: add a field with a default and bump :data:`SCHEMA_VERSION`; never change an existing
annotation, or, when a field's meaning must change (version 2 split a legal event's ``date``), translate the old
form on the way in and out (:mod:`server.records.legacy`) and rewrite the stored records once. Unknown fields
are refused (``forbid_unknown_fields``), so a client never believes it saved a field this server would have
dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from server.records.assessment import Assessment, BenefitKind
from server.records.casework import (
    Action,
    BenefitApplication,
    Consent,
    InstallmentAgreement,
    LegalEvent,
    Mediation,
    Referral,
)
from server.records.documents import Attachment
from server.records.fields import (
    Cents,
    Count,
    FieldRuleFailed,
    Minutes,
    Moment,
    NoteText,
    RecordFields,
    Short,
    Text,
    Title,
    Year,
    day_start,
    must,
)

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "Action",
    "Assessment",
    "Attachment",
    "BenefitApplication",
    "BenefitKind",
    "Case",
    "CaseOutcome",
    "Channel",
    "Conflict",
    "Consent",
    "Contact",
    "FieldRuleFailed",
    "Household",
    "InstallmentAgreement",
    "LegalEvent",
    "Mediation",
    "Note",
    "RecordFields",
    "Referral",
    "Visit",
]

SCHEMA_VERSION = 2


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
    # The landlord's number of the tenancy (Vertragsnummer), as a referral names it.
    contract_number: Annotated[str, msgspec.Meta(max_length=40)] = ""
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    email: Annotated[str, msgspec.Meta(max_length=200)] = ""


# --- case ------------------------------------------------------------------------------------------------


class CaseOutcome(enum.StrEnum):
    """How a closed case ended (docs/domain.md "Outcome"). The first three keep the tenancy; with the move to a
    cheaper flat, four avoid homelessness (server/reports/schema.py)."""

    SECURED = "secured"
    SECURED_INSTALLMENT = "secured_installment"
    SECURED_BENEFIT = "secured_benefit"
    MOVED_AFFORDABLE = "moved_affordable"
    LOST_HOUSED = "lost_housed"
    LOST_HOMELESS = "lost_homeless"
    # Where the household went is not known (moved away without a word, contact broken off after the loss).
    UNKNOWN = "unknown"
    # The household was reached and declined the help (its reason in ``declined_reason``).
    HELP_DECLINED = "help_declined"
    NO_CONTACT = "no_contact"


# The statistics a Land and the umbrella bodies ask for (docs/domain.md "Statistics"), recorded once on the case;
# "unknown" is always an answer. Age groups and household types follow the BAG W Dokumentationssystem.
AgeGroup = Literal[
    "under_21", "21_to_24", "25_to_29", "30_to_39", "40_to_49", "50_to_59", "60_to_64", "65_plus", "unknown"
]
Gender = Literal["female", "male", "diverse", "unknown"]
HouseholdType = Literal["single", "single_parent", "couple", "couple_with_children", "other", "unknown"]
IncomeStatus = Literal[
    "employment", "unemployment_benefit", "basic_income", "pension", "other_benefit", "no_income", "unknown"
]
NationalityGroup = Literal["national", "eu", "non_eu", "unknown"]
Housing = Literal["own_tenancy", "with_others", "accommodation", "institution", "street", "unknown"]
DeclinedReason = Literal["no_need", "other_help", "refused", "withdrew", "other"]


class Case(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Fall: the unit of access scope, of encryption keys and of erasure."""

    KIND = "case"
    REQUIRED_ON_CREATE = frozenset({"team_id", "assigned_worker_id", "type", "status", "risk", "title"})

    team_id: uuid.UUID
    assigned_worker_id: uuid.UUID | None
    type: Literal["rent_arrears", "energy_debt", "psychosocial", "neighbour_conflict"]
    # closing_requested: the worker asked for closure; only a supervisor of the team sets closed (approves) or
    # returns the case to open with a comment (docs/domain.md "Closing").
    status: Literal["open", "closing_requested", "closed"]
    risk: Literal["low", "medium", "high", "acute"]
    title: Title
    trigger: (
        Literal["receivables", "court_notice", "notice", "lawsuit", "neighbour_complaint", "outreach", "self_referral"]
        | None
    ) = None
    # The day of the trigger (the notice received, the court's notice, the referral): the time to the first contact
    # is counted from it.
    trigger_on: dt.date | None = None
    phase: Literal["pre_court", "court", "enforcement"] | None = None
    household_id: uuid.UUID | None = None
    opened_on: dt.date | None = None
    first_contact_on: dt.date | None = None
    closed_on: dt.date | None = None
    outcome: CaseOutcome | None = None
    reopen_reason: Text = ""
    summary: Text = ""
    risk_reason: Text = ""
    # Who took the case on (set by the server to the writer when the case is created).
    intake_by: uuid.UUID | None = None
    closing_note: Text = ""
    closing_requested_on: dt.date | None = None
    # The supervisor's comment when a closure request is returned to the worker.
    closing_comment: Text = ""
    # The last handover: the worker it came from and the supervisor's note for the new one.
    handover_from: uuid.UUID | None = None
    handover_note: Text = ""
    handed_over_on: dt.date | None = None
    # The Zugang of an earlier notice to quit that the Schonfrist cured (§ 569 Abs. 3 Nr. 2 Satz 2 BGB: only once
    # in two years, counted from that notice's Zugang to the new one's); the deadline rules show the Schonfrist as
    # unavailable when it lies less than two years before the new notice's Zugang.
    cured_notice_served_on: dt.date | None = None
    # Statistics (docs/domain.md "Statistics"): the person counselled and the household, at the start.
    age_group: AgeGroup | None = None
    gender: Gender | None = None
    household_type: HouseholdType | None = None
    children: Count | None = None  # minors living in the household
    income_status: IncomeStatus | None = None
    nationality_group: NationalityGroup | None = None
    housing_at_start: Housing | None = None
    housing_at_end: Housing | None = None  # asked at closing
    declined_reason: DeclinedReason | None = None
    # Superseded by cured_notice_served_on (kept for records written before it): the day a notice was cured; the
    # rules use it in place of the Zugang only where that is not recorded.
    schonfrist_used_on: dt.date | None = None

    WRITER_FIELDS: ClassVar[frozenset[str]] = frozenset({"intake_by"})
    IMMUTABLE_FIELDS: ClassVar[frozenset[str]] = frozenset({"intake_by"})

    def __post_init__(self) -> None:
        must(
            self.status == "open" or self.outcome is not None,
            "a closed case, or one whose closure is requested, needs an outcome",
            "outcome",
        )
        must(
            self.status == "open" or self.outcome != CaseOutcome.HELP_DECLINED or self.declined_reason is not None,
            "help declined needs its reason",
            "declined_reason",
        )

    def clear_status(self) -> str | None:
        return self.status

    def clear_assignee(self) -> uuid.UUID | None:
        return self.assigned_worker_id

    def clear_outcome(self) -> str | None:
        return None if self.outcome is None else self.outcome.value

    def clear_at(self) -> dt.datetime | None:
        return day_start(self.closed_on if self.status == "closed" else self.opened_on)


# --- visit, contact, note ----------------------------------------------------------------------------------


class Visit(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Hausbesuch / Termin."""

    KIND = "visit"
    REQUIRED_ON_CREATE = frozenset({"planned_at", "status"})
    PAST_MOMENTS = frozenset({"visited_at"})

    assigned_worker_id: uuid.UUID | None = None
    planned_at: Moment
    status: Literal["planned", "done", "not_home", "cancelled"]
    visited_at: Moment | None = None
    card_left: bool = False
    purpose: Text = ""
    duration_minutes: Minutes | None = None
    # Who planned the visit (set by the server to the writer): a worker moves only the visits they planned.
    planned_by: uuid.UUID | None = None

    WRITER_FIELDS: ClassVar[frozenset[str]] = frozenset({"planned_by"})
    IMMUTABLE_FIELDS: ClassVar[frozenset[str]] = frozenset({"planned_by"})

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
    PAST_MOMENTS = frozenset({"at"})

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

    def clear_minutes(self) -> int | None:
        return self.duration_minutes

    def clear_reached(self) -> bool | None:
        return self.reached

    def clear_incoming(self) -> bool | None:
        return self.direction == "incoming"


class Note(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Notiz: append-only as a whole, so two devices never conflict on a note. A correction is a new note that
    names the one it corrects."""

    KIND = "note"
    REQUIRED_ON_CREATE = frozenset({"text", "visit_id"})
    IMMUTABLE_FIELDS = frozenset({"text", "visit_id", "corrects_note_id", "author_id", "written_at"})
    WRITER_FIELDS: ClassVar[frozenset[str]] = frozenset({"author_id"})
    PAST_MOMENTS = frozenset({"written_at"})

    text: NoteText
    visit_id: uuid.UUID | None = None
    corrects_note_id: uuid.UUID | None = None
    # Who wrote it (set by the server to the writer) and when, as the tablet recorded it.
    author_id: uuid.UUID | None = None
    written_at: Moment | None = None


# --- conflict ---------------------------------------------------------------------------------------------


class Conflict(RecordFields, kw_only=True, forbid_unknown_fields=True):
    """Two concurrent values of one field, kept for a person to decide (docs/sync-protocol.md merge rule)."""

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
    # obsolete: the record was deleted, which closed the conflict (there is nothing left to decide).
    status: Literal["open", "resolved", "obsolete"]
    resolution: Any = None
    resolved_by: uuid.UUID | None = None
    resolved_at: Moment | None = None
    # The field's version when the conflict was recorded: a resolve after a newer change of it is stale.
    field_version: int | None = None

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
        Attachment,
        Conflict,
    )
}
