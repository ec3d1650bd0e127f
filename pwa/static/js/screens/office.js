// Office mode for supervisors: the team's caseload per worker, unassigned and upcoming visits, assigning and
// rescheduling. Changes go through the same outbox and sync as everything else (and sync at once when online).
import * as data from "../data.js";
import { t } from "../i18n.js";
import * as sync from "../sync.js";
import { append, chip, day, fromLocalInput, h, moment, riskChip, toLocalInput, toast, today } from "../ui.js";

export async function render(main, _params, app) {
  if (!app.isSupervisor()) {
    append(main, h("h2", {}, t("office.title")), h("p", {}, t("office.only_supervisors")));
    return;
  }
  const { case: cases, visit: visits } = await data.kinds("case", "visit");
  const open = cases.filter((c) => c.fields.status === "open").sort((a, b) => a.fields.title.localeCompare(b.fields.title));
  const caseById = new Map(cases.map((c) => [c.id, c]));
  const planned = visits
    .filter((v) => v.fields.status === "planned" && caseById.get(v.case_id)?.fields.status === "open")
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

  const visitRow = (visit) => {
    const kase = caseById.get(visit.case_id);
    const overdue = new Date(visit.fields.planned_at) < startOfToday;
    const worker = workerSelect(`assign-${visit.id}`, visit.fields.assigned_worker_id);
    const when = h("input", { id: `when-${visit.id}`, type: "datetime-local", value: toLocalInput(visit.fields.planned_at) });
    const save = async () => {
      const fields = {};
      const assignee = worker.value || null;
      const plannedAt = fromLocalInput(when.value);
      if (assignee !== (visit.fields.assigned_worker_id || null)) fields.assigned_worker_id = assignee;
      if (new Date(plannedAt).getTime() !== new Date(visit.fields.planned_at).getTime()) fields.planned_at = plannedAt;
      if (!Object.keys(fields).length) return toast(t("office.nothing_changed"));
      await data.save("visit", visit.id, visit.case_id, fields);
      toast(t("office.saved"));
      await sync.syncNow();
      app.refresh();
    };
    return h(
      "tr",
      { class: overdue ? "overdue" : "" },
      h("td", {}, h("a", { href: `#/fall/${kase.id}` }, kase.fields.title), " ", riskChip(kase.fields.risk), overdue ? chip(t("today.overdue"), "danger") : null),
      h("td", {}, h("label", { class: "sr-only", for: `when-${visit.id}` }, t("office.when_for", { title: kase.fields.title })), when),
      h("td", {}, h("label", { class: "sr-only", for: `assign-${visit.id}` }, t("office.worker_for", { title: kase.fields.title })), worker),
      h("td", {}, h("button", { type: "button", class: "small", onclick: save, "aria-label": t("office.save_for", { title: kase.fields.title }) }, t("office.save"))),
    );
  };

  const newVisit = () => {
    const caseSelect = h("select", { id: "new-visit-case", required: true }, open.map((c) => h("option", { value: c.id }, c.fields.title)));
    const worker = workerSelect("new-visit-worker", null);
    const when = h("input", { id: "new-visit-when", type: "datetime-local", value: `${today(1)}T09:00`, required: true });
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
      h("thead", {}, h("tr", {}, [t("office.case"), t("office.when"), t("office.worker"), ""].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, items.map(visitRow)),
    );

  append(
    main,
    h("h2", {}, t("office.title")),
    h("p", { class: "lead" }, t("office.lead", { n: open.length, date: day(today()) })),
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
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "upcoming-title" },
      h("h3", { id: "upcoming-title" }, t("office.upcoming"), ` (${upcoming.length})`),
      upcoming.length ? table(upcoming.slice(0, 60), "upcoming") : h("p", { class: "muted" }, t("office.none_upcoming")),
      upcoming.length > 60 ? h("p", { class: "muted" }, t("office.more", { n: upcoming.length - 60, when: moment(upcoming[60].fields.planned_at) })) : null,
    ),
  );
}
