// Printable letters filled from the case, offline: the templates come from /letters.json (the organisation's own
// letterhead and texts included) and are kept for offline use; ``{{name}}`` placeholders are filled with the
// case's values, each as a text node. A value the case does not hold prints as a blank line to fill in by hand; a
// sentence that does not apply (``false``) prints nothing.
// The letter is built element by element (buildLetter): no HTML parser sees a template or a value, so neither can
// bring a script, a handler or an unexpected element into the page.

import { now } from "./clock.js";

/** Placeholders filled with nodes rather than text: the letterhead (itself a template) and the signatures. */
const NODES = new Set(["letterhead", "signature_tenant", "signature_worker"]);
/** The markup a letter template may use; any other tag is left out (its text stays), any other attribute too. */
const TAGS = new Set(["address", "b", "br", "div", "em", "footer", "h1", "h2", "h3", "header", "hr", "i", "li", "ol", "p", "section", "small", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul"]);
const EMPTY = new Set(["br", "hr"]);
const ATTRIBUTES = new Set(["class"]);
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", shy: "\u00ad", ndash: "\u2013", mdash: "\u2014", sect: "\u00a7", euro: "\u20ac" };
const TOKENS = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*"[^"]*")?)*)\s*\/?>|\{\{\s*([a-z_]+)\s*\}\}|[^<{]+|[<{]/g;

/** Text with its character references (``&amp;``, ``&#167;``) turned into the characters. */
function decoded(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") return String.fromCodePoint(name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : Number(name.slice(1)));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The letter ``template`` as DOM nodes (a fragment), its placeholders filled from ``values``. */
export function buildLetter(template, values) {
  const root = document.createDocumentFragment();
  /** @type {Array<DocumentFragment | HTMLElement>} the element being filled, and those it is inside */
  const open = [root];
  const into = () => open[open.length - 1];
  for (const [token, closing, tag, attributes, name] of template.matchAll(TOKENS)) {
    if (token.startsWith("<!--")) continue;
    if (tag) {
      const lower = tag.toLowerCase();
      if (!TAGS.has(lower)) continue;
      if (closing) {
        const at = open.findLastIndex((node) => node instanceof Element && node.localName === lower);
        if (at > 0) open.length = at;
        continue;
      }
      const element = document.createElement(lower);
      for (const [, attribute, value] of attributes.matchAll(/([a-zA-Z-]+)\s*=\s*"([^"]*)"/g)) {
        if (ATTRIBUTES.has(attribute.toLowerCase())) element.setAttribute(attribute.toLowerCase(), decoded(value));
      }
      into().append(element);
      if (!EMPTY.has(lower) && !token.endsWith("/>")) open.push(element);
    } else if (name) {
      const value = values[name];
      if (NODES.has(name)) {
        if (value instanceof Node) into().append(value.cloneNode(true));
      } else if (value === false) {
        // a sentence that does not apply to this case: nothing is printed
      } else if (value === undefined || value === null || value === "") {
        const blank = document.createElement("span");
        blank.className = "blank";
        into().append(blank);
      } else {
        into().append(document.createTextNode(String(value)));
      }
    } else {
      into().append(document.createTextNode(decoded(token)));
    }
  }
  return root;
}

/** Mietschulden (rent, service charges and Nutzungsentschädigung) apart from the costs of the proceedings (court
 * and lawyer), as the reports count them: the Schonfrist asks for the first, never for the second. */
export function arrearsOf(a = {}) {
  const sum = (names) => names.reduce((total, name) => total + (a[name] || 0), 0);
  return {
    arrears: sum(["rent_arrears_cents", "service_charge_arrears_cents", "use_compensation_arrears_cents"]),
    costs: sum(["court_costs_cents", "lawyer_costs_cents"]),
  };
}

const euro = (cents) => (cents || cents === 0 ? new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).format(cents / 100) : null);
const german = (isoDay) => (isoDay ? isoDay.slice(0, 10).split("-").reverse().join(".") : null);
/** A moment's local day (an appointment at 00:30 on the 18th is stored as the 17th in UTC). */
const germanDay = (moment) => (moment ? german(new Date(moment).toLocaleDateString("sv-SE")) : null);

/** The values a letter can use, from the case's records (the newest of each kind unless ``chosen`` names one).
 *
 * @param {any[]} records
 * @param {{organisation?: string, worker?: string, labels?: {benefit?: (kind: string) => string}, chosen?: Record<string, string>, schonfrist?: string | null}} [options]
 */
