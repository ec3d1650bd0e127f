// "Fälle": every case on this device (a worker's own, the team's for a supervisor), open and closed, with filters,
// sorting and a search over name, address, phone and Aktenzeichen that runs offline over the decrypted data.
import * as data from "../data.js";
import * as legal from "../legal.js";
import { ENUMS } from "../enums.js";
import { t } from "../i18n.js";
import { haystack, matches } from "../search.js";
import { addDays } from "../rules.js";
import { append, chip, day, debounce, h, localDay, riskChip, syncChip, today } from "../ui.js";

const SORTS = ["deadline", "contact", "name"];
const QUIET_DAYS = 30;
const SOON_DAYS = 14;

/** Every case with what the list shows and filters on: household, next deadline, last contact, texts. */
async function caseRows() {
  const found = await data.kinds("case", "household", "legal_event", "contact", "visit", "benefit_application", "action");
  const live = (list) => list.filter((r) => !r.deleted);
  const households = new Map(live(found.household).map((x) => [x.id, x]));
  const deadlines = {};
  for (const item of await legal.openItems(found)) if (!deadlines[item.case_id]) deadlines[item.case_id] = item;
  const texts = new Map();
  const lastContact = new Map();
  const add = (map, id, value) => map.set(id, [...(map.get(id) || []), ...value]);
  for (const event of live(found.legal_event)) add(texts, event.case_id, haystack("legal_event", event.fields));
  for (const household of live(found.household)) add(texts, household.case_id, haystack("household", household.fields));
  const touch = (caseId, at) => {
    if (at && (!lastContact.has(caseId) || at > lastContact.get(caseId))) lastContact.set(caseId, at);
  };
  for (const contact of live(found.contact)) touch(contact.case_id, contact.fields.at);
  for (const visit of live(found.visit)) if (visit.fields.status === "done" || visit.fields.status === "not_home") touch(visit.case_id, visit.fields.visited_at);
  return live(found.case).map((kase) => {
    const household = households.get(kase.fields.household_id) || [...households.values()].find((x) => x.case_id === kase.id);
    return {
      kase,
      household,
      deadline: deadlines[kase.id] || null,
      lastContact: lastContact.get(kase.id) || null,
      texts: [...haystack("case", kase.fields), ...(texts.get(kase.id) || [])],
    };
  });
}

