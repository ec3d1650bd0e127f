// The fields of the tablet's forms, as data: the case-work forms (FORMS, screens/work.js) and the sections of the
// assessment (SECTIONS, screens/assessment.js). They are the tablet's copy of the record schemas
// (server/records/), so tests/unit/test_catalogue.py holds every field to the schema and ``required`` to the
// schema's fields required on creation. This module imports only the enums, so Node reads it as the browser does.
//
// A field is [name, type, options, option label prefix, required]; types: count, age, int, cents, date, moment,
// tri (yes/no/unknown), text, short, enum, multi (a set of enum values), lines (a list of short strings), list
// (rows of sub-fields), check. Labels come from the catalogue as ``field.<kind or section>.<name>``.
import { ENUMS } from "./enums.js";

const LEGAL_TYPES = ENUMS.legal;
const BENEFIT_KINDS = ENUMS.benefit;

export const FORMS = {
  legal_event: [
    ["type", "enum", LEGAL_TYPES, "legal", true],
    ["notice_kind", "enum", ENUMS.notice_kind, "notice_kind"],
    ["dated_on", "date"],
    ["served_on", "date"],
    ["scheduled_at", "moment"],
    ["until_on", "date"],
    ["court", "short"],
    ["reference", "short"],
    ["notes", "text"],
  ],
  action: [["title", "short", null, null, true], ["due_on", "date", null, null, true], ["notes", "text"]],
  benefit_application: [
    ["kind", "enum", BENEFIT_KINDS, "benefit", true],
    ["agency", "short"],
    ["reference", "short"],
    ["submitted_on", "date"],
    ["expected_decision_on", "date"],
    ["decision", "enum", ENUMS.decision, "decision", true],
    ["decided_on", "date"],
    ["notified_on", "date"],
    ["instructions_missing", "check"],
    ["amount_cents", "cents"],
    ["period", "enum", ENUMS.benefit_period, "benefit_period"],
    ["months", "count"],
    ["form", "enum", ["grant", "loan"], "benefit_form"],
    ["legal_basis", "enum", ENUMS.legal_basis, "legal_basis"],
    ["objection", "enum", ENUMS.objection, "objection"],
    ["notes", "text"],
  ],
  installment_agreement: [
    ["creditor", "enum", ENUMS.creditor_ia, "creditor_ia", true],
    ["creditor_name", "short"],
    ["total_cents", "cents", null, null, true],
    ["monthly_rate_cents", "cents", null, null, true],
    ["start_on", "date", null, null, true],
    ["status", "enum", ENUMS.ia_status, "ia_status", true],
    ["landlord_withdraws", "tri"],
    ["rent_kept_paid", "tri"],
    ["notes", "text"],
  ],
  consent: [
    ["purpose", "short", null, null, true],
    ["recipient", "short"],
    ["scope", "lines"],
    ["form", "enum", ENUMS.consent_form, "consent_form"],
    ["given_on", "date", null, null, true],
    ["valid_until", "date"],
    ["withdrawn_on", "date"],
  ],
  referral: [["service", "short", "services", null, true], ["reason", "text"], ["status", "enum", ENUMS.referral_status, "referral_status", true], ["sent_on", "date"]],
  mediation: [["topic", "short"], ["sessions", "list", [["on", "date"], ["outcome", "short"]]], ["agreement_reached", "tri"], ["status", "enum", ["open", "closed"], "mediation_status", true], ["outcome", "text"]],
};

const INCOME_SOURCES = ENUMS.income_source;
const CREDITOR_KINDS = ENUMS.creditor;
const CAUSES = ENUMS.cause;
/** The documents the risk section asks about (asked apart from the section, as the record's ``documents``). */
export const DOCUMENTS = ENUMS.document;
const RISKS = ENUMS.risk;

const budgetLine = [["label", "short"], ["monthly_cents", "cents"], ["priority", "check"]];
const benefitItem = [["kind", "enum", BENEFIT_KINDS, "benefit"], ["monthly_cents", "cents"], ["applied_on", "date"]];

export const SECTIONS = {
  household: [["adults", "count"], ["children", "count"], ["dependants", "count"], ["youngest_age", "age"], ["oldest_age", "age"], ["notes", "text"]],
  housing: [["net_rent_cents", "cents"], ["service_charges_cents", "cents"], ["heating_cents", "cents"], ["main_residence_registered", "tri"], ["tenancy_since", "date"], ["notes", "text"]],
  arrears: [
    ["rent_arrears_cents", "cents"],
    ["service_charge_arrears_cents", "cents"],
    ["use_compensation_arrears_cents", "cents"],
    ["court_costs_cents", "cents"],
    ["lawyer_costs_cents", "cents"],
    ["notice_received_on", "date"],
    ["lawsuit_filed_on", "date"],
    ["court_date", "date"],
    ["eviction_date", "date"],
    ["notes", "text"],
  ],
  income: [["items", "list", [["member", "short"], ["source", "enum", INCOME_SOURCES, "income_source"], ["monthly_cents", "cents"], ["proof_seen", "check"]]]],
  benefits: [["received", "list", benefitItem], ["applied", "list", benefitItem]],
  budget: [["fixed", "list", budgetLine], ["variable", "list", budgetLine]],
  debts: [["creditors", "list", [["name", "short"], ["amount_cents", "cents"], ["kind", "enum", CREDITOR_KINDS, "creditor"]]], ["garnishment", "tri"], ["protected_account", "tri"], ["notes", "text"]],
  energy: [["arrears_cents", "cents"], ["supplier", "short"], ["disconnection", "enum", ENUMS.disconnection, "disconnection"], ["notes", "text"]],
  cause: [["causes", "multi", CAUSES, "cause"], ["details", "text"]],
  health: [["notes", "text"], ["domestic_violence", "tri"], ["services_involved", "lines"]],
  neighbourhood: [["complaints", "tri"], ["conflict_parties", "text"]],
  risk: [["risk", "enum", RISKS, "risk"], ["next_deadline", "date"], ["consents_given", "lines"], ["notes", "text"]],
};
