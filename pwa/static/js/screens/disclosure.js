// "Auskunft": the right of access (Art. 15 GDPR). A supervisor prints everything the team holds about the
// household of a case, as the server exports it (online only, audited there): every case that names the
// household, each record with its fields under their German names, and each case's recorded course.
import { api, Offline } from "../api.js";
import { t } from "../i18n.js";
import { append, day, h, money, moment } from "../ui.js";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
// Links between records, not information about the household.
const SKIP = new Set(["team_id", "assigned_worker_id", "household_id", "source_id", "source_kind", "visit_id", "consent_id"]);

export async function render(main, [caseId], app) {
  append(main, h("h2", {}, t("disclosure.title")));
  if (!app.isSupervisor()) return append(main, h("p", {}, t("disclosure.only_supervisors")));
  let body;
  try {
    body = await api("GET", `/api/cases/${caseId}/disclosure`);
  } catch (error) {
    if (error instanceof Offline) return append(main, h("p", { class: "muted" }, t("disclosure.offline")));
    throw error;
  }
  append(
    main,
    h("p", { class: "lead" }, t("disclosure.lead", { when: moment(body.generated_at), n: body.cases.length })),
    h("div", { class: "actions no-print" }, h("button", { type: "button", onclick: () => window.print() }, t("disclosure.print")), h("a", { href: `#/fall/${caseId}`, class: "button secondary" }, t("disclosure.back"))),
    body.cases.map((entry) => caseSection(entry, app)),
    h("p", { class: "muted" }, t("disclosure.attachments")),
  );
}

function caseSection(entry, app) {
  const title = entry.case.fields?.title || t("kind.case");
  const id = `disclosure-${entry.case.id}`;
  return h(
    "section",
    { class: "card disclosure", "aria-labelledby": id },
    h("h3", { id }, title),
    fields("case", entry.case.fields || {}, app),
    entry.records.map((record) => h("div", { class: "disclosure-record" }, h("h4", {}, t(`kind.${record.kind}`, {}, record.kind)), fields(record.kind, record.fields || {}, app))),
    entry.history.length
      ? h("div", { class: "disclosure-record" }, h("h4", {}, t("disclosure.history")), h("ul", {}, entry.history.map((e) => h("li", {}, `${moment(e.recorded_at)}: ${summary(e.state, app)}`))))
      : null,
  );
}

function fields(kind, values, app) {
  const rows = Object.entries(values).filter(([name, value]) => !SKIP.has(name) && shown(value));
  return h("dl", { class: "facts" }, rows.map(([name, value]) => [h("dt", {}, label(kind, name)), h("dd", {}, text(kind, name, value, app))]));
}

/** A field's German name: the record kind's own label, else the general one the conflicts screen uses. */
function label(kind, name) {
  return t(`field.${kind}.${name}`, {}, t(`conflict_field.${name}`, {}, name));
}

function shown(value) {
  if (value === null || value === undefined || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.values(value).some(shown);
  return true;
}

function text(kind, name, value, app) {
  if (typeof value === "boolean") return value ? t("disclosure.yes") : t("disclosure.no");
  if (typeof value === "number") return name.endsWith("_cents") ? money(value) : String(value);
  if (typeof value === "string") {
    if (name.endsWith("_id") || name.endsWith("_by")) return app.users.get(value) || value;
    if (DATE.test(value)) return day(value);
    if (MOMENT.test(value)) return moment(value);
    // An enum's German name ("case_type.rent_arrears", "case_status.closed", "outcome.secured"), else the text.
    return t(`${kind}_${name}.${value}`, {}, t(`${name}.${value}`, {}, value));
  }
  if (Array.isArray(value)) return value.map((item) => text(kind, name, item, app)).join("; ");
  return Object.entries(value)
    .filter(([, v]) => shown(v))
    .map(([key, v]) => `${label(name, key)}: ${text(name, key, v, app)}`)
    .join(", ");
}

function summary(state, app) {
  return Object.entries(state)
    .filter(([, v]) => shown(v))
    .map(([key, v]) => `${key === "arrears_cents" ? t("case.total_arrears") : label("case", key)}: ${typeof v === "number" ? money(v) : text("case", key, v, app)}`)
    .join(", ");
}
