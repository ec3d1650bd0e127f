// The case data as the screens see it: records decrypted from the local store, this device's unsent changes on
// top, and every change written to the outbox and the store together.
import * as store from "./storage.js";
import * as outbox from "./outbox.js";
import { t } from "./i18n.js";
import { reportError, today, uuid7 } from "./ui.js";
import { addDays, addMonths, installmentState as standing, monthlyBalance } from "./rules.js";
import { derivedId } from "./deadlines.js";
import * as legal from "./legal.js";

export { monthlyBalance };

let key = null;
let afterChange = () => {};
// Changes are written one after another: two saves racing on one record would each read the same copy.
let queue = Promise.resolve();

function serial(fn) {
  const run = queue.then(fn);
  queue = run.catch(() => {});
  return run;
}

export function setKey(value) {
  key = value;
}

export function onChange(fn) {
  afterChange = fn;
}

/** A stored record as shown: the pulled fields with this device's changes on top. */
export function shown(record) {
  if (!record) return record;
  return { ...record, fields: { ...(record.fields || {}), ...(record.local || {}) } };
}

export async function record(id) {
  return shown(await store.getRecord(key, id));
}

export async function caseRecords(caseId) {
  return (await store.listRecords(key, caseId)).map(shown);
}

export async function kinds(...names) {
  const found = await store.listKinds(key, names);
  for (const name of names) found[name] = found[name].map(shown);
  return found;
}

/** Per record id: {status: "waiting"|"rejected"|"conflict", error}. Records not named here are synced. */
export async function syncStates() {
  const states = new Map();
  for (const m of await outbox.pending(key)) {
    const id = m.id || m.conflict_id;
    if (m.status === "rejected") states.set(id, { status: "rejected", error: m.error, mid: m.mid });
    else if (!states.has(id)) states.set(id, { status: "waiting" });
  }
  for (const conflict of (await kinds("conflict")).conflict) {
    if (conflict.fields.status === "open" && !states.has(conflict.fields.record_id)) {
      states.set(conflict.fields.record_id, { status: "conflict", conflict: conflict.id });
    }
  }
  return states;
}

/** Create or change a record: an upsert of ``fields`` only, based on the version this device last pulled. */
export function save(kind, id, caseId, fields) {
  return serial(() => saveNow(kind, id, caseId, fields));
}

async function saveNow(kind, id, caseId, fields, options = {}) {
  const current = await store.getRecord(key, id);
  const mutation = { op: "put", kind, id, case_id: caseId, base_version: current ? current.version : null, fields };
  const next = current
    ? { ...current, local: { ...(current.local || {}), ...fields } }
    : { id, case_id: caseId, kind, version: null, fields: {}, local: { ...fields } };
  await outbox.commitChange(key, mutation, [next], options);
  afterChange();
  return id;
}

export async function create(kind, caseId, fields, id = uuid7()) {
  return save(kind, id, kind === "case" ? id : caseId, fields);
}

/** Resolve a conflict with ``value`` (a field value, or "keep"/"delete" for an edit-versus-delete conflict). */
export function resolve(conflict, value) {
  return serial(() => resolveNow(conflict, value));
}

async function resolveNow(conflict, value) {
  const touched = [{ ...conflict, local: { ...(conflict.local || {}), status: "resolved", resolution: value } }];
  const target = await store.getRecord(key, conflict.fields.record_id);
  if (target && conflict.fields.field) {
    touched.push({ ...target, local: { ...(target.local || {}), [conflict.fields.field]: value } });
  }
  await outbox.commitChange(key, { op: "resolve", conflict_id: conflict.id, value }, touched);
  afterChange();
}

/**
 * Send a change the server refused for a moment in the future again, with the moment corrected (the tablet's
 * clock ran ahead when it was recorded). Every field of the change that held the same wrong moment (a visit's
 * planned and visited time) takes the new one. The corrected change replaces the refused one in one step: it is
 * never dropped, and it gets a new mid (a mid is never reused).
 */
export function resendMoment(rejected, field, value) {
  return serial(async () => {
    const wrong = rejected.fields[field];
    const fields = Object.fromEntries(Object.entries(rejected.fields).map(([name, v]) => [name, v === wrong ? value : v]));
    const { op, kind, id, case_id, base_version } = rejected;
    const current = await store.getRecord(key, id);
    const touched = current ? [{ ...current, local: { ...(current.local || {}), ...fields } }] : [];
    await outbox.commitChange(key, { op, kind, id, case_id, base_version, fields }, touched, { replaces: rejected.mid });
    afterChange();
  });
}

