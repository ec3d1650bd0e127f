// The case's working day: a contact with its direction and whether the tenant was reached, planning one's own
// visits, closing with the supervisor's approval, and handing a case to a colleague. Every form writes through the
// outbox, so all of it works offline.
import { now, nowMs } from "../clock.js";
import { momentField } from "../datefield.js";
import * as data from "../data.js";
import { draftSaved, keepFields } from "../drafts.js";
import * as legal from "../legal.js";
import { ENUMS } from "../enums.js";
import { t } from "../i18n.js";
import { chip, clockWarning, day, fromLocalInput, h, localDay, moment, toLocalInput, toast, today } from "../ui.js";

const OUTCOMES = ENUMS.outcome;

function problem() {
  return h("p", { class: "error", role: "alert", hidden: true });
}

function show(error, text) {
  error.textContent = text;
  error.hidden = false;
}

/** Kontakt: channel, direction, reached or not, the moment (now, or earlier; never later) and duration. */
export function contactPanel(caseId, app) {
  const error = problem();
  const channel = h("select", { id: "contact-channel" }, ENUMS.channel.map((c) => h("option", { value: c, selected: c === "phone" }, t(`channel.${c}`))));
  const direction = h("select", { id: "contact-direction" }, ENUMS.direction.map((d) => h("option", { value: d }, t(`direction.${d}`))));
  const reached = h("input", { type: "checkbox", id: "contact-reached", checked: true });
  const when = momentField({ id: "contact-at", value: toLocalInput(), required: true });
  const duration = h("input", { id: "contact-duration", inputmode: "numeric", maxlength: 4 });
  const note = h("input", { id: "contact-note", maxlength: 2000 });
  return keepFields(h(
    "form",
    {
      class: "card panel",
      "aria-labelledby": "p-contact",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const at = when.value ? new Date(when.value) : null;
        if (!at || Number.isNaN(at.getTime())) return show(error, t("contact.needs_time"));
        if (at > new Date(nowMs() + 60_000)) return show(error, t("contact.not_future"));
        if (duration.value && !/^\d{1,4}$/.test(duration.value.trim())) return show(error, t("contact.bad_duration"));
        await data.create("contact", caseId, {
          channel: channel.value,
          direction: direction.value,
          reached: reached.checked,
          at: fromLocalInput(when.value),
          duration_minutes: duration.value.trim() ? Number(duration.value) : null,
          summary: note.value.trim(),
        });
        await draftSaved(event.target);
        toast(t(reached.checked ? "contact.saved" : "contact.saved_missed", { what: t(`channel.${channel.value}`) }));
        app.refresh();
      },
    },
    h("h3", { id: "p-contact" }, t("contact.title")),
    h(
      "div",
      { class: "row" },
      h("div", {}, h("label", { for: "contact-channel" }, t("contact.channel")), channel),
      h("div", {}, h("label", { for: "contact-direction" }, t("contact.direction")), direction),
      h("div", {}, h("label", { for: "contact-at" }, t("contact.when")), when),
      h("div", {}, h("label", { for: "contact-duration" }, t("contact.duration")), duration),
    ),
    h("label", { class: "check" }, reached, t("contact.reached")),
    h("label", { for: "contact-note" }, t("contact.note")),
    note,
    clockWarning(),
    error,
    h("button", { type: "submit", id: "save-contact" }, t("contact.save")),
  ), `contact:${caseId}`);
}

