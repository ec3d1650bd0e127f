// Printable letters filled from the case, offline: the templates come from /letters.json (the organisation's own
// letterhead and texts included) and are kept for offline use; ``{{name}}`` placeholders are filled with the
// case's values, every value escaped as text. A value the case does not hold prints as a blank line to fill in
// by hand.

const RAW = new Set(["letterhead", "signature_tenant", "signature_worker"]);

export function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** ``template`` with its placeholders replaced; ``raw`` values (letterhead, signatures) are trusted HTML. */
export function fillTemplate(template, values) {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name) => {
    const value = values[name];
    if (RAW.has(name)) return value || "";
    if (value === undefined || value === null || value === "") return '<span class="blank"></span>';
    return escape(value);
  });
}

const euro = (cents) => (cents || cents === 0 ? new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).format(cents / 100) : null);
const german = (isoDay) => (isoDay ? isoDay.slice(0, 10).split("-").reverse().join(".") : null);

/** The values a letter can use, from the case's records (the newest of each kind unless ``chosen`` names one). */
export function valuesOf(records, { organisation = "", worker = "", labels = {}, chosen = {} } = {}) {
  const of = (kind) => records.filter((r) => r.kind === kind && !r.deleted);
  const pick = (kind, newest = (r) => r.id) => of(kind).find((r) => r.id === chosen[kind]) || of(kind).sort((a, b) => String(newest(b)).localeCompare(String(newest(a))))[0];
  const household = pick("household")?.fields || {};
  const address = household.address || {};
  const tenant = (household.members || []).find((m) => m.relation === "tenant")?.name || household.name;
  const assessment = pick("assessment")?.fields || {};
  const arrears = assessment.arrears || {};
  const totalArrears = (arrears.rent_arrears_cents || 0) + (arrears.service_charge_arrears_cents || 0) + (arrears.court_costs_cents || 0) + (arrears.lawyer_costs_cents || 0);
  const events = of("legal_event").map((r) => r.fields);
  const latest = (type) => events.filter((e) => e.type === type).sort((a, b) => String(b.dated_on || b.scheduled_at || "").localeCompare(String(a.dated_on || a.scheduled_at || "")))[0];
  const lawsuit = latest("eviction_lawsuit") || latest("court_date") || {};
  const notice = latest("notice_to_quit");
  const eviction = latest("eviction_date");
  const benefit = pick("benefit_application", (r) => r.fields.decided_on || r.fields.submitted_on || "")?.fields || {};
  const agreement = pick("installment_agreement", (r) => r.fields.start_on || "")?.fields || {};
  const consent = pick("consent", (r) => r.fields.given_on || "")?.fields || {};
  const rent = (household.net_rent_cents || 0) + (household.service_charges_cents || 0) + (household.heating_cents || 0);
  const reference = events.map((e) => e.reference).find(Boolean);
  return {
    organisation,
    worker_name: worker,
    today: german(new Date().toLocaleDateString("sv-SE")),
    place: address.city || "",
    tenant_name: tenant,
    tenant_street: [address.street, address.house_number].filter(Boolean).join(" ") + (address.unit ? `, ${address.unit}` : ""),
    tenant_city: [address.postcode, address.city].filter(Boolean).join(" "),
    landlord: household.landlord,
    rent_total: rent ? euro(rent) : null,
    rent_arrears: euro(arrears.rent_arrears_cents),
    total_arrears: totalArrears ? euro(totalArrears) : null,
    court: lawsuit.court || events.map((e) => e.court).find(Boolean),
    court_reference: lawsuit.reference || reference,
    notice_date: notice ? german(notice.dated_on || notice.served_on) : null,
    eviction_date: eviction ? german(eviction.scheduled_at) : null,
    agency: benefit.agency,
    decision_date: german(benefit.decided_on),
    decision_notified: german(benefit.notified_on),
    benefit_kind: benefit.kind ? labels.benefit?.(benefit.kind) : null,
    agreement_creditor: agreement.creditor_name || (agreement.creditor === "landlord" ? household.landlord : null),
    agreement_total: euro(agreement.total_cents),
    agreement_rate: euro(agreement.monthly_rate_cents),
    agreement_start: german(agreement.start_on),
    consent_purpose: consent.purpose,
    consent_recipients: [consent.recipient, ...(consent.scope || [])].filter(Boolean).join(", "),
    consent_given_on: german(consent.given_on),
    consent_valid_until: consent.valid_until ? german(consent.valid_until) : "auf Widerruf",
  };
}

/** Which record a letter's signatures belong to. */
export const SIGNED_BY = { consent: "consent", installment: "installment_agreement" };
