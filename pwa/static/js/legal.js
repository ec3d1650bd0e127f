// The legal deadlines on the tablet, offline: the rules table the server uses (/static/data/deadlines.json, cached
// with the app), the organisation's public holidays (GET /api/calendar, kept on the device), and deadlines.js.
import { stamp } from "./clock.js";
import { useCountry } from "./country.js";
import { compute, dayOf, daysOff, derivedId, phaseOf } from "./deadlines.js";
import { lang, t } from "./i18n.js";
import * as store from "./storage.js";

let table = null;
let calendar = null;

/** Load the rules and the stored calendar (call once the app is unlocked). */
export async function load() {
  if (!table) table = await (await fetch("/static/data/deadlines.json")).json();
  calendar = (await store.getMeta("calendar")) || null;
  await useCountry(country());
}

/** Whether the organisation's calendar (and so its country) is known on this device. */
export const hasCalendar = () => Boolean(calendar);

/** Fetch the organisation's region and holidays (online), keep them for offline use, and use its country's
 * profile. */
export async function refreshCalendar(api) {
  try {
    calendar = await api("GET", "/api/calendar");
    await store.setMeta("calendar", calendar);
    await useCountry(country());
  } catch {
    // offline: the calendar stored last time stays
  }
}

export const country = () => calendar?.country || "DE";

/** The name of the user's organisation, the sender of its letters (null until the calendar is known). */
export const organisationName = () => calendar?.organisation || null;

/** Whether ``isoDay`` is a working day where the organisation works: no weekend, no public holiday of its region
 * (the calendar the deadlines use). */
export function isWorkingDay(isoDay) {
  return daysOff(calendar?.holidays).working(isoDay);
}

/** The rule's name in the screen's language (or, for records every device writes alike, in German). */
export function ruleLabel(ruleId, language = lang()) {
  const rule = table?.rules.find((r) => r.id === ruleId);
  if (!rule) return ruleId;
  // The country's own word for a rule shared by every country ("Tagsatzung vorbereiten" in Austria).
  return t(`rule.${ruleId}`, {}, language === "en" ? rule.en : rule.de, language);
}

/** The ids of the deadline rules (not preparations) that follow from a legal event of ``type``. */
export function deadlineRules(type) {
  return (table?.rules || []).filter((r) => r.source === "legal_event" && r.type === type && r.kind === "deadline").map((r) => r.id);
}

/** The id of the action a deadline generates (a preparation keeps the id the older "prepare" action had). */
function actionId(deadline) {
  return derivedId(deadline.record_id, deadline.kind === "preparation" ? "deadline" : deadline.rule);
}

const live = (records, kind) => records.filter((r) => r.kind === kind && !r.deleted && r.fields);

/** Every deadline of one case, with ``done`` (its action is done) and ``action`` (that action's id). */
export async function forCase(kase, records) {
  if (!table) await load();
  const found = compute(
    table,
    country(),
    daysOff(calendar?.holidays),
    kase.fields,
    live(records, "legal_event").map((r) => [r.id, r.fields]),
    live(records, "benefit_application").map((r) => [r.id, r.fields]),
    dayOf(stamp()),
  );
  const actions = new Map(live(records, "action").map((a) => [a.id, a]));
  for (const deadline of found) {
    deadline.action = await actionId(deadline);
    deadline.done = actions.get(deadline.action)?.fields.status === "done";
    deadline.label = deadline.provisional.length ? `${ruleLabel(deadline.rule)} (${t("deadline.provisional")})` : ruleLabel(deadline.rule);
    deadline.case_id = kase.id;
  }
  return found;
}

/** The hearings and eviction appointments still ahead, as items of the deadline lists. */
export function appointments(records) {
  const from = dayOf(stamp());
  return live(records, "legal_event")
    .filter((e) => e.fields.scheduled_at && dayOf(e.fields.scheduled_at) >= from)
    .map((e) => ({ case_id: e.case_id, due_on: dayOf(e.fields.scheduled_at), kind: "appointment", label: t(`legal.${e.fields.type}`), record_id: e.id }));
}

/** Open deadlines and appointments of every case on the device (closed cases left out), by date. */
export async function openItems(found) {
  const byCase = new Map();
  for (const r of [...found.legal_event, ...found.benefit_application, ...found.action]) {
    if (!byCase.has(r.case_id)) byCase.set(r.case_id, []);
    byCase.get(r.case_id).push(r);
  }
  const items = [];
  for (const kase of found.case) {
    if (kase.deleted || kase.fields.status === "closed") continue;
    const records = byCase.get(kase.id) || [];
    for (const d of await forCase(kase, records)) if (!d.done && !d.unavailable) items.push(d);
    items.push(...appointments(records));
  }
  return items.sort((a, b) => a.due_on.localeCompare(b.due_on));
}

/** The stage of the procedure a case's events put it in. */
export function phase(records) {
  return phaseOf(live(records, "legal_event").map((e) => e.fields));
}

/** The day an event happened or happens: its appointment, the end of its period, its service, or its date. */
export function eventDay(fields) {
  return dayOf(fields.scheduled_at) || fields.until_on || fields.served_on || fields.dated_on || null;
}
