// "Besuch erfassen": the outcome of a home visit, the contact channel and the note.
// Everything typed is kept as an encrypted draft on every pause, so a reload or a crash loses nothing; the
// visit, its contact and its note are written to the outbox when the worker saves.
import { now, nowMs, stamp } from "../clock.js";
import { momentField } from "../datefield.js";
import * as data from "../data.js";
import { t } from "../i18n.js";
import { keeper } from "../drafts.js";
import { append, clockWarning, fromLocalInput, h, moment, syncChip, toLocalInput, toast, uuid7 } from "../ui.js";
import { returnVisitAt } from "../panels/day.js";

const OUTCOMES = ["done", "not_home", "cancelled"];
const CHANNELS = ["home_visit", "in_person", "phone", "email", "sms", "letter"];

export async function render(main, [visitId], app) {
  const visit = await data.record(visitId);
  if (!visit) {
    append(main, h("h2", {}, t("visit.missing")), h("a", { href: "#/heute", class: "button" }, t("nav.today")));
    return;
  }
  await form(main, { app, caseId: visit.case_id, visit, draftId: `visit:${visitId}` });
}

export async function renderNew(main, [caseId], app) {
  await form(main, { app, caseId, visit: null, draftId: `new-visit:${caseId}` });
}

async function form(main, { app, caseId, visit, draftId }) {
  const kase = await data.record(caseId);
  const states = await data.syncStates();
  const draft = (await data.drafts.get(draftId)) || {};
  const f = visit?.fields || {};
  const initial = {
    status: draft.status || (f.status && f.status !== "planned" ? f.status : "done"),
    card_left: draft.card_left ?? f.card_left ?? false,
    channel: draft.channel || "home_visit",
    visited_at: draft.visited_at || toLocalInput(f.visited_at),
    text: draft.text || "",
    duration: draft.duration ?? (f.duration_minutes != null ? String(f.duration_minutes) : ""),
    plan_return: draft.plan_return ?? true,
    return_at: draft.return_at || "",
  };
  // A worker moves the visits they (or a colleague before a handover) planned; one a supervisor planned stays theirs.
  const movable = visit && f.status === "planned" && (app.isSupervisor() || !f.planned_by || !app.supervisors.has(f.planned_by));

  const saved = h("p", { class: "muted autosave", role: "status", "aria-live": "polite" }, draft.text ? t("visit.draft_restored") : "");
  const read = () => ({
    status: main.querySelector("input[name=outcome]:checked").value,
    card_left: main.querySelector("#card-left").checked,
    channel: main.querySelector("#channel").value,
    visited_at: main.querySelector("#visited-at").parentElement.value,
    text: main.querySelector("#visit-note").value,
    duration: main.querySelector("#visit-duration").value,
    plan_return: main.querySelector("#plan-return").checked,
    return_at: main.querySelector("#return-at").parentElement.value,
  });
  const draftKeeper = keeper(draftId, read, () => (saved.textContent = t("visit.draft_saved")));
  const keep = draftKeeper.keep;

  const outcome = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, t("visit.outcome")),
    OUTCOMES.map((value) =>
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: "outcome", value, checked: initial.status === value, onchange: () => (showCard(), keep()) }),
        t(`visit_status.${value}`),
      ),
    ),
  );
  const card = h(
    "label",
    { class: "check", id: "card-row" },
    h("input", { type: "checkbox", id: "card-left", checked: initial.card_left, onchange: keep }),
    t("visit.card_left"),
  );
  // After "not at home", the return visit: suggested two working days later, planned with the same save.
  const returnVisit = h(
    "fieldset",
    { class: "choices", id: "return-visit" },
    h("legend", {}, t("visit.return_title")),
    h("label", { class: "check" }, h("input", { type: "checkbox", id: "plan-return", checked: initial.plan_return, onchange: keep }), t("visit.plan_return")),
    h("label", { for: "return-at" }, t("visit.return_at")),
    momentField({ id: "return-at", value: initial.return_at || returnVisitAt(fromLocalInput(initial.visited_at)) }),
  );
  const showCard = () => {
    const notHome = main.querySelector("input[name=outcome]:checked").value === "not_home";
    card.hidden = !notHome;
    returnVisit.hidden = !notHome;
  };

  const error = h("p", { class: "error", role: "alert", hidden: true });
  const problem = (text) => {
    error.textContent = text;
    error.hidden = false;
  };
  const submit = async (event) => {
    event.preventDefault();
    const value = read();
    const visitedAt = fromLocalInput(value.visited_at);
    const id = visit ? visit.id : uuid7();
    if (new Date(visitedAt) > new Date(nowMs() + 60_000)) return problem(t("visit.not_future"));
    if (value.duration && !/^\d{1,4}$/.test(value.duration.trim())) return problem(t("contact.bad_duration"));
    const returnAt = value.status === "not_home" && value.plan_return ? new Date(value.return_at) : null;
    if (returnAt && (Number.isNaN(returnAt.getTime()) || returnAt < now())) return problem(t("plan.not_past"));
    const fields = {
      status: value.status,
      visited_at: value.status === "cancelled" ? null : visitedAt,
      card_left: value.status === "not_home" && value.card_left,
      duration_minutes: value.duration.trim() && value.status === "done" ? Number(value.duration) : null,
    };
    if (!visit) Object.assign(fields, { planned_at: visitedAt, assigned_worker_id: app.owner.id });
    await data.save("visit", id, caseId, fields);
    if (returnAt) {
      await data.create("visit", caseId, { planned_at: returnAt.toISOString(), status: "planned", assigned_worker_id: app.owner.id, purpose: t("visit.return_purpose", {}, "", "de") });
    }
    if (value.status === "done") await data.create("contact", caseId, { channel: value.channel, at: visitedAt, visit_id: id });
    if (value.text.trim()) await data.create("note", caseId, { text: value.text, visit_id: id, author_id: app.owner.id, written_at: stamp() });
    await draftKeeper.drop();
    toast(returnAt ? t("visit.saved_return", { when: moment(returnAt.toISOString()) }) : t("visit.saved"));
    app.navigate(`#/fall/${caseId}`);
  };

  append(
    main,
    h("h2", {}, t("visit.title")),
    h(
      "p",
      { class: "lead" },
      h("a", { href: `#/fall/${caseId}` }, kase ? kase.fields.title : ""),
      visit ? ` · ${t("visit.planned_for", { when: moment(f.planned_at) })}` : ` · ${t("visit.unplanned")}`,
      visit && states.has(visit.id) ? syncChip(states.get(visit.id)) : null,
    ),
    h(
      "form",
      { class: "card visit-form", onsubmit: submit, oninput: keep },
      outcome,
      card,
      h(
        "div",
        { class: "row" },
        h(
          "div",
          {},
          h("label", { for: "channel" }, t("visit.channel")),
          h("select", { id: "channel", onchange: keep }, CHANNELS.map((c) => h("option", { value: c, selected: c === initial.channel }, t(`channel.${c}`)))),
        ),
        h(
          "div",
          {},
          h("label", { for: "visited-at" }, t("visit.when")),
          momentField({ id: "visited-at", value: initial.visited_at, required: true }),
        ),
      ),
      h("div", {}, h("label", { for: "visit-duration" }, t("visit.duration")), h("input", { id: "visit-duration", inputmode: "numeric", maxlength: 4, value: initial.duration })),
      returnVisit,
      h("label", { for: "visit-note" }, t("visit.note")),
      h("textarea", { id: "visit-note", rows: 8, value: initial.text }),
      saved,
      clockWarning(),
      error,
      h("div", { class: "actions" }, h("button", { type: "submit", id: "save-visit" }, t("visit.save")), h("a", { href: `#/fall/${caseId}`, class: "button secondary" }, t("common.back"))),
    ),
    movable ? rescheduleForm(visit, caseId, app) : null,
  );
  main.querySelector("#visit-note").value = initial.text;
  showCard();
}

/** Verschieben: a new time for a planned visit this worker planned (the supervisor's stay the supervisor's). */
function rescheduleForm(visit, caseId, app) {
  const when = momentField({ id: "reschedule-at", value: toLocalInput(visit.fields.planned_at) });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  return h(
    "form",
    {
      class: "card inline-form",
      "aria-labelledby": "reschedule-title",
      onsubmit: async (event) => {
        event.preventDefault();
        const at = new Date(when.value);
        if (Number.isNaN(at.getTime()) || at < now()) {
          error.textContent = t("plan.not_past");
          error.hidden = false;
          return;
        }
        await data.save("visit", visit.id, caseId, { planned_at: at.toISOString() });
        toast(t("plan.moved", { when: moment(at.toISOString()) }));
        app.navigate(`#/fall/${caseId}`);
      },
    },
    h("h3", { id: "reschedule-title" }, t("plan.reschedule")),
    h("label", { for: "reschedule-at" }, t("plan.when")),
    when,
    error,
    h("button", { type: "submit", id: "reschedule" }, t("plan.move")),
  );
}
