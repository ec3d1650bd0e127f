// "Berichte" for supervisors (online): the team's figures for a year, a quarter or any period, with the server's
// SVG charts, CSV downloads and the printable annual report.
import { dateField } from "../datefield.js";
import { api, Offline } from "../api.js";
import { ENUMS } from "../enums.js";
import { t } from "../i18n.js";
import { append, errorMessage, fill, h, money } from "../ui.js";

const CHANNELS = ENUMS.channel;
const OUTCOMES = ENUMS.outcome;
const STATES = ["kept", "unrecorded", "behind", "broken", "completed", "cancelled"];

function periodOf(form) {
  const year = Number(form.querySelector("#report-year").value);
  const part = form.querySelector("#report-part").value;
  if (part === "custom") return { start: form.querySelector("#report-start").parentElement.value, end: form.querySelector("#report-end").parentElement.value, year };
  const quarters = { year: ["01-01", "12-31"], q1: ["01-01", "03-31"], q2: ["04-01", "06-30"], q3: ["07-01", "09-30"], q4: ["10-01", "12-31"] };
  const [from, to] = quarters[part];
  return { start: `${year}-${from}`, end: `${year}-${to}`, year };
}

// A no-break space: "57 %" never breaks across two lines.
const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 100)}\u00a0%`);

export async function render(main, _params, app) {
  if (!app.isSupervisor()) {
    append(main, h("h2", {}, t("reports.title")), h("p", {}, t("office.only_supervisors")));
    return;
  }
  const now = new Date().getFullYear();
  const out = h("div", { class: "report-out", "aria-live": "polite" });
  const part = h(
    "select",
    { id: "report-part", onchange: () => (custom.hidden = part.value !== "custom") },
    ["year", "q1", "q2", "q3", "q4", "custom"].map((p) => h("option", { value: p }, t(`reports.part.${p}`))),
  );
  const custom = h(
    "div",
    { class: "row", hidden: true },
    h("div", {}, h("label", { for: "report-start" }, t("reports.start")), dateField({ id: "report-start", value: `${now}-01-01` })),
    h("div", {}, h("label", { for: "report-end" }, t("reports.end")), dateField({ id: "report-end", value: `${now}-12-31` })),
  );
  const form = h(
    "form",
    {
      class: "card report-form",
      onsubmit: async (event) => {
        event.preventDefault();
        await show(out, periodOf(form));
      },
    },
    h(
      "div",
      { class: "row" },
      h("div", {}, h("label", { for: "report-year" }, t("reports.year")), h("select", { id: "report-year" }, [now, now - 1, now - 2].map((y) => h("option", { value: y }, String(y))))),
      h("div", {}, h("label", { for: "report-part" }, t("reports.period")), part),
    ),
    custom,
    h("button", { type: "submit", id: "show-report" }, t("reports.show")),
  );
  append(main, h("h2", {}, t("reports.title")), h("p", { class: "lead" }, t("reports.lead")), form, out);
  await show(out, periodOf(form));
}

async function show(out, period) {
  fill(out, h("p", { class: "muted" }, t("reports.loading")));
  const query = new URLSearchParams({ start: period.start, end: period.end });
  let report;
  try {
    report = await api("GET", `/api/reports?${query}`);
  } catch (error) {
    fill(out, h("p", { class: "error", role: "alert" }, error instanceof Offline ? t("reports.offline") : errorMessage(error)));
    return;
  }
  const charts = await Promise.all(["success", "contacts", "outcomes"].map((name) => svg(`/api/reports/charts/${name}?${query}`)));
  const row = (label, value, definition) =>
    h("tr", {}, h("th", { scope: "row" }, label, definition ? h("span", { class: "definition" }, definition) : null), h("td", {}, value));
  fill(
    out,
    h(
      "section",
      { class: "keyfigures", "aria-label": t("reports.key") },
      [
        [report.households_supported, t("reports.households")],
        [report.closed_cases, t("reports.closed")],
        [percent(report.success_rate), t("reports.success", { n: report.secured })],
        [report.contacts_total, t("reports.contacts")],
        [report.mediations_held, t("reports.mediations", { n: report.mediations_resolved })],
      ].map(([value, label]) => h("div", { class: "figure" }, h("strong", {}, String(value)), h("span", {}, label))),
    ),
    h(
      "div",
      { class: "grid" },
      h(
        "section",
        { class: "card", "aria-labelledby": "r-cases" },
        h("h3", { id: "r-cases" }, t("reports.cases")),
        h(
          "table",
          { class: "table figures" },
          h(
            "tbody",
            {},
            row(t("reports.households"), report.households_supported, report.definitions.households_supported),
            row(t("reports.new"), report.new_cases),
            row(t("reports.closed"), report.closed_cases, report.definitions.closed_cases),
            row(t("reports.success_rate"), percent(report.success_rate), report.definitions.success_rate),
            row(t("reports.median"), report.median_days_to_closure ?? "–", report.definitions.median_days),
            row(t("reports.overdue"), report.overdue_visits),
          ),
        ),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "r-outcomes" },
        h("h3", { id: "r-outcomes" }, t("reports.outcomes")),
        h("table", { class: "table figures" }, h("tbody", {}, OUTCOMES.map((o) => row(t(`outcome.${o}`), report.outcomes[o])))),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "r-contacts" },
        h("h3", { id: "r-contacts" }, t("reports.contacts")),
        h("table", { class: "table figures" }, h("tbody", {}, CHANNELS.map((c) => row(t(`channel.${c}`), report.contacts[c])), row(t("reports.total"), report.contacts_total))),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "r-money" },
        h("h3", { id: "r-money" }, t("reports.money")),
        h(
          "table",
          { class: "table figures" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("reports.benefit")), h("th", { scope: "col" }, t("benefit_form.grant")), h("th", { scope: "col" }, t("benefit_form.loan")), h("th", { scope: "col" }, t("reports.monthly")))),
          h(
            "tbody",
            {},
            report.money.map((m) => h("tr", {}, h("th", { scope: "row" }, t(`benefit.${m.kind}`)), h("td", {}, money(m.grant_cents + m.unspecified_cents)), h("td", {}, money(m.loan_cents)), h("td", {}, money(m.monthly_cents || 0)))),
            h("tr", { class: "total" }, h("th", { scope: "row" }, t("reports.total")), h("td", {}, money(report.money_grant_cents + report.money.reduce((s, m) => s + m.unspecified_cents, 0))), h("td", {}, money(report.money_loan_cents)), h("td", {}, money(report.money_monthly_cents || 0))),
          ),
        ),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "r-mediation" },
        h("h3", { id: "r-mediation" }, t("work.panel.mediation")),
        h(
          "table",
          { class: "table figures" },
          h("tbody", {}, row(t("reports.held"), report.mediations_held, report.definitions.mediations), row(t("reports.resolved"), report.mediations_resolved), row(t("reports.parties"), report.mediation_households)),
        ),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "r-installments" },
        h("h3", { id: "r-installments" }, t("work.panel.installment_agreement")),
        h("table", { class: "table figures" }, h("tbody", {}, STATES.map((s) => row(t(`installment.${s}`), report.installments[s])))),
      ),
    ),
    h("section", { class: "card charts", "aria-label": t("reports.charts") }, charts),
    h(
      "section",
      { class: "card", "aria-labelledby": "r-downloads" },
      h("h3", { id: "r-downloads" }, t("reports.downloads")),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button secondary", href: `/api/reports/export?${query}&table=figures&separator=semicolon`, download: "" }, t("reports.csv_de")),
        h("a", { class: "button secondary", href: `/api/reports/export?${query}&table=figures&separator=comma`, download: "" }, t("reports.csv_en")),
        h("a", { class: "button secondary", href: `/api/reports/export?${query}&table=cases&separator=semicolon`, download: "" }, t("reports.csv_cases")),
        h("a", { class: "button", href: `/berichte/jahresbericht?year=${period.year}`, target: "_blank", rel: "noopener" }, t("reports.print", { year: period.year })),
      ),
    ),
  );
}

/** The server's chart, inline, so that its title and description reach screen readers. */
async function svg(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) return null;
  const parsed = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
  return h("figure", { class: "chart" }, document.importNode(parsed.documentElement, true));
}
