// "Berichte" for supervisors (online): the team's figures for a year, a quarter or any period, with the server's
// SVG charts, CSV downloads and the printable annual report.
import { now as clockNow } from "../clock.js";
import { dateField } from "../datefield.js";
import { api, fetchText, Offline, saveFile } from "../api.js";
import { t } from "../i18n.js";
import { append, errorMessage, fill, h, moment, toast } from "../ui.js";

function periodOf(form) {
  const year = Number(form.querySelector("#report-year").value);
  const part = form.querySelector("#report-part").value;
  if (part === "custom") return { start: form.querySelector("#report-start").parentElement.value, end: form.querySelector("#report-end").parentElement.value, year };
  const quarters = { year: ["01-01", "12-31"], q1: ["01-01", "03-31"], q2: ["04-01", "06-30"], q3: ["07-01", "09-30"], q4: ["10-01", "12-31"] };
  const [from, to] = quarters[part];
  return { start: `${year}-${from}`, end: `${year}-${to}`, year };
}

export async function render(main, _params, app) {
  if (!app.isSupervisor() && !app.isManager()) {
    append(main, h("h2", {}, t("reports.title")), h("p", {}, t("office.only_supervisors")));
    return;
  }
  const now = clockNow().getFullYear();
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
        await (app.isManager() ? showOrganisation : show)(out, periodOf(form));
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
  const lead = t(app.isManager() ? "reports.lead_organisation" : "reports.lead");
  append(main, h("h2", {}, t("reports.title")), h("p", { class: "lead" }, lead), form, out);
  await (app.isManager() ? showOrganisation : show)(out, periodOf(form));
}

/** The management's view: the total or one team, each line beside the same period of the year before. */
async function showOrganisation(out, period) {
  fill(out, h("p", { class: "muted" }, t("reports.loading")));
  const query = new URLSearchParams({ start: period.start, end: period.end });
  let organisation;
  try {
    organisation = await api("GET", `/api/reports/organisation?${query}`);
  } catch (error) {
    fill(out, h("p", { class: "error", role: "alert" }, error instanceof Offline ? t("reports.offline") : errorMessage(error)));
    return;
  }
  const choices = [organisation.total, ...organisation.teams];
  const shown = h("div", {});
  const before = t("reports.year_before");
  const span = t("reports.year_before_span", { start: short(organisation.previous_start), end: short(organisation.previous_end) });
  const pick = h(
    "select",
    { id: "report-team", onchange: () => fill(shown, ...lines(choices[Number(pick.value)].report, before)) },
    choices.map((choice, index) => h("option", { value: index }, choice.name)),
  );
  fill(
    out,
    h("div", { class: "card" }, h("label", { for: "report-team" }, t("reports.team")), pick, h("p", { class: "muted" }, span)),
    shown,
    downloads([
      csvButton(`/api/reports/organisation/export?${query}&table=figures&separator=semicolon`, "kennzahlen-organisation.csv", t("reports.csv_de")),
      csvButton(`/api/reports/organisation/export?${query}&table=figures&separator=comma`, "figures-organisation.csv", t("reports.csv_en")),
      csvButton(`/api/reports/organisation/export?${query}&table=statistics&separator=semicolon`, "statistik-organisation.csv", t("reports.csv_statistics")),
      printLink(period, query),
    ]),
  );
  fill(shown, ...lines(organisation.total.report, before));
}

/** The period's print page (A4): the calendar year by its name, any other period by its days. */
function printLink(period, query) {
  const whole = period.start.endsWith("-01-01") && period.end.endsWith("-12-31") && period.start.slice(0, 4) === period.end.slice(0, 4);
  const label = whole ? t("reports.print", { year: period.start.slice(0, 4) }) : t("reports.print_period", { start: short(period.start), end: short(period.end) });
  return h("a", { class: "button", id: "print-report", href: `/berichte/jahresbericht?${query}`, target: "_blank", rel: "noopener" }, label);
}

