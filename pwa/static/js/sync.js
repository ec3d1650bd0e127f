// The sync engine: docs/sync-protocol.md version 1 as a client.
//
// One run pushes the outbox in mid order (batches of at most 500 mutations and well under 4 MiB), then pulls
// pages until ``has_more`` is false, storing each page and its cursor in one transaction, then (daily, or when a
// stored record did not open) checks what it holds against the server and fetches differing cases again. A Web Lock makes sure
// that only one run is under way on this device, across tabs. Triggers: the "Sync now" button, the ``online``
// event, a change made while online, and a Background Sync event relayed by the service worker.
import { api, ApiError, Offline } from "./api.js";
import * as files from "./files.js";
import * as store from "./storage.js";
import * as outbox from "./outbox.js";

export const PROTOCOL = 1;
export const SCHEMA_VERSION = 2;
// Batches of 100 (the server takes up to 500): the progress moves every 100 changes during a long push.
const BATCH = 100;
const BATCH_BYTES = 3_500_000;
const PAGE = 2000;
// The drift check runs once a day (and after a record did not open); each answer carries a bounded share.
const CHECK_EVERY_MS = 24 * 60 * 60 * 1000;
const CHECK_ROUNDS = 20;

const listeners = new Set();
let context = null; // {key: () => CryptoKey, deviceId: () => string}
let running = null;

/** ``fn(event)`` for {type: "progress"|"state"|"changed"|"upgrade", ...}. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(event) {
  for (const fn of listeners) fn(event);
}

export function configure(value) {
  context = value;
}

// Work arrived while a run was going: another run follows it.
let again = false;

/** Sync now, unless one is running here or in another tab; resolves with a summary. */
export function syncNow() {
  if (!context || !context.key()) return Promise.resolve({ status: "locked" });
  if (!navigator.onLine) return Promise.resolve({ status: "offline" });
  if (running) {
    // Work arrived while a run was going: it may have missed it, so another run follows this one.
    again = true;
    return running;
  }
  again = false;
  running = (async () => {
    emit({ type: "state", running: true });
    try {
      const run = async (lock) => (lock ? runOnce() : { status: "busy" });
      const result = navigator.locks
        ? await navigator.locks.request("doorstep-sync", { ifAvailable: true }, run)
        : await runOnce();
      emit({ type: "state", running: false, result });
      return result;
    } catch (error) {
      const result = { status: "error", error: describe(error) };
      emit({ type: "state", running: false, result });
      return result;
    } finally {
      running = null;
      if (again) setTimeout(() => syncNow(), 0);
    }
  })();
  return running;
}

function describe(error) {
  if (error instanceof Offline) return { code: "offline" };
  if (error instanceof ApiError) return { code: error.type || `http-${error.status}`, detail: error.message };
  return { code: "internal", detail: String(error && error.message ? error.message : error) };
}

/** Ask for a sync when the network is back, even if the page is busy or the tab sleeps (Background Sync). */
export async function requestBackgroundSync() {
  try {
    /** @type {any} ServiceWorkerRegistration with the Background Sync API, where the browser has it */
    const registration = await navigator.serviceWorker?.ready;
    if (registration && "sync" in registration) await registration.sync.register("doorstep-sync");
  } catch {
    // Not available (or not permitted): the online event and the button remain.
  }
}

async function runOnce() {
  // A start while offline has no session token yet: fetch it (or learn that a login is needed) first.
  if (context.ready && !(await context.ready())) return { status: "error", error: { code: "unauthenticated" } };
  const key = context.key();
  const pushed = await pushAll(key);
  let pulled;
  try {
    pulled = await pullAll(key);
  } catch (error) {
    if (!(error instanceof ApiError && error.type === "cursor-expired")) throw error;
    // The server no longer keeps deletions that old: hand in what is left, then start from an empty cursor.
    await pushAll(key);
    await store.clearRecords();
    pulled = await pullAll(key);
  }
  let repaired = 0;
  try {
    repaired = await checkHeld(key);
  } catch (error) {
    // The check repairs; it must not fail a sync whose changes are already in. It runs again at the next one
    // (the flag stays). A session or device problem still goes to the app, which acts on it.
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) throw error;
  }
  // Files of deleted attachments and of cases that left this device go; then the files taken here are sent.
  await files.tidy(await store.idsOfKind("attachment"));
  const uploaded = await files.uploadAll(key, ({ done, total }) => emit({ type: "progress", phase: "upload", done, total }));
  const now = new Date().toISOString();
  await store.setMeta("last_sync", now);
  emit({ type: "changed" });
  return { status: "ok", pushed, pulled, uploaded, repaired, at: now };
}

