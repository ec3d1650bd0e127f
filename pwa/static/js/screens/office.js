// Office mode for supervisors: the team's caseload per worker, unassigned and upcoming visits, assigning and
// rescheduling. Changes go through the same outbox and sync as everything else (and sync at once when online).
import { momentField } from "../datefield.js";
import * as data from "../data.js";
import * as legal from "../legal.js";
import { ENUMS } from "../enums.js";
import { t } from "../i18n.js";
import * as sync from "../sync.js";
import { api } from "../api.js";
import { append, chip, day, fromLocalInput, h, moment, riskChip, toLocalInput, toast, today } from "../ui.js";

export async function render(main, _params, app) {
  if (!app.isSupervisor()) {
    append(main, h("h2", {}, t("office.title")), h("p", {}, t("office.only_supervisors")));
    return;
  }
  const { case: cases, visit: visits, legal_event: events, benefit_application: applications, conflict: conflicts, action: actions } =
    await data.kinds("case", "visit", "legal_event", "benefit_application", "conflict", "action");
  const items = await legal.openItems({ case: cases, legal_event: events, benefit_application: applications, action: actions });
  const open = cases.filter((c) => c.fields.status !== "closed").sort((a, b) => a.fields.title.localeCompare(b.fields.title));
  const caseById = new Map(cases.map((c) => [c.id, c]));
  const planned = visits
    .filter((v) => v.fields.status === "planned" && caseById.has(v.case_id) && caseById.get(v.case_id).fields.status !== "closed")
    .sort((a, b) => a.fields.planned_at.localeCompare(b.fields.planned_at));
  const startOfToday = new Date(`${today()}T00:00:00`);
  const workers = [...app.users.entries()].sort((a, b) => a[1].localeCompare(b[1]));

  // Caseload per worker: open cases, planned visits, overdue visits.
  const load = new Map(workers.map(([id]) => [id, { cases: 0, acute: 0, visits: 0, overdue: 0 }]));
  const row = (id) => {
    if (!load.has(id)) load.set(id, { cases: 0, acute: 0, visits: 0, overdue: 0 });
    return load.get(id);
  };
  for (const c of open) {
    const r = row(c.fields.assigned_worker_id || "");
    r.cases += 1;
    if (c.fields.risk === "acute" || c.fields.risk === "high") r.acute += 1;
  }
  for (const v of planned) {
    const r = row(v.fields.assigned_worker_id || "");
    r.visits += 1;
    if (new Date(v.fields.planned_at) < startOfToday) r.overdue += 1;
  }

  const workerSelect = (id, current) =>
    h(
      "select",
      { id },
      h("option", { value: "", selected: !current }, t("user.nobody")),
      workers.map(([wid, name]) => h("option", { value: wid, selected: wid === current }, name)),
    );

  // Every row's changes are saved together with one button under its table (48 rows, one "Speichern" each, was
  // a wall of buttons); the button says how many visits changed.
  const edited = new Map(); // visit id -> fields changed
  const saveButtons = [];
  const showPending = () => {
    for (const button of saveButtons) {
      button.disabled = !edited.size;
      button.textContent = t("office.save_changes", { n: edited.size });
    }
  };
  const saveAll = async () => {
    if (!edited.size) return toast(t("office.nothing_changed"));
    for (const [id, { visit, fields }] of edited) await data.save("visit", id, visit.case_id, fields);
    toast(t("office.saved_n", { n: edited.size }));
    edited.clear();
    await sync.syncNow();
    app.refresh();
  };
  const visitRow = (visit) => {
    const kase = caseById.get(visit.case_id);
    const overdue = new Date(visit.fields.planned_at) < startOfToday;
    const note = () => {
      const fields = {};
      const assignee = worker.value || null;
      const plannedAt = fromLocalInput(when.value);
      if (assignee !== (visit.fields.assigned_worker_id || null)) fields.assigned_worker_id = assignee;
      if (plannedAt && new Date(plannedAt).getTime() !== new Date(visit.fields.planned_at).getTime()) fields.planned_at = plannedAt;
      if (Object.keys(fields).length) edited.set(visit.id, { visit, fields });
      else edited.delete(visit.id);
      row.classList.toggle("changed", edited.has(visit.id));
      row.dataset.unsaved = String(edited.has(visit.id)); // a sync finishing meanwhile does not redraw the table
      showPending();
    };
    const worker = workerSelect(`assign-${visit.id}`, visit.fields.assigned_worker_id);
    worker.addEventListener("change", note);
    const when = momentField({ id: `when-${visit.id}`, value: toLocalInput(visit.fields.planned_at), onchange: note });
    const row = h(
      "tr",
      { class: overdue ? "overdue" : "" },
      h("td", {}, h("a", { href: `#/fall/${kase.id}` }, kase.fields.title), " ", riskChip(kase.fields.risk), overdue ? chip(t("today.overdue"), "danger") : null),
      h("td", {}, h("label", { class: "sr-only", for: `when-${visit.id}` }, t("office.when_for", { title: kase.fields.title })), when),
      h("td", {}, h("label", { class: "sr-only", for: `assign-${visit.id}` }, t("office.worker_for", { title: kase.fields.title })), worker),
    );
    return row;
  };
  const saveButton = () => {
    const button = h("button", { type: "button", class: "save-visits", disabled: true, onclick: saveAll }, t("office.save_changes", { n: 0 }));
    saveButtons.push(button);
    return button;
  };

  const newVisit = () => {
    const caseSelect = h("select", { id: "new-visit-case", required: true }, open.map((c) => h("option", { value: c.id }, c.fields.title)));
    const worker = workerSelect("new-visit-worker", null);
    const when = momentField({ id: "new-visit-when", value: `${today(1)}T09:00`, required: true });
    return h(
      "form",
      {
        class: "card inline-form",
        "aria-labelledby": "new-visit-title",
        onsubmit: async (event) => {
          event.preventDefault();
          await data.create("visit", caseSelect.value, { planned_at: fromLocalInput(when.value), status: "planned", assigned_worker_id: worker.value || null });
          toast(t("office.visit_created"));
          await sync.syncNow();
          app.refresh();
        },
      },
      h("h3", { id: "new-visit-title" }, t("office.new_visit")),
      h("div", { class: "row" }, h("div", {}, h("label", { for: "new-visit-case" }, t("office.case")), caseSelect), h("div", {}, h("label", { for: "new-visit-when" }, t("office.when")), when), h("div", {}, h("label", { for: "new-visit-worker" }, t("office.worker")), worker)),
      h("button", { type: "submit" }, t("office.create_visit")),
    );
  };

  const unassigned = planned.filter((v) => !v.fields.assigned_worker_id);
  const upcoming = planned.filter((v) => v.fields.assigned_worker_id);
  const table = (items, id) =>
    h(
      "table",
      { class: "table visits-table", id },
      h("thead", {}, h("tr", {}, [t("office.case"), t("office.when"), t("office.worker")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, items.map(visitRow)),
    );

  append(
    main,
    h("h2", {}, t("office.title")),
    h("p", { class: "lead" }, t("office.lead", { n: open.length, date: day(today()) })),
    dashboard({ open, planned, items, applications, conflicts, caseById, startOfToday, app }),
    retentionNotice(caseById),
    h(
      "section",
      { class: "card", "aria-labelledby": "caseload-title" },
      h("h3", { id: "caseload-title" }, t("office.caseload")),
      h(
        "table",
        { class: "table", id: "caseload" },
        h("thead", {}, h("tr", {}, [t("office.worker"), t("office.open_cases"), t("office.high_risk"), t("office.planned"), t("office.overdue")].map((x) => h("th", { scope: "col" }, x)))),
        h(
          "tbody",
          {},
          [...load.entries()]
            .filter(([, r]) => r.cases || r.visits)
            .map(([id, r]) => h("tr", {}, h("th", { scope: "row" }, id ? app.userName(id) : t("user.nobody")), h("td", {}, String(r.cases)), h("td", {}, String(r.acute)), h("td", {}, String(r.visits)), h("td", { class: r.overdue ? "negative" : "" }, String(r.overdue)))),
        ),
      ),
    ),
    newVisit(),
    h(
      "section",
      { class: "card", "aria-labelledby": "unassigned-title" },
      h("h3", { id: "unassigned-title" }, t("office.unassigned"), ` (${unassigned.length})`),
      unassigned.length ? table(unassigned, "unassigned") : h("p", { class: "muted" }, t("office.none_unassigned")),
      unassigned.length ? saveButton() : null,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "upcoming-title" },
      h("h3", { id: "upcoming-title" }, t("office.upcoming"), ` (${upcoming.length})`),
      upcoming.length ? table(upcoming.slice(0, 60), "upcoming") : h("p", { class: "muted" }, t("office.none_upcoming")),
      upcoming.length > 60 ? h("p", { class: "muted" }, t("office.more", { n: upcoming.length - 60, when: moment(upcoming[60].fields.planned_at) })) : null,
      upcoming.length ? saveButton() : null,
    ),
  );
}

const RISKS = [...ENUMS.risk].reverse(); // the most urgent first
const PHASES = [...ENUMS.phase, null];

/** The team at a glance: open cases by risk and phase, overdue visits, deadlines of the next 14 days (court and
 * eviction dates, benefit decisions due) and open conflicts; every item links to its case. */
function dashboard({ open, planned, items, applications, conflicts, caseById, startOfToday, app }) {
  const count = (risk, phase) => open.filter((c) => c.fields.risk === risk && (c.fields.phase || null) === phase).length;
  const link = (caseId, text) => h("a", { href: `#/fall/${caseId}` }, text);
  const overdue = planned.filter((v) => new Date(v.fields.planned_at) < startOfToday);
  const horizon = today(14);
  const deadlines = [
    ...items.filter((item) => item.due_on >= today() && item.due_on <= horizon).map((item) => ({ date: item.due_on, case_id: item.case_id, what: item.label })),
    ...applications
      .filter((a) => a.fields.decision === "pending" && a.fields.expected_decision_on >= today() && a.fields.expected_decision_on <= horizon)
      .filter((a) => caseById.has(a.case_id) && caseById.get(a.case_id).fields.status !== "closed")
      .map((a) => ({ date: a.fields.expected_decision_on, case_id: a.case_id, what: t("dashboard.decision", { what: t(`benefit.${a.fields.kind}`) }) })),
  ].sort((a, b) => a.date.localeCompare(b.date));
  const openConflicts = conflicts.filter((c) => c.fields.status === "open");
  const title = (caseId) => caseById.get(caseId)?.fields.title || "–";
  // Taken on by a worker in the last 14 days, and closures waiting for approval.
  const since = today(-14);
  const intakes = open.filter((c) => c.fields.intake_by && c.fields.intake_by !== app.owner.id && (c.fields.opened_on || "") >= since);
  const closing = open.filter((c) => c.fields.status === "closing_requested");
  return h(
    "div",
    { class: "grid dashboard" },
    h(
      "section",
      { class: "card", "aria-labelledby": "d-closing", id: "closing-requests" },
      h("h3", { id: "d-closing" }, t("dashboard.closing"), ` (${closing.length})`),
      closing.length
        ? h("ul", { class: "plain" }, closing.map((c) => h("li", {}, link(c.id, c.fields.title), ` · ${t(`outcome.${c.fields.outcome}`)} · ${app.userName(c.fields.assigned_worker_id)}`)))
        : h("p", { class: "muted" }, t("dashboard.none_closing")),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "d-intake", id: "new-intakes" },
      h("h3", { id: "d-intake" }, t("dashboard.intake"), ` (${intakes.length})`),
      intakes.length
        ? h("ul", { class: "plain" }, intakes.map((c) => h("li", {}, chip(day(c.fields.opened_on), "info"), " ", link(c.id, c.fields.title), ` · ${app.userName(c.fields.intake_by)}`)))
        : h("p", { class: "muted" }, t("dashboard.none_intake")),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "d-matrix" },
      h("h3", { id: "d-matrix" }, t("dashboard.matrix")),
      h(
        "table",
        { class: "table matrix" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("dashboard.risk")), PHASES.map((p) => h("th", { scope: "col" }, h("abbr", { title: p ? t(`phase.${p}`) : t("dashboard.no_phase") }, t(`dashboard.phase.${p || "none"}`)))))),
        h("tbody", {}, RISKS.map((r) => h("tr", {}, h("th", { scope: "row" }, t(`dashboard.risk.${r}`)), PHASES.map((p) => h("td", { class: count(r, p) ? "" : "muted" }, String(count(r, p))))))),
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "d-deadlines" },
      h("h3", { id: "d-deadlines" }, t("dashboard.deadlines"), ` (${deadlines.length})`),
      deadlines.length
        ? h("ul", { class: "plain" }, deadlines.slice(0, 12).map((d) => h("li", {}, chip(day(d.date), d.date <= today(7) ? "danger" : "warn"), " ", d.what, ": ", link(d.case_id, title(d.case_id)))))
        : h("p", { class: "muted" }, t("today.no_deadlines")),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "d-overdue" },
      h("h3", { id: "d-overdue" }, t("dashboard.overdue"), ` (${overdue.length})`),
      overdue.length
        ? h("ul", { class: "plain" }, overdue.slice(0, 12).map((v) => h("li", {}, chip(day(v.fields.planned_at), "danger"), " ", link(v.case_id, title(v.case_id)), ` · ${app.userName(v.fields.assigned_worker_id)}`)))
        : h("p", { class: "muted" }, t("dashboard.none_overdue")),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "d-conflicts" },
      h("h3", { id: "d-conflicts" }, t("dashboard.conflicts"), ` (${openConflicts.length})`),
      openConflicts.length
        ? h("ul", { class: "plain" }, openConflicts.slice(0, 8).map((c) => h("li", {}, link(c.case_id, title(c.case_id)), " · ", h("a", { href: "#/konflikte" }, t("dashboard.resolve")))))
        : h("p", { class: "muted" }, t("conflicts.none")),
    ),
  );
}

// Closed cases whose retention period ends within a month, announced from the server (online only; offline the
// card stays away and shows at the next visit online).
function retentionNotice(caseById) {
  const section = h("section", { class: "card", id: "retention", "aria-labelledby": "retention-title", hidden: true });
  api("GET", "/api/retention")
    .then((notice) => {
      if (!notice || !notice.due.length) return;
      append(
        section,
        h("h3", { id: "retention-title" }, t("office.retention", { n: notice.due.length })),
        h("p", { class: "muted" }, t("office.retention_lead", { years: notice.years })),
        h(
          "ul",
          { class: "retention-list" },
          notice.due.map((due) => {
            const kase = caseById.get(due.case_id);
            const name = kase ? h("a", { href: `#/fall/${due.case_id}` }, kase.fields.title) : t("office.retention_case");
            return h("li", {}, name, " – ", t("office.retention_on", { closed: day(due.closed_on), date: day(due.erase_on) }));
          }),
        ),
      );
      section.hidden = false;
    })
    .catch(() => {});
  return section;
}