export function valuesOf(records, { organisation = "", worker = "", labels = {}, chosen = {}, schonfrist = null } = {}) {
  const of = (kind) => records.filter((r) => r.kind === kind && !r.deleted);
  const pick = (kind, newest = (r) => r.id) => of(kind).find((r) => r.id === chosen[kind]) || of(kind).sort((a, b) => String(newest(b)).localeCompare(String(newest(a))))[0];
  const household = pick("household")?.fields || {};
  const address = household.address || {};
  // A person signs and declares; the household's name ("Haushalt Beispiel") is no one's signature.
  const person = (household.members || []).find((m) => m.relation === "tenant")?.name || null;
  const tenant = person || household.name;
  const assessment = pick("assessment")?.fields || {};
  const arrears = assessment.arrears || {};
  const owed = arrearsOf(arrears);
  const parts = [
    ["Miete", arrears.rent_arrears_cents],
    ["Betriebskosten", arrears.service_charge_arrears_cents],
    ["Nutzungsentschädigung", arrears.use_compensation_arrears_cents],
  ].filter(([, cents]) => cents);
  const costs = [
    ["Gerichtskosten", arrears.court_costs_cents],
    ["Anwaltskosten", arrears.lawyer_costs_cents],
  ].filter(([, cents]) => cents);
  const health = assessment.health || {};
  const healthRecorded = Boolean((health.notes || "").trim() || health.domestic_violence === true || (health.services_involved || []).length);
  const events = of("legal_event").map((r) => r.fields);
  const latest = (type) => events.filter((e) => e.type === type).sort((a, b) => String(b.dated_on || b.scheduled_at || "").localeCompare(String(a.dated_on || a.scheduled_at || "")))[0];
  const lawsuit = latest("eviction_lawsuit") || latest("termination_notice") || latest("court_date") || {};
  const notice = latest("notice_to_quit");
  const termination = latest("termination_notice"); // Austria: the court's Aufkündigung
  const eviction = latest("eviction_date");
  const threat = latest("disconnection_threat");
  const announced = latest("disconnection_notice");
  const energy = assessment.energy || {};
  const benefit = pick("benefit_application", (r) => r.fields.decided_on || r.fields.submitted_on || "")?.fields || {};
  const agreement = pick("installment_agreement", (r) => r.fields.start_on || "")?.fields || {};
  const consent = pick("consent", (r) => r.fields.given_on || "")?.fields || {};
  const rent = (household.net_rent_cents || 0) + (household.service_charges_cents || 0) + (household.heating_cents || 0);
  const reference = events.map((e) => e.reference).find(Boolean);
  return {
    organisation,
    worker_name: worker,
    today: german(now().toLocaleDateString("sv-SE")),
    place: address.city || "",
    tenant_name: tenant,
    tenant_street: [address.street, address.house_number].filter(Boolean).join(" ") + (address.unit ? `, ${address.unit}` : ""),
    tenant_city: [address.postcode, address.city].filter(Boolean).join(" "),
    landlord: household.landlord,
    rent_total: rent ? euro(rent) : null,
    rent_arrears: euro(arrears.rent_arrears_cents),
    tenant_person: person,
    total_arrears: owed.arrears ? euro(owed.arrears) : null,
    arrears_parts: parts.length ? parts.map(([what, cents]) => `${what} ${euro(cents)}`).join(", ") : null,
    costs_note: costs.length
      ? `Daneben bestehen ${costs.map(([what, cents]) => `${what} von ${euro(cents)}`).join(" und ")}. Sie gehören nicht zu den Mietschulden; für die Schonfrist müssen sie nicht gezahlt werden.`
      : false,
    schonfrist_date: schonfrist ? german(schonfrist) : null,
    court: lawsuit.court || events.map((e) => e.court).find(Boolean),
    court_reference: lawsuit.reference || reference,
    notice_date: notice ? german(notice.dated_on || notice.served_on) : null,
    termination_date: termination ? german(termination.served_on || termination.dated_on) : null,
    eviction_date: eviction ? germanDay(eviction.scheduled_at) : null,
    eviction_note: eviction ? `Ein Delogierungstermin ist für den ${germanDay(eviction.scheduled_at)} angesetzt.` : false,
    supplier: [announced, threat].find((e) => e?.court)?.court || energy.supplier,
    energy_arrears: euro(energy.arrears_cents),
    threat_date: threat ? german(threat.served_on || threat.dated_on) : null,
    disconnection_date: announced ? germanDay(announced.scheduled_at) : null,
    agency: benefit.agency,
    benefit_reference: benefit.reference,
    objection_law: benefit.kind === "wohngeld" ? "§§ 68 ff. VwGO in Verbindung mit § 62 SGB X" : "§ 84 SGG",
    decision_date: german(benefit.decided_on),
    decision_notified: german(benefit.notified_on),
    benefit_kind: benefit.kind ? labels.benefit?.(benefit.kind) : null,
    agreement_creditor: agreement.creditor_name || (agreement.creditor === "landlord" ? household.landlord : null),
    agreement_total: euro(agreement.total_cents),
    agreement_rate: euro(agreement.monthly_rate_cents),
    agreement_start: german(agreement.start_on),
    continuation_clause:
      agreement.landlord_withdraws === true
        ? `Die Gläubigerseite nimmt die Kündigung${notice ? ` vom ${german(notice.dated_on || notice.served_on)}` : ""} zurück und setzt das Mietverhältnis fort; aus der Kündigung und einer hilfsweise erklärten ordentlichen Kündigung werden keine Rechte mehr hergeleitet.`
        : `Hinweis: Diese Vereinbarung regelt nur den Rückstand. Die Kündigung${notice ? ` vom ${german(notice.dated_on || notice.served_on)}` : ""} bleibt bestehen, bis die Vermieterseite sie zurücknimmt oder die Fortsetzung des Mietverhältnisses erklärt.`,
    consent_purpose: consent.purpose,
    consent_recipients: [consent.recipient, ...(consent.scope || [])].filter(Boolean).join(", "),
    consent_given_on: german(consent.given_on),
    consent_valid_until: consent.valid_until ? german(consent.valid_until) : "auf Widerruf",
    consent_special: healthRecorded
      ? "Die Einwilligung umfasst ausdrücklich auch Angaben zu meiner Gesundheit und zu der meines Haushalts, also besondere Kategorien personenbezogener Daten (Art. 9 Abs. 1 und Abs. 2 Buchstabe a DSGVO), soweit sie für diesen Zweck nötig sind."
      : false,
  };
}

/** Which record a letter's signatures belong to. */
export const SIGNED_BY = { consent: "consent", consent_at: "consent", installment: "installment_agreement", installment_at: "installment_agreement" };