/**
 * The drift check, once a day and whenever a stored record did not open: what this device holds is compared
 * with the server per case, and the cases that differ come back whole (docs/sync-protocol.md, drift check).
 * Returns how many cases were fetched again.
 */
async function checkHeld(key) {
  const last = await store.getMeta("checked_at");
  const flagged = await store.getMeta(store.CHECK_DUE);
  if (!last && !flagged) {
    // The first run was a bootstrap: a fresh copy. The first check follows a day later.
    await store.setMeta("checked_at", new Date().toISOString());
    return 0;
  }
  if (!flagged && Date.now() - Date.parse(last) <= CHECK_EVERY_MS) return 0;
  let repaired = 0;
  for (let round = 0; round < CHECK_ROUNDS; round++) {
    const answer = await api("POST", "/api/sync/check", {
      held: await store.heldDigests(key),
      schema_version: SCHEMA_VERSION,
    });
    await store.applyRepair(key, answer, outbox.overlayOf(await outbox.pending(key)), await outbox.outboxTargets());
    repaired += new Set(answer.changes.map((change) => change.case_id)).size;
    if (!answer.more) break;
  }
  await store.setMeta("checked_at", new Date().toISOString());
  return repaired;
}

function batches(mutations) {
  const out = [];
  let current = [];
  let bytes = 0;
  for (const mutation of mutations) {
    const size = JSON.stringify(mutation).length * 3; // worst case UTF-8
    if (current.length && (current.length >= BATCH || bytes + size > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(mutation);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}

async function pushAll(key) {
  // Everything waiting now counts as sent before it is read (a resend with the same mid is harmless): an edit
  // saved while this run goes on becomes a new entry for the next run, instead of merging into an entry whose
  // older copy is on its way and would be settled in its place.
  await outbox.markAllSent();
  const outgoing = (await outbox.pending(key)).filter((m) => m.status === "sent");
  if (!outgoing.length) return 0;
  const cursor = (await store.getMeta("cursor")) || null;
  let sent = 0;
  emit({ type: "progress", phase: "push", done: 0, total: outgoing.length });
  for (const batch of batches(outgoing)) {
    const mutations = batch.map(({ status, error, ...mutation }) => mutation);
    const response = await api("POST", "/api/sync/push", {
      protocol: PROTOCOL,
      device_id: context.deviceId(),
      schema_version: SCHEMA_VERSION,
      cursor,
      mutations,
    });
    await outbox.settle(response.results);
    await outbox.rebase(key, mutations, response.results);
    sent += batch.length;
    emit({ type: "progress", phase: "push", done: sent, total: outgoing.length });
  }
  return sent;
}


function fetchPage(cursor) {
  const query = new URLSearchParams({ limit: String(PAGE), protocol: String(PROTOCOL), schema_version: String(SCHEMA_VERSION) });
  if (cursor) query.set("cursor", cursor);
  return api("GET", `/api/sync/pull?${query}`);
}

async function pullAll(key) {
  let received = 0;
  let next = fetchPage((await store.getMeta("cursor")) || "");
  next.catch(() => {}); // handled when awaited
  for (;;) {
    let page;
    try {
      page = await next;
    } catch (error) {
      if (error instanceof ApiError && error.type === "upgrade-required") emit({ type: "upgrade" });
      throw error;
    }
    // Ask for the next page while this one is encrypted and written: network and WebCrypto overlap.
    if (page.has_more) {
      next = fetchPage(page.cursor);
      next.catch(() => {});
    }
    // Changes made on this device while the pull runs stay on top of what arrives.
    await store.applyPage(key, page, outbox.overlayOf(await outbox.pending(key)));
    received += page.changes.length;
    if (received || page.has_more) {
      emit({ type: "progress", phase: "pull", done: received, total: received + (page.remaining || 0) });
    }
    if (!page.has_more) return received;
  }
}
