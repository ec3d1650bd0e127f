// The case data as the screens see it: records decrypted from the local store, this device's unsent changes on
// top, and every change written to the outbox and the store together.
import * as store from "./storage.js";
import { overlayOf } from "./sync.js";
import { today, uuid7 } from "./ui.js";

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
  for (const m of await store.pending(key)) {
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

async function saveNow(kind, id, caseId, fields) {
  const current = await store.getRecord(key, id);
  const mutation = { op: "put", kind, id, case_id: caseId, base_version: current ? current.version : null, fields };
  const next = current
    ? { ...current, local: { ...(current.local || {}), ...fields } }
    : { id, case_id: caseId, kind, version: null, fields: {}, local: { ...fields } };
  await store.commitChange(key, mutation, [next]);
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
  await store.commitChange(key, { op: "resolve", conflict_id: conflict.id, value }, touched);
  afterChange();
}

/** Drop a rejected change; the record shows what this device last pulled (plus any other unsent change). */
export function discard(mid, recordId) {
  return serial(() => discardNow(mid, recordId));
}

async function discardNow(mid, recordId) {
  await store.discard(mid);
  const current = await store.getRecord(key, recordId);
  if (current) {
    const overlay = overlayOf((await store.pending(key)).filter((m) => m.id === recordId));
    await store.putRecords(key, [{ ...current, local: overlay.get(recordId) || null }]);
  }
  afterChange();
}

export const drafts = {
  save: (id, value) => store.saveDraft(key, id, value),
  get: (id) => store.getDraft(key, id),
  drop: (id) => store.deleteDraft(id),
};

// --- what the screens compute from the records ---------------------------------------------------------------

/** The next legal deadline of each case (today or later): {case_id: legal_event}. */
export function nextDeadlines(legalEvents) {
  const from = today();
  const next = {};
  for (const event of legalEvents) {
    if (event.fields.date < from) continue;
    const known = next[event.case_id];
    if (!known || event.fields.date < known.fields.date) next[event.case_id] = event;
  }
  return next;
}

/** Income minus expenses of an assessment (section 6), in cents; the same rule as the server's. */
export function monthlyBalance(fields) {
  const sum = (items) => (items || []).reduce((total, item) => total + (Number(item.monthly_cents) || 0), 0);
  const income = sum(fields.income?.items) + sum(fields.benefits?.received);
  const expenses = sum(fields.budget?.fixed) + sum(fields.budget?.variable);
  return { income, expenses, balance: income - expenses };
}

/** The assessment being worked on (the newest without ``completed_at``), else the last one completed. */
export function latestAssessment(records) {
  const found = records.filter((r) => r.kind === "assessment" && !r.deleted);
  const open = found.filter((r) => !r.fields.completed_at).sort((a, b) => a.id.localeCompare(b.id));
  if (open.length) return open.pop();
  return found.sort((a, b) => a.fields.completed_at.localeCompare(b.fields.completed_at)).pop();
}