/** Besuch planen: a worker plans their own visit; a supervisor chooses whom it is for. */
export function planVisitPanel(caseId, kase, app, suggested = null) {
  const error = problem();
  const when = momentField({ id: "plan-at", value: suggested || `${today(1)}T10:00`, required: true });
  const purpose = h("input", { id: "plan-purpose", maxlength: 2000 });
  const workers = [...app.users.entries()].filter(([id]) => app.activeUsers?.has(id) ?? true);
  const worker = app.isSupervisor()
    ? h("select", { id: "plan-worker" }, workers.map(([id, name]) => h("option", { value: id, selected: id === kase.fields.assigned_worker_id }, name)))
    : null;
  return keepFields(h(
    "form",
    {
      class: "card panel",
      "aria-labelledby": "p-plan",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const at = new Date(when.value);
        if (Number.isNaN(at.getTime())) return show(error, t("plan.needs_time"));
        if (at < now()) return show(error, t("plan.not_past"));
        await data.create("visit", caseId, {
          planned_at: fromLocalInput(when.value),
          status: "planned",
          assigned_worker_id: worker ? worker.value : app.owner.id,
          purpose: purpose.value.trim(),
        });
        await draftSaved(event.target);
        toast(t("plan.saved", { when: moment(at.toISOString()) }));
        app.refresh();
      },
    },
    h("h3", { id: "p-plan" }, t("plan.title")),
    h(
      "div",
      { class: "row" },
      h("div", {}, h("label", { for: "plan-at" }, t("plan.when")), when),
      worker ? h("div", {}, h("label", { for: "plan-worker" }, t("plan.worker")), worker) : null,
    ),
    h("label", { for: "plan-purpose" }, t("plan.purpose")),
    purpose,
    error,
    h("button", { type: "submit", id: "plan-visit" }, t("plan.save")),
  ), `plan:${caseId}`);
}

/** A suggested return visit after "not at home": two working days later (weekends and the region's public
 * holidays left out, as for the deadlines), at the same time of day. */
export function returnVisitAt(visitedAt) {
  const date = new Date(visitedAt || nowMs());
  let added = 0;
  while (added < 2) {
    date.setDate(date.getDate() + 1);
    if (legal.isWorkingDay(localDay(date))) added += 1;
  }
  return toLocalInput(date.toISOString());
}

/** What still stands open on a case, as its screen shows it: the computed deadlines not done (a barred one is no
 * task), overdue ones included, and the open actions. */
function openWork(records, deadlines) {
  const due = deadlines.filter((d) => !d.done && !d.unavailable);
  const actions = records.filter((r) => r.kind === "action" && (r.fields.status || "open") === "open");
  return { deadlines: due, actions };
}

/** "2 offene Fristen und 1 offene Maßnahme": each count in its own plural form, and only what there is. */
function openWorkText(deadlines, actions) {
  const parts = [
    deadlines ? t("closing.open_deadlines", { n: deadlines }) : null,
    actions ? t("closing.open_actions", { n: actions }) : null,
  ].filter(Boolean);
  return t("closing.open_work", { what: parts.join(t("closing.and")) });
}

