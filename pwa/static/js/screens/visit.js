// "Besuch erfassen": the outcome of a home visit, the contact channel and the note.
// Everything typed is kept as an encrypted draft on every pause, so a reload or a crash loses nothing; the
// visit, its contact and its note are written to the outbox when the worker saves.
import * as data from "../data.js";
import { t } from "../i18n.js";
import { append, debounce, fromLocalInput, h, moment, syncChip, toLocalInput, toast, uuid7 } from "../ui.js";

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
  };

  const saved = h("p", { class: "muted autosave", role: "status", "aria-live": "polite" }, draft.text ? t("visit.draft_restored") : "");
  const read = () => ({
    status: main.querySelector("input[name=outcome]:checked").value,
    card_left: main.querySelector("#card-left").checked,
    channel: main.querySelector("#channel").value,
    visited_at: main.querySelector("#visited-at").value,
    text: main.querySelector("#visit-note").value,
  });
  const keep = debounce(async () => {
    await data.drafts.save(draftId, read());
    saved.textContent = t("visit.draft_saved");
  }, 400);

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
  const showCard = () => {
    card.hidden = main.querySelector("input[name=outcome]:checked").value !== "not_home";
  };

  const submit = async (event) => {
    event.preventDefault();
    const value = read();
    const visitedAt = fromLocalInput(value.visited_at);
    const id = visit ? visit.id : uuid7();
    const fields = { status: value.status, visited_at: value.status === "cancelled" ? null : visitedAt, card_left: value.status === "not_home" && value.card_left };
    if (!visit) Object.assign(fields, { planned_at: visitedAt, assigned_worker_id: app.owner.id });
    await data.save("visit", id, caseId, fields);
    if (value.status === "done") await data.create("contact", caseId, { channel: value.channel, at: visitedAt, visit_id: id });
    if (value.text.trim()) await data.create("note", caseId, { text: value.text, visit_id: id });
    await data.drafts.drop(draftId);
    toast(t("visit.saved"));
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
          h("input", { id: "visited-at", type: "datetime-local", value: initial.visited_at, required: true }),
        ),
      ),
      h("label", { for: "visit-note" }, t("visit.note")),
      h("textarea", { id: "visit-note", rows: 8, value: initial.text }),
      saved,
      h("div", { class: "actions" }, h("button", { type: "submit", id: "save-visit" }, t("visit.save")), h("a", { href: `#/fall/${caseId}`, class: "button secondary" }, t("common.back"))),
    ),
  );
  main.querySelector("#visit-note").value = initial.text;
  showCard();
  // Leaving the page with a pending pause still keeps the last keystrokes.
  window.addEventListener("pagehide", () => keep.flush(), { once: true });
}
