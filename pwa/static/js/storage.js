// The local store in IndexedDB: one cached openDB(), numbered schema upgrades, and everything sensitive encrypted.
// Encryption happens before a transaction opens: nothing else is awaited inside an IndexedDB transaction.
//
// Stores (database version 3):
//   meta     vault (the wrapped data key), cursor, last_mid, owner, last sync: no case data
//   records  {id, case_id, kind, blob}: blob = sealed {id, case_id, kind, version, fields, local}
//            ``fields`` is the copy last received by pull (``version`` is its version, the only base_version
//            ever sent); ``local`` holds this device's changes not yet pulled back, shown on top of ``fields``.
//   outbox   {mid, target, op, status, error, aad, blob}: mutations in mid order, blob = sealed mutation; its
//            states and every operation on it are in outbox.js
//   drafts   {id, blob}: what is typed into a form and not saved (drafts.js), never sent
//   files    {id, case_id, size, chunks, state, blob}: an attachment's bytes held here (version 3, files.js);
//            blob = sealed {sha256, content_type}; state "upload" (waiting to be sent) or "stored"
//   chunks   {key, file, blob}: the bytes themselves, sealed in chunks of 512 KiB
import { openJSON, sealJSON } from "./crypto.js";

const DB_NAME = "doorstep";
const DB_VERSION = 3;
let opening = null;

/** How many enquiries without a case wait to be sent (a number only: enquiries.js keeps it). */
export const ENQUIRIES_WAITING = "doorstep.enquiries_waiting";

export function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function done(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onabort = transaction.onerror = () => reject(transaction.error);
  });
}

/** The database, opened once per page. */
export function openDB() {
  if (!opening) {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      const tx = request.transaction;
      if (event.oldVersion < 1) {
        db.createObjectStore("meta");
        const records = db.createObjectStore("records", { keyPath: "id" });
        records.createIndex("case_id", "case_id");
        db.createObjectStore("outbox", { keyPath: "mid" });
      }
      if (event.oldVersion < 2) {
        // Version 2 keeps the kind beside the case id (both are identifiers, not content) so that a screen reads
        // only the kinds it shows, and lets the outbox find a waiting edit of the same record.
        tx.objectStore("records").createIndex("kind", "kind");
        tx.objectStore("outbox").createIndex("target", "target");
        db.createObjectStore("drafts", { keyPath: "id" });
        if (event.oldVersion >= 1) {
          tx.objectStore("records").clear(); // rows without a kind: pull them again
          tx.objectStore("meta").delete("cursor");
        }
      }
      if (event.oldVersion < 3) {
        // Version 3: attachments' bytes, encrypted in chunks, beside the records (files.js).
        const files = db.createObjectStore("files", { keyPath: "id" });
        files.createIndex("case_id", "case_id");
        files.createIndex("state", "state");
        db.createObjectStore("chunks", { keyPath: "key" }).createIndex("file", "file");
      }
    };
    opening = promised(request).then((db) => {
      // Another tab deleting the database (a remote wipe) must not be blocked by this page.
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      return db;
    });
    opening.catch(() => (opening = null));
  }
  return opening;
}

export async function getMeta(name) {
  const db = await openDB();
  return promised(db.transaction("meta").objectStore("meta").get(name));
}

export async function setMeta(name, value) {
  const db = await openDB();
  const transaction = db.transaction("meta", "readwrite");
  transaction.objectStore("meta").put(value, name);
  return done(transaction);
}

const recordAad = (id) => `record|${id}`;

export async function sealRecords(key, records) {
  return Promise.all(
    records.map(async (record) => ({
      id: record.id,
      case_id: record.case_id,
      kind: record.kind,
      blob: await sealJSON(key, record, recordAad(record.id)),
    })),
  );
}

/** Store records ({id, case_id, kind, version, fields, local}) encrypted, in one transaction. */
export async function putRecords(key, records) {
  const sealed = await sealRecords(key, records);
  const db = await openDB();
  const transaction = db.transaction("records", "readwrite");
  const store = transaction.objectStore("records");
  for (const row of sealed) store.put(row);
  return done(transaction);
}

/**
 * One pull page, atomically: its records (with ``overlay`` re-applied on records that still have outgoing
 * changes), its deletions and purges, and then the cursor. The cursor is never stored without its page.
 */
export async function applyPage(key, page, overlay) {
  const live = [];
  const gone = [];
  for (const change of page.changes) {
    if (change.deleted) gone.push(change.id);
    else live.push(asStored(change, overlay));
  }
  const sealed = await sealRecords(key, live);
  // Purges first, then the page's records: a case that left the scope and came back within this page is dropped
  // and then delivered whole, so a record deleted while it was away does not survive on the device.
  return replaceCases(page.purge, new Set(), (store, meta) => {
    for (const row of sealed) store.put(row);
    for (const id of gone) store.delete(id);
    meta.put(page.cursor, "cursor");
  });
}

/** A delivered change as this device stores it, with the device's own unsent edits (``overlay``) on top. */
function asStored(change, overlay) {
  return {
    id: change.id,
    case_id: change.case_id,
    kind: change.kind,
    version: change.version,
    flag: change.flag || null,
    fields: change.fields,
    local: overlay.get(change.id) || null,
  };
}

/**
 * In one transaction: delete the stored records of ``caseIds`` (except the ids in ``keep``), then ``write`` the
 * new ones, so that nothing of a case's old copy is left beside its new one.
 */