/** Abschluss: the worker requests it with outcome and note; the supervisor approves it or returns it. */
export function closingPanel(kase, records, app, computed = []) {
  const f = kase.fields;
  const error = problem();
  if (f.status === "open") {
    // "Hilfe abgelehnt" asks why; where the household lives now is asked at every closing ("unbekannt" allowed).
    const reason = h("select", { id: "close-declined-reason" }, h("option", { value: "" }, t("closing.choose")), ENUMS.declined_reason.map((r) => h("option", { value: r }, t(`declined_reason.${r}`))));
    const reasonField = h("div", { class: "field", hidden: true }, h("label", { for: "close-declined-reason" }, t("field.case.declined_reason")), reason);
    const outcome = h(
      "select",
      { id: "close-outcome", onchange: () => (reasonField.hidden = outcome.value !== "help_declined") },
      h("option", { value: "" }, t("closing.choose")),
      OUTCOMES.map((o) => h("option", { value: o }, t(`outcome.${o}`))),
    );
    const housing = h("select", { id: "close-housing" }, h("option", { value: "" }, t("closing.choose")), ENUMS.housing.map((v) => h("option", { value: v, selected: v === f.housing_at_end }, t(`housing.${v}`))));
    const note = h("textarea", { id: "close-note", rows: 3 });
    const { deadlines, actions } = openWork(records, computed);
    const supervisor = app.isSupervisor();
    return keepFields(h(
      "form",
      {
        class: "card panel",
        "aria-labelledby": "p-closing",
        onsubmit: async (event) => {
          event.preventDefault();
          if (!outcome.value) return show(error, t("closing.needs_outcome"));
          if (outcome.value === "help_declined" && !reason.value) return show(error, t("closing.needs_declined_reason"));
          if (!note.value.trim()) return show(error, t("closing.needs_note"));
          const fields = { outcome: outcome.value, closing_note: note.value.trim(), closing_comment: "" };
          fields.declined_reason = outcome.value === "help_declined" ? reason.value : null;
          if (housing.value) fields.housing_at_end = housing.value;
          if (supervisor) Object.assign(fields, { status: "closed", closed_on: today() });
          else Object.assign(fields, { status: "closing_requested", closing_requested_on: today() });
          await data.save("case", kase.id, kase.id, fields);
          await draftSaved(event.target);
          toast(t(supervisor ? "closing.closed" : "closing.requested"));
          app.refresh();
        },
      },
      h("h3", { id: "p-closing" }, t(supervisor ? "closing.title" : "closing.request_title")),
      deadlines.length || actions.length
        ? h("p", { class: "banner-inline warn", id: "closing-open-work" }, openWorkText(deadlines.length, actions.length))
        : null,
      h("label", { for: "close-outcome" }, t("closing.outcome")),
      outcome,
      reasonField,
      h("label", { for: "close-housing" }, t("field.case.housing_at_end")),
      housing,
      h("label", { for: "close-note" }, t("closing.note")),
      note,
      error,
      h("button", { type: "submit", id: "close-case" }, t(supervisor ? "closing.close" : "closing.request")),
    ), `closing:${kase.id}`);
  }
  if (f.status === "closing_requested") {
    const requested = [
      h("p", { id: "closing-requested" }, t("closing.requested_with", { outcome: t(`outcome.${f.outcome}`), date: day(f.closing_requested_on), name: app.userName(f.assigned_worker_id) })),
      f.closing_note ? h("blockquote", {}, f.closing_note) : null,
    ];
    if (!app.isSupervisor()) {
      return h(
        "section",
        { class: "card panel", "aria-labelledby": "p-closing" },
        h("h3", { id: "p-closing" }, t("closing.waiting_title")),
        ...requested,
        h("p", { class: "muted" }, t("closing.waiting")),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            id: "withdraw-closing",
            onclick: async () => {
              await data.save("case", kase.id, kase.id, { status: "open", outcome: null, closing_requested_on: null });
              toast(t("closing.withdrawn"));
              app.refresh();
            },
          },
          t("closing.withdraw"),
        ),
      );
    }
    const comment = h("textarea", { id: "closing-comment", rows: 2 });
    return keepFields(h(
      "section",
      { class: "card panel", "aria-labelledby": "p-closing" },
      h("h3", { id: "p-closing" }, t("closing.approve_title")),
      ...requested,
      h(
        "button",
        {
          type: "button",
          id: "approve-closing",
          onclick: async () => {
            await data.save("case", kase.id, kase.id, { status: "closed", closed_on: today() });
            toast(t("closing.approved"));
            app.refresh();
          },
        },
        t("closing.approve"),
      ),
      h("label", { for: "closing-comment" }, t("closing.comment")),
      comment,
      error,
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          id: "return-closing",
          onclick: async (event) => {
            if (!comment.value.trim()) return show(error, t("closing.needs_comment"));
            await data.save("case", kase.id, kase.id, { status: "open", outcome: null, closing_requested_on: null, closing_comment: comment.value.trim() });
            await draftSaved(event.target);
            toast(t("closing.returned"));
            app.refresh();
          },
        },
        t("closing.return"),
      ),
    ), `closing-comment:${kase.id}`);
  }
  const reason = h("textarea", { id: "reopen-reason", rows: 2 });
  return keepFields(h(
    "form",
    {
      class: "card panel",
      "aria-labelledby": "p-closing",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!reason.value.trim()) return show(error, t("closing.needs_reason"));
        await data.save("case", kase.id, kase.id, { status: "open", outcome: null, closed_on: null, closing_requested_on: null, reopen_reason: reason.value.trim() });
        await draftSaved(event.target);
        toast(t("closing.reopened"));
        app.refresh();
      },
    },
    h("h3", { id: "p-closing" }, t("closing.closed_title")),
    h("p", {}, t("closing.closed_with", { outcome: t(`outcome.${f.outcome}`), date: day(f.closed_on) })),
    f.closing_note ? h("blockquote", {}, f.closing_note) : null,
    h("label", { for: "reopen-reason" }, t("closing.reason")),
    reason,
    error,
    h("button", { type: "submit", id: "reopen-case" }, t("closing.reopen")),
  ), `reopen:${kase.id}`);
}

