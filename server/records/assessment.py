"""The living-situation assessment: twelve sections, one record per case and form version."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from server.records.fields import (
    Cents,
    Count,
    Moment,
    RecordFields,
    Short,
    Text,
    must,
)


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
    # Nutzungsentschädigung owed since the tenancy ended by a notice (§ 546a BGB): arrears, like the rent.
    use_compensation_arrears_cents: Cents | None = None
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
# Version 2 no longer asks what the case's records hold (docs/legal.md): the rent and tenancy start (household),
# the dates of notice, lawsuit, hearing and eviction (legal events), the benefits applied for (benefit
# applications), the next deadline (computed) and the consents (consent records). It shows and links them instead.
ASSESSMENT_FORM_VERSIONS = frozenset({1, 2})
LINKED_IN_VERSION_2 = {
    "housing": ("net_rent_cents", "service_charges_cents", "heating_cents", "tenancy_since"),
    "arrears": ("notice_received_on", "lawsuit_filed_on", "court_date", "eviction_date"),
    "benefits": ("applied",),
    "risk": ("next_deadline", "consents_given"),
}
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
    PAST_MOMENTS = frozenset({"completed_at"})
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
        must(self.form_version in ASSESSMENT_FORM_VERSIONS, "unknown assessment form version", "form_version")
        if self.form_version >= 2:
            for section, names in LINKED_IN_VERSION_2.items():
                for name in names:
                    must(
                        getattr(getattr(self, section), name) in (None, []),
                        f"form version 2 takes {section}.{name} from the case's records; record it there",
                        section,
                    )
        self.documents = sorted(set(self.documents))  # a set, kept in a stable order

    def monthly_balance_cents(self) -> int:
        """Income minus fixed and variable expenses (section 6), in cents; negative means a shortfall."""
        income = sum(item.monthly_cents for item in self.income.items)
        income += sum(item.monthly_cents for item in self.benefits.received)
        expenses = sum(line.monthly_cents for line in (*self.budget.fixed, *self.budget.variable))
        return income - expenses

    def clear_at(self) -> dt.datetime | None:
        return self.completed_at