/** Drop a rejected change; the record shows what this device last pulled (plus any other unsent change). */
export function discard(mid, recordId) {
  return serial(() => discardNow(mid, recordId));
}

async function discardNow(mid, recordId) {
  await outbox.discard(mid);
  const current = await store.getRecord(key, recordId);
  if (current) {
    const overlay = outbox.overlayOf((await outbox.pending(key)).filter((m) => m.id === recordId));
    await store.putRecords(key, [{ ...current, local: overlay.get(recordId) || null }]);
  }
  afterChange();
}

export const drafts = {
  // A draft that cannot be written (storage full) is reported; the text stays on screen.
  save: (id, value) => store.saveDraft(key, id, value).catch(reportError),
  get: (id) => store.getDraft(key, id),
  drop: (id) => store.deleteDraft(id),
};

// --- what the screens compute from the records ---------------------------------------------------------------

/** The next open deadline or appointment of each case, from ``legal.openItems`` (in date order): {case_id: item}. */
export function nextDeadlines(items) {
  const next = {};
  for (const item of items) {
    if (!next[item.case_id]) next[item.case_id] = item;
  }
  return next;
}

/** The assessment being worked on (the newest without ``completed_at``), else the last one completed. */
export function latestAssessment(records) {
  const found = records.filter((r) => r.kind === "assessment" && !r.deleted);
  const open = found.filter((r) => !r.fields.completed_at).sort((a, b) => a.id.localeCompare(b.id));
  if (open.length) return open.pop();
  return found.sort((a, b) => a.fields.completed_at.localeCompare(b.fields.completed_at)).pop();
}

// --- follow-ups: actions the records call for -----------------------------------------------------------------

export { derivedId };

/** How an installment agreement stands today (see ``rules.js``). */
export function installmentState(fields, onDay = today()) {
  return standing(fields, onDay);
}

// Generated records must be the same on every device that derives them (same id, same fields), or two devices
// deriving one offline would conflict: so their text is always in the organisation's language, German, and their
// dates come from the source records.
const stored = (key, params) => t(key, params, key, "de");
const german = (isoDay) => isoDay.split("-").reverse().join(".");
const GENERATED = { generated: true };
const KEPT = new Set(["secured", "secured_installment", "secured_benefit"]);

/**
 * Create (or, when its date moved, update) the actions the records call for: each legal deadline and preparation
 * (legal.js), a benefit decision that is overdue, an installment that is behind; and let each open case's phase
 * follow its latest legal event. Generated actions have ids derived from their source, so two devices deriving
 * the same follow-up offline write the same record.
 */