/** Fall übergeben (supervisor): the case, its planned visits and open actions go to a colleague, with a note. */
export function handoverPanel(kase, records, app) {
  if (!app.isSupervisor() || kase.fields.status === "closed") return null;
  const error = problem();
  const candidates = [...app.users.entries()].filter(([id]) => id !== kase.fields.assigned_worker_id && id !== app.owner.id && (app.activeUsers?.has(id) ?? true));
  const worker = h("select", { id: "handover-worker" }, h("option", { value: "" }, t("handover.choose")), candidates.map(([id, name]) => h("option", { value: id }, name)));
  const note = h("textarea", { id: "handover-note", rows: 3 });
  const visits = records.filter((r) => r.kind === "visit" && r.fields.status === "planned" && r.fields.assigned_worker_id === kase.fields.assigned_worker_id);
  const actions = records.filter((r) => r.kind === "action" && (r.fields.status || "open") === "open");
  return keepFields(h(
    "form",
    {
      class: "card panel",
      "aria-labelledby": "p-handover",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!worker.value) return show(error, t("handover.needs_worker"));
        if (!note.value.trim()) return show(error, t("handover.needs_note"));
        await data.save("case", kase.id, kase.id, {
          assigned_worker_id: worker.value,
          handover_from: kase.fields.assigned_worker_id || null,
          handover_note: note.value.trim(),
          handed_over_on: today(),
        });
        for (const visit of visits) await data.save("visit", visit.id, kase.id, { assigned_worker_id: worker.value });
        for (const action of actions) await data.save("action", action.id, kase.id, { owner_id: worker.value });
        await draftSaved(event.target);
        toast(t("handover.done", { name: app.userName(worker.value) }));
        app.refresh();
      },
    },
    h("h3", { id: "p-handover" }, t("handover.title")),
    h("p", { class: "muted" }, t("handover.what", { visits: t("handover.visits", { n: visits.length }), actions: t("handover.actions", { n: actions.length }) })),
    h("label", { for: "handover-worker" }, t("handover.to")),
    worker,
    h("label", { for: "handover-note" }, t("handover.note")),
    note,
    error,
    h("button", { type: "submit", id: "handover-case" }, t("handover.save")),
  ), `handover:${kase.id}`);
}

/** What the new worker reads first: who handed the case over, when, and the note; a returned closure request. */
export function caseNotices(kase, app) {
  const f = kase.fields;
  return [
    f.handover_note && f.assigned_worker_id === app.owner.id
      ? h("div", { class: "banner-inline info", id: "handover-banner" }, h("strong", {}, t("handover.banner", { name: app.userName(f.handover_from), date: day(f.handed_over_on) })), h("p", {}, f.handover_note))
      : null,
    f.status === "open" && f.closing_comment
      ? h("div", { class: "banner-inline warn", id: "closing-returned" }, h("strong", {}, t("closing.returned_banner")), h("p", {}, f.closing_comment))
      : null,
  ];
}

/** Chip of a contact in the history: direction, and "not reached" in words, not colour alone. */
export function contactLine(f) {
  const parts = [t(`channel.${f.channel}`), t(`direction.${f.direction || "outgoing"}`)];
  if (f.duration_minutes) parts.push(t("contact.minutes", { n: f.duration_minutes }));
  return [parts.join(" · "), f.reached === false ? [" ", chip(t("contact.not_reached"), "warn")] : null, f.summary ? ` – ${f.summary}` : ""];
}