export async function render(main, _params, app) {
  const rows = await caseRows();
  const states = await data.syncStates();
  const saved = JSON.parse(sessionStorage.getItem("doorstep.case_filters") || "{}");
  const state = { q: "", status: "open", risk: "", phase: "", soon: false, quiet: false, sort: "deadline", ...saved };

  const list = h("ul", { class: "case-list", id: "case-list" });
  const count = h("p", { class: "muted", role: "status", "aria-live": "polite", id: "case-count" });
  const draw = () => {
    sessionStorage.setItem("doorstep.case_filters", JSON.stringify({ ...state, q: "" }));
    const soon = addDays(today(), SOON_DAYS);
    const quietSince = `${addDays(today(), -QUIET_DAYS)}T00:00:00`;
    const shown = rows
      .filter(({ kase }) => !state.status || kase.fields.status === state.status || (state.status === "open" && kase.fields.status === "closing_requested"))
      .filter(({ kase }) => !state.risk || kase.fields.risk === state.risk)
      .filter(({ kase }) => !state.phase || kase.fields.phase === state.phase)
      .filter(({ deadline }) => !state.soon || (deadline && deadline.due_on <= soon))
      .filter(({ lastContact }) => !state.quiet || !lastContact || lastContact < quietSince)
      .filter(({ texts }) => !state.q.trim() || matches(state.q, texts))
      .sort(order(state.sort));
    list.replaceChildren(...shown.map((row) => item(row, states, app)));
    count.textContent = t("cases.count", { n: shown.length, of: rows.length });
  };
  const search = h("input", {
    id: "case-search",
    type: "search",
    value: state.q,
    autocomplete: "off",
    placeholder: t("cases.search_hint"),
    oninput: debounce(() => {
      state.q = search.value;
      draw();
    }, 120),
  });
  const select = (id, key, options, label) =>
    h(
      "div",
      {},
      h("label", { for: id }, label),
      h(
        "select",
        { id, onchange: (event) => ((state[key] = event.target.value), draw()) },
        options.map(([value, text]) => h("option", { value, selected: state[key] === value }, text)),
      ),
    );
  const toggle = (id, key, label) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", id, checked: state[key], onchange: (event) => ((state[key] = event.target.checked), draw()) }), label);

  append(
    main,
    h(
      "div",
      { class: "list-head" },
      h("h2", {}, app.isSupervisor() ? t("cases.title_team") : t("cases.title")),
      h("a", { href: "#/neu", class: "button", id: "new-case" }, t("cases.new")),
    ),
    h(
      "div",
      { class: "card filters", role: "search" },
      h("label", { for: "case-search" }, t("cases.search")),
      search,
      h(
        "div",
        { class: "row" },
        select("filter-status", "status", [["", t("cases.all")], ...ENUMS.case_status.map((s) => [s, t(`case_status.${s}`)])], t("cases.status")),
        select("filter-risk", "risk", [["", t("cases.all")], ...[...ENUMS.risk].reverse().map((r) => [r, t(`risk.${r}`)])], t("cases.risk")),
        select("filter-phase", "phase", [["", t("cases.all")], ...ENUMS.phase.map((p) => [p, t(`phase.${p}`)])], t("cases.phase")),
        select("filter-sort", "sort", SORTS.map((s) => [s, t(`cases.sort.${s}`)]), t("cases.sort")),
      ),
      h("div", { class: "row" }, toggle("filter-soon", "soon", t("cases.soon", { n: SOON_DAYS })), toggle("filter-quiet", "quiet", t("cases.quiet", { n: QUIET_DAYS }))),
    ),
    count,
    list,
  );
  draw();
}

function order(sort) {
  const name = (row) => row.household?.fields.name || row.kase.fields.title;
  if (sort === "name") return (a, b) => name(a).localeCompare(name(b), "de");
  if (sort === "contact") return (a, b) => (a.lastContact || "").localeCompare(b.lastContact || "") || name(a).localeCompare(name(b), "de");
  // Next deadline first; cases without one after, by name.
  return (a, b) => (a.deadline?.due_on || "9999").localeCompare(b.deadline?.due_on || "9999") || name(a).localeCompare(name(b), "de");
}

function item({ kase, household, deadline, lastContact }, states, app) {
  const f = kase.fields;
  const address = household?.fields.address;
  return h(
    "li",
    { class: "case-row" },
    h(
      "div",
      {},
      h("a", { href: `#/fall/${kase.id}`, class: "visit-title" }, f.title),
      household ? h("span", { class: "muted" }, ` · ${household.fields.name}`) : null,
      address?.street ? h("div", { class: "muted" }, `${address.street} ${address.house_number}, ${address.postcode} ${address.city}`) : null,
    ),
    h(
      "div",
      { class: "chips" },
      riskChip(f.risk),
      f.status !== "open" ? chip(t(`case_status.${f.status}`), f.status === "closed" ? "neutral" : "warn") : null,
      f.phase ? chip(t(`phase.${f.phase}`)) : null,
      deadline ? chip(t("cases.deadline", { what: deadline.label, date: day(deadline.due_on) }), deadline.due_on <= addDays(today(), 7) ? "danger" : "warn") : null,
      states.has(kase.id) ? syncChip(states.get(kase.id)) : null,
    ),
    h(
      "div",
      { class: "muted small-text" },
      lastContact ? t("cases.last_contact", { date: day(localDay(new Date(lastContact))) }) : t("cases.no_contact"),
      app.isSupervisor() ? ` · ${app.userName(f.assigned_worker_id)}` : "",
    ),
  );
}