export function followUps() {
  return serial(async () => {
    const found = await kinds("case", "legal_event", "benefit_application", "installment_agreement", "action");
    const cases = new Map(found.case.map((c) => [c.id, c]));
    const actions = new Map(found.action.map((a) => [a.id, a]));
    const byCase = new Map();
    for (const r of [...found.legal_event, ...found.benefit_application, ...found.action]) {
      if (!byCase.has(r.case_id)) byCase.set(r.case_id, []);
      byCase.get(r.case_id).push(r);
    }
    const wanted = [];
    const deadlineActions = new Set();
    for (const kase of found.case) {
      if (kase.deleted || kase.fields.status === "closed") continue;
      const records = byCase.get(kase.id) || [];
      for (const d of await legal.forCase(kase, records)) {
        deadlineActions.add(d.action);
        if (d.unavailable || d.due_on < addDays(today(), -30)) continue;
        const source = records.find((r) => r.id === d.record_id);
        const fields = {
          title: `${legal.ruleLabel(d.rule, "de")} (${stored("followup.until", { date: german(d.due_on) })})`,
          due_on: d.due_on,
          owner_id: kase.fields.assigned_worker_id || null,
          status: "open",
          source_kind: source.kind,
          source_id: source.id,
        };
        wanted.push([source, d.action, fields, true]);
      }
      const phase = legal.phase(records);
      if (phase && phase !== kase.fields.phase) await saveNow("case", kase.id, kase.id, { phase }, GENERATED);
    }
    // A tenancy kept at closing: ask 6 and 12 months later whether the household still holds it.
    for (const kase of found.case) {
      const f = kase.fields;
      if (kase.deleted || f.status !== "closed" || !f.closed_on || !KEPT.has(f.outcome)) continue;
      for (const months of [6, 12]) {
        const fields = {
          title: stored("followup.tenancy", { n: months }),
          due_on: addMonths(f.closed_on, months),
          owner_id: f.assigned_worker_id || null,
          status: "open",
          source_kind: "case",
          source_id: kase.id,
          follow_up: `tenancy_${months}m`,
        };
        wanted.push([kase, await derivedId(kase.id, `tenancy-${months}m`), fields, false]);
      }
    }
    for (const application of found.benefit_application) {
      const f = application.fields;
      if (f.decision !== "pending" || !f.expected_decision_on || f.expected_decision_on >= today()) continue;
      const fields = {
        title: stored("followup.decision", { what: stored(`benefit.${f.kind}`), agency: f.agency || "–" }),
        due_on: addDays(f.expected_decision_on, 1),
        status: "open",
        owner_id: cases.get(application.case_id)?.fields.assigned_worker_id || null,
        source_kind: "benefit_application",
        source_id: application.id,
      };
      wanted.push([application, await derivedId(application.id, `decision-${f.expected_decision_on}`), fields, false]);
    }
    for (const agreement of found.installment_agreement) {
      const standing = installmentState(agreement.fields);
      // A payment recorded as missed asks for catching up; a due one nobody recorded asks to record it.
      const behind = standing.state === "behind" && standing.outstanding.length;
      const unrecorded = standing.state === "unrecorded" && standing.expected.find((p) => p.unrecorded);
      if (!behind && !unrecorded) continue;
      const first = behind ? standing.outstanding[0] : unrecorded;
      const fields = {
        title: stored(behind ? "followup.behind" : "followup.unrecorded", {
          who: agreement.fields.creditor_name || stored(`creditor_ia.${agreement.fields.creditor}`),
          date: german(first.due_on),
        }),
        due_on: addDays(first.due_on, 1),
        status: "open",
        owner_id: cases.get(agreement.case_id)?.fields.assigned_worker_id || null,
        source_kind: "installment_agreement",
        source_id: agreement.id,
      };
      wanted.push([agreement, await derivedId(agreement.id, `${behind ? "behind" : "record"}-${first.due_on}`), fields, false]);
    }
    let changed = 0;
    // A payment recorded since (paid or missed) closes its "record the payment" action.
    for (const agreement of found.installment_agreement) {
      for (const payment of installmentState(agreement.fields).expected) {
        if (!payment.paid && !payment.missed) continue;
        const ask = actions.get(await derivedId(agreement.id, `record-${payment.due_on}`));
        if (ask && ask.fields.status === "open") {
          await saveNow("action", ask.id, ask.case_id, { status: "done", done_on: today() }, GENERATED);
          changed += 1;
        }
      }
    }
    for (const [source, id, fields, follows] of wanted) {
      const existing = actions.get(id);
      if (!existing) {
        await saveNow("action", id, source.case_id, fields, GENERATED);
        changed += 1;
      } else if (follows && existing.fields.status === "open" && (existing.fields.due_on !== fields.due_on || existing.fields.title !== fields.title)) {
        await saveNow("action", id, source.case_id, { due_on: fields.due_on, title: fields.title }, GENERATED);
        changed += 1;
      }
    }
    // The single "prepare a week before" action older versions made for every legal event: kept only where a
    // preparation rule still calls for it; otherwise cancelled, so that no generated action doubles another.
    // Likewise a deadline that no longer follows (a provisional Schonfrist after an ordentliche Kündigung was
    // recorded, the court's notice once the lawsuit's service is): its open action is cancelled, not left to mislead.
    for (const event of found.legal_event) {
      const kase = cases.get(event.case_id);
      const computed = kase && !kase.deleted && kase.fields.status !== "closed"; // a closed case's were not computed
      for (const rule of ["deadline", ...(computed ? legal.deadlineRules(event.fields?.type) : [])]) {
        const old = actions.get(await derivedId(event.id, rule));
        if (old && !deadlineActions.has(old.id) && old.fields.status === "open" && old.fields.source_kind === "legal_event") {
          await saveNow("action", old.id, old.case_id, { status: "cancelled" }, GENERATED);
          changed += 1;
        }
      }
    }
    return changed;
  });
}