async function replaceCases(caseIds, keep, write) {
  const db = await openDB();
  const transaction = db.transaction(["records", "meta"], "readwrite");
  const store = transaction.objectStore("records");
  const meta = transaction.objectStore("meta");
  let clearing = caseIds.length;
  if (!clearing) write(store, meta);
  for (const caseId of caseIds) {
    store.index("case_id").getAllKeys(caseId).onsuccess = (event) => {
      for (const id of event.target.result) if (!keep.has(id)) store.delete(id);
      if (--clearing === 0) write(store, meta);
    };
  }
  return done(transaction);
}

/** Remove every record (before a bootstrap from an empty cursor). */
export async function clearRecords() {
  const db = await openDB();
  const transaction = db.transaction(["records", "meta"], "readwrite");
  transaction.objectStore("records").clear();
  transaction.objectStore("meta").delete("cursor");
  return done(transaction);
}

/**
 * Open stored rows. A row that does not open (a damaged block of the browser's storage) is left out and the next
 * sync runs the drift check, which fetches its case again; when no row opens at all, the key is wrong: that is an
 * error, not damage.
 */
async function openRows(key, rows) {
  const opened = await Promise.allSettled(rows.map((row) => openJSON(key, row.blob, recordAad(row.id))));
  const failed = opened.filter((result) => result.status === "rejected");
  if (failed.length && failed.length === rows.length) throw failed[0].reason;
  if (failed.length) await setMeta(CHECK_DUE, true);
  return opened.filter((result) => result.status === "fulfilled").map((result) => result.value);
}

/** One record, decrypted, or undefined. */
export async function getRecord(key, id) {
  const db = await openDB();
  const row = await promised(db.transaction("records").objectStore("records").get(id));
  return row ? openJSON(key, row.blob, recordAad(row.id)) : undefined;
}

/** Every record of a case (or all), decrypted in parallel after the read transaction has finished. */
export async function listRecords(key, caseId) {
  const db = await openDB();
  const store = db.transaction("records").objectStore("records");
  const rows = await promised(caseId ? store.index("case_id").getAll(caseId) : store.getAll());
  return openRows(key, rows);
}

/** Every record of the given kinds, decrypted: ``{kind: [records]}``. */
export async function listKinds(key, kinds) {
  const db = await openDB();
  const index = db.transaction("records").objectStore("records").index("kind");
  const rows = await Promise.all(kinds.map((kind) => promised(index.getAll(kind))));
  const opened = await Promise.all(rows.map((list) => openRows(key, list)));
  return Object.fromEntries(kinds.map((kind, i) => [kind, opened[i]]));
}

// --- the drift check (docs/sync-protocol.md, drift check) ------------------------------------------------

/** Meta flag: a stored record did not open, so the next sync checks what this device holds. */
export const CHECK_DUE = "check_due";

async function sha256Hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * What this device holds, per case: the SHA-256 of the lines "<id> <version>" of the records that open, sorted
 * and joined by newlines. A case whose records were all made here and not sent yet is not named (the server
 * does not know it yet); a case with a record that does not open is named, so that it comes back whole.
 */
export async function heldDigests(key) {
  const db = await openDB();
  const rows = await promised(db.transaction("records").objectStore("records").getAll());
  const lines = new Map();
  const named = new Set();
  await Promise.all(
    rows.map(async (row) => {
      if (!lines.has(row.case_id)) lines.set(row.case_id, []);
      let record;
      try {
        record = await openJSON(key, row.blob, recordAad(row.id));
      } catch {
        named.add(row.case_id);
        return;
      }
      if (record.version == null) return; // made on this device, not on the server yet
      lines.get(row.case_id).push(`${row.id} ${record.version}`);
      named.add(row.case_id);
    }),
  );
  const digests = {};
  for (const caseId of named) digests[caseId] = await sha256Hex(lines.get(caseId).sort().join("\n"));
  return digests;
}

/**
 * Store the server's answer to a drift check: each case it sent comes in place of this device's copy, and purged
 * cases go. Records this device still has to send (``keep``: their ids) stay, and ``overlay`` goes back on top.
 */
export async function applyRepair(key, answer, overlay, keep) {
  const live = answer.changes.map((change) => asStored(change, overlay));
  const sealed = await sealRecords(key, live);
  const replaced = [...new Set([...live.map((record) => record.case_id), ...answer.purge])];
  return replaceCases(replaced, keep, (store, meta) => {
    for (const row of sealed) store.put(row);
    meta.delete(CHECK_DUE);
  });
}


/** The ids of the stored records of ``kind`` (no decryption: ids and kinds are kept in clear). */
export async function idsOfKind(kind) {
  const db = await openDB();
  return promised(db.transaction("records").objectStore("records").index("kind").getAllKeys(kind));
}

export async function countRecords() {
  const db = await openDB();
  return promised(db.transaction("records").objectStore("records").count());
}

// --- drafts: text being typed, encrypted like everything else -----------------------------------------------

export async function saveDraft(key, id, value) {
  const blob = await sealJSON(key, value, `draft|${id}`);
  const db = await openDB();
  const transaction = db.transaction("drafts", "readwrite");
  transaction.objectStore("drafts").put({ id, blob });
  return done(transaction);
}

export async function getDraft(key, id) {
  const db = await openDB();
  const row = await promised(db.transaction("drafts").objectStore("drafts").get(id));
  return row ? openJSON(key, row.blob, `draft|${id}`) : undefined;
}

export async function deleteDraft(id) {
  const db = await openDB();
  const transaction = db.transaction("drafts", "readwrite");
  transaction.objectStore("drafts").delete(id);
  return done(transaction);
}

/** Delete the whole local database (remote wipe, or a new user on a device with nothing unsynced). */
export async function wipe() {
  if (opening) {
    try {
      (await opening).close();
    } catch {
      // a database that never opened needs no closing
    }
    opening = null;
  }
  localStorage.removeItem(ENQUIRIES_WAITING);
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}
