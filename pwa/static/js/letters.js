// Printable letters filled from the case, offline: the templates come from /letters.json (the organisation's own
// letterhead and texts included) and are kept for offline use; ``{{name}}`` placeholders are filled with the
// case's values, each as a text node. A value the case does not hold prints as a blank line to fill in by hand.
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
  const open = [root];
  const into = () => open[open.length - 1];
  for (const [token, closing, tag, attributes, name] of template.matchAll(TOKENS)) {
    if (token.startsWith("<!--")) continue;
    if (tag) {
      const lower = tag.toLowerCase();
      if (!TAGS.has(lower)) continue;
      if (closing) {
        const at = open.findLastIndex((node) => node.localName === lower);
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
    today: german(now().toLocaleDateString("sv-SE")),
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