function downloads(buttons) {
  return h("section", { class: "card", "aria-labelledby": "r-downloads" }, h("h3", { id: "r-downloads" }, t("reports.downloads")), h("div", { class: "actions" }, buttons));
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
  fill(
    out,
    ...lines(report),
    h("section", { class: "card charts", "aria-label": t("reports.charts") }, charts),
    downloads([
      csvButton(`/api/reports/export?${query}&table=figures&separator=semicolon`, "kennzahlen.csv", t("reports.csv_de")),
      csvButton(`/api/reports/export?${query}&table=figures&separator=comma`, "figures.csv", t("reports.csv_en")),
      csvButton(`/api/reports/export?${query}&table=statistics&separator=semicolon`, "statistik.csv", t("reports.csv_statistics")),
      csvButton(`/api/reports/export?${query}&table=cases&separator=semicolon`, "faelle.csv", t("reports.csv_cases")),
      printLink(period, query),
    ]),
  );
}

const short = (iso) => iso.split("-").reverse().join(".");

/** A report's lines (``report.sections``: the same lines the print page and the CSV are written from); with
 * ``before``, each line's value of the year before in a column of that name. */
function lines(report, before = null) {
  const [key, ...sections] = report.sections;
  const head = before ? h("thead", {}, h("tr", {}, h("td", {}), h("th", { scope: "col" }, report.team_name), h("th", { scope: "col" }, before))) : null;
  return [
    h("p", { class: "muted", id: "report-computed" }, t("reports.computed", { when: moment(report.generated_at) })),
    h("h3", { class: "keyfigures-title" }, key.title),
    h(
      "section",
      { class: "keyfigures", "aria-label": key.title },
      key.figures.map((f, index) =>
        h(
          "div",
          { class: "figure", "data-key": f.key },
          h("strong", {}, f.text),
          h("span", {}, f.label, f.definition ? h("sup", {}, String(index + 1)) : null),
          f.detail ? h("small", {}, f.detail) : null,
          f.previous ? h("small", {}, `${before}: ${f.previous}`) : null,
        ),
      ),
    ),
    // Each headline figure's definition, as the print page's footnotes say it.
    h(
      "details",
      { class: "card footnotes" },
      h("summary", {}, t("reports.definitions")),
      h("ol", {}, key.figures.map((f, index) => (f.definition ? h("li", { value: index + 1 }, f.definition) : null))),
    ),
    h(
      "div",
      { class: before ? "grid compare" : "grid" },
      sections.map((section) =>
        h(
          "section",
          { class: "card", "aria-labelledby": `r-${section.key}`, "data-section": section.key },
          h("h3", { id: `r-${section.key}` }, section.title),
          h(
            "table",
            { class: "table figures" },
            head?.cloneNode(true),
            h(
              "tbody",
              {},
              section.figures.map((f) =>
                h(
                  "tr",
                  { "data-key": f.key, class: f.tone ? `tone-${f.tone}` : null },
                  h("th", { scope: "row" }, f.label, f.definition ? h("span", { class: "definition" }, f.definition) : null),
                  h("td", {}, f.text, f.detail ? h("span", { class: "detail" }, f.detail) : null),
                  before ? h("td", { class: "previous" }, f.previous ?? "–") : null,
                ),
              ),
            ),
          ),
        ),
      ),
    ),
    statisticsCard(report),
  ];
}

/** The Land's statistics: one small table per category, cells of fewer than five cases shown as "< 5". */
function statisticsCard(report) {
  if (!report.statistics?.length) return null;
  return h(
    "section",
    { class: "card statistics", "aria-labelledby": "r-statistics", "data-section": "statistics" },
    h("h3", { id: "r-statistics" }, t("reports.statistics")),
    h("p", { class: "muted" }, report.statistics[0].figures[0].definition),
    h(
      "div",
      { class: "stat-grid" },
      report.statistics.map((section) =>
        h(
          "table",
          { class: "table figures", "data-section": section.key },
          h("caption", {}, section.title),
          h("tbody", {}, section.figures.map((f) => h("tr", { "data-key": f.key }, h("th", { scope: "row" }, f.label), h("td", {}, f.text)))),
        ),
      ),
    ),
  );
}

/** A download of the API (with the device's key, which a plain link could not send). */
function csvButton(path, name, label) {
  return h("button", { type: "button", class: "secondary", onclick: () => saveFile(path, name).catch(() => toast(t("reports.download_failed"))) }, label);
}

/** The server's chart, inline, so that its title and description reach screen readers. */
async function svg(url) {
  const text = await fetchText(url);
  if (text === null) return null;
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  return h("figure", { class: "chart" }, document.importNode(parsed.documentElement, true));
}
