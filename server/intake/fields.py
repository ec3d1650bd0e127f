"""What a referrer hands over, and the words of a referral's course."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from server.records.fields import Cents, Short, Text

__all__ = [
    "DECLINE_REASONS",
    "STAGES",
    "Accepted",
    "CourtNotice",
    "DeclineReason",
    "Duplicate",
    "InboxItem",
    "ReferralFields",
    "ReferralOut",
    "Stage",
]

Reason = Literal["arrears", "neighbour_complaints", "living_situation", "other"]
DeclineReason = Literal["not_our_area", "already_supported", "settled", "no_consent", "other"]
DECLINE_REASONS: tuple[str, ...] = ("not_our_area", "already_supported", "settled", "no_consent", "other")
# What a referrer sees of the course: never an outcome, a note or a document (docs/security.md "Referrals").
Stage = Literal["received", "contact_attempted", "in_counselling", "closed"]
STAGES: tuple[str, ...] = ("received", "contact_attempted", "in_counselling", "closed")


FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def plausible(name: str, *days: dt.date | None) -> None:
    """A name with letters in it, and days from 2000 to 2100 (a typo's year 206 is refused, not filed)."""
    if not name.strip():
        raise ValueError("the tenant's name is empty")
    if any(day is not None and not FIRST_DAY <= day <= LAST_DAY for day in days):
        raise ValueError("a date lies outside 2000 to 2100")


class ReferralFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A household handed over by property management: who, where, which tenancy, why, the arrears by part, the
    dates of a notice or lawsuit, and a note for the team."""

    tenant_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    street: Short = ""
    house_number: Annotated[str, msgspec.Meta(max_length=20)] = ""
    unit: Annotated[str, msgspec.Meta(max_length=50)] = ""
    postcode: Annotated[str, msgspec.Meta(max_length=10)] = ""
    city: Short = ""
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    contract_number: Annotated[str, msgspec.Meta(max_length=40)] = ""
    reason: Reason = "arrears"
    rent_arrears_cents: Cents | None = None
    service_charge_arrears_cents: Cents | None = None
    other_arrears_cents: Cents | None = None
    notice_served_on: dt.date | None = None
    lawsuit_served_on: dt.date | None = None
    court_date: dt.date | None = None
    note: Text = ""

    def __post_init__(self) -> None:
        plausible(self.tenant_name, self.notice_served_on, self.lawsuit_served_on, self.court_date)


class CourtNotice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The court's notice of an eviction lawsuit (§ 22 Abs. 9 SGB II in Germany, § 33a MRG in Austria) as the
    office enters it: the court, its reference (Aktenzeichen), when the lawsuit was filed or served, the tenant and
    the flat."""

    court: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    filed_on: dt.date | None = None
    served_on: dt.date | None = None
    tenant_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    street: Short = ""
    house_number: Annotated[str, msgspec.Meta(max_length=20)] = ""
    unit: Annotated[str, msgspec.Meta(max_length=50)] = ""
    postcode: Annotated[str, msgspec.Meta(max_length=10)] = ""
    city: Short = ""

    def __post_init__(self) -> None:
        if self.filed_on is None and self.served_on is None:
            raise ValueError("a court notice needs the day the lawsuit was filed or served")
        plausible(self.tenant_name, self.filed_on, self.served_on)

    def as_referral(self) -> ReferralFields:
        """What the team was told, kept as a referral (sealed like one)."""
        when = ", ".join(
            f"{label} {day.strftime('%d.%m.%Y')}"
            for label, day in (("eingereicht am", self.filed_on), ("zugestellt am", self.served_on))
            if day is not None
        )
        return ReferralFields(
            tenant_name=self.tenant_name,
            street=self.street,
            house_number=self.house_number,
            unit=self.unit,
            postcode=self.postcode,
            city=self.city,
            reason="arrears",
            lawsuit_served_on=self.served_on,
            note=f"Mitteilung des Gerichts: {self.court}, Az. {self.reference}, Räumungsklage {when}.",
        )


class ReferralOut(msgspec.Struct, kw_only=True, frozen=True):
    """What a referrer sees of their referral: whom they handed over, and how far it has come; never an outcome, a
    note, a document or the worker's name."""

    id: uuid.UUID
    received_at: dt.datetime
    tenant_name: str
    contract_number: str
    stage: Stage


class Duplicate(msgspec.Struct, kw_only=True, frozen=True):
    case_id: uuid.UUID
    assigned_worker_id: uuid.UUID | None
    reason: str  # "address" or "tenant"


class ReferralFileOut(msgspec.Struct, kw_only=True, frozen=True):
    """A file handed over with a referral: the inbox fetches it by id."""

    id: uuid.UUID
    title: str
    content_type: str
    size: int


class InboxItem(msgspec.Struct, kw_only=True, frozen=True):
    """One referral in the team's inbox, with the open cases that may be the same household."""

    id: uuid.UUID
    received_at: dt.datetime
    source: str
    submitted_by: uuid.UUID
    status: str
    case_id: uuid.UUID | None
    decline_reason: str | None
    stage: Stage
    fields: ReferralFields | None  # None when its content could not be read (reported, never guessed)
    duplicates: list[Duplicate]
    files: list[ReferralFileOut] = msgspec.field(default_factory=list)


class Accepted(msgspec.Struct, kw_only=True, frozen=True):
    referral_id: uuid.UUID
    case_id: uuid.UUID
    created: bool  # a new case; else the household's open case was linked
