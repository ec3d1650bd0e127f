// The local store in IndexedDB: one cached openDB(), numbered schema upgrades, and everything sensitive encrypted.
// Encryption happens before a transaction opens: nothing else is awaited inside an IndexedDB transaction.
//
// Stores (version 2):
//   meta     vault (the wrapped data key), cursor, last_mid, owner, last sync: no case data
//   records  {id, case_id, kind, blob}: blob = sealed {id, case_id, kind, version, fields, local}
//            ``fields`` is the copy last received by pull (``version`` is its version, the only base_version
//            ever sent); ``local`` holds this device's changes not yet pulled back, shown on top of ``fields``.
//   outbox   {mid, target, op, status, error, aad, blob}: mutations in mid order, blob = sealed mutation
//            status "waiting" (never sent: may still absorb later edits), "sent" (in a push whose answer
//            never arrived: immutable from then on), "rejected" (kept with the server's error until discarded)
//   drafts   {id, blob}: text being typed (a visit's note), saved on every pause and never sent
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

async function sealRecords(key, records) {
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

/** The ids of the records this device still has to send (waiting, sent or rejected mutations). */
export async function outboxTargets() {
  const db = await openDB();
  const rows = await promised(db.transaction("outbox").objectStore("outbox").getAll());
  return new Set(rows.map((row) => row.target));
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

/** Remove every record of a case (a ``purge`` from the server). */
export async function purgeCase(caseId) {
  const db = await openDB();
  const transaction = db.transaction("records", "readwrite");
  const store = transaction.objectStore("records");
  const keys = await promised(store.index("case_id").getAllKeys(caseId));
  for (const id of keys) store.delete(id);
  return done(transaction);
}

// --- the outbox: mutations waiting to be pushed, in mid order -------------------------------------------

const targetOf = (mutation) => mutation.id || mutation.conflict_id;
const outboxAad = (mutation) => `outbox|${targetOf(mutation)}`;

/**
 * Record a change: the mutation goes into the outbox and the changed records (with their ``local`` overlay)
 * into the store, in one transaction, so that a crash keeps both or neither. A ``put`` on a record that already
 * has a never-sent ``put`` waiting merges into it (same mid, same base_version, same place in the order);
 * anything sent once is immutable and the change gets the next mid. ``replaces`` names a rejected mutation that
 * this one, corrected, takes the place of: it leaves the outbox in the same transaction. Returns the mid.
 */
export async function commitChange(key, mutation, records = [], { generated = false, replaces = null } = {}) {
  const db = await openDB();
  let merged = null;
  if (mutation.op === "put" && replaces === null) {
    const rows = await promised(db.transaction("outbox").objectStore("outbox").index("target").getAll(mutation.id));
    const open = rows.filter((row) => row.status === "waiting" && row.op === "put").pop();
    if (open) {
      const earlier = await openJSON(key, open.blob, open.aad);
      merged = { row: open, mutation: { ...earlier, fields: { ...earlier.fields, ...mutation.fields } } };
    }
  }
  const blob = await sealJSON(key, mutation, outboxAad(mutation));
  const mergedBlob = merged ? await sealJSON(key, merged.mutation, merged.row.aad) : null;
  const sealed = await sealRecords(key, records);
  const transaction = db.transaction(["meta", "outbox", "records"], "readwrite");
  const meta = transaction.objectStore("meta");
  const outbox = transaction.objectStore("outbox");
  let mid;
  const append = () => {
    meta.get("last_mid").onsuccess = (event) => {
      mid = (event.target.result || 0) + 1;
      meta.put(mid, "last_mid");
      outbox.put({ mid, target: targetOf(mutation), op: mutation.op, aad: outboxAad(mutation), status: "waiting", error: null, blob, generated });
    };
  };
  if (replaces !== null) {
    // Only a refusal still waiting for the worker is replaced: a second tap on the same correction adds nothing.
    outbox.get(replaces).onsuccess = (event) => {
      const row = event.target.result;
      if (!row || row.status !== "rejected") return transaction.abort();
      outbox.delete(replaces);
      append();
    };
  } else if (merged) {
    outbox.get(merged.row.mid).onsuccess = (event) => {
      const row = event.target.result;
      // Still waiting and unchanged since it was read: nothing has sent it, so it may absorb this edit.
      if (row && row.status === "waiting" && row.blob.iv.toString() === merged.row.blob.iv.toString()) {
        mid = row.mid;
        outbox.put({ ...row, blob: mergedBlob, generated: Boolean(row.generated) && generated }); // the worker's edit makes it theirs
      } else append();
    };
  } else append();
  const recordStore = transaction.objectStore("records");
  for (const row of sealed) recordStore.put(row);
  try {
    await done(transaction);
  } catch (error) {
    if (replaces !== null && transaction.error === null) return null; // aborted above: already corrected
    throw error;
  }
  return mid;
}

/** Append a mutation (without ``mid``) to the outbox; returns its ``mid``. */
export async function enqueue(key, mutation) {
  return commitChange(key, mutation, []);
}

/** Every mutation still in the outbox, decrypted, in ``mid`` order, with its status. */
export async function pending(key) {
  const db = await openDB();
  const rows = await promised(db.transaction("outbox").objectStore("outbox").getAll());
  return Promise.all(
    rows.map(async (row) => ({ ...(await openJSON(key, row.blob, row.aad)), mid: row.mid, status: row.status, error: row.error, generated: Boolean(row.generated) })),
  );
}

/** How many mutations wait, and how many were rejected, without decrypting anything. */
/** What this device holds that the server does not: mutations, and documents whose bytes are not sent (a logout,
 * a revocation and a change of user count them as unsynced work). */
export async function outboxCounts() {
  const db = await openDB();
  const transaction = db.transaction(["outbox", "files"]);
  const rows = await promised(transaction.objectStore("outbox").getAll());
  const byState = transaction.objectStore("files").index("state");
  const waiting = await promised(byState.count("upload"));
  const refused = await promised(byState.count("refused"));
  const rejected = rows.filter((row) => row.status === "rejected").length + refused;
  // Follow-up actions the device derived itself (deadlines, overdue decisions) are sent like any change, but they
  // are not the worker's work: any device derives them again from the same records.
  const generated = rows.filter((row) => row.generated && row.status !== "rejected").length;
  // Enquiries without a case wait sealed in meta; their number is kept beside them, so that it can be read
  // without the key (before a change of user, whose wipe would lose them).
  const enquiries = Number(localStorage.getItem(ENQUIRIES_WAITING)) || 0;
  const total = rows.length + waiting + refused + enquiries;
  return { total, own: total - generated, generated, rejected, files: waiting + refused };
}

/** Mark mutations as sent: from now on they are immutable (the server may have processed them). */
export async function markSent(mids) {
  const db = await openDB();
  const transaction = db.transaction("outbox", "readwrite");
  const store = transaction.objectStore("outbox");
  for (const mid of mids) {
    store.get(mid).onsuccess = (event) => {
      const row = event.target.result;
      if (row && row.status === "waiting") store.put({ ...row, status: "sent" });
    };
  }
  return done(transaction);
}

/**
 * Chain the device's own changes: when a put was applied, a later waiting put of the same record that started
 * from the same pulled copy and names only fields the applied put also named takes the applied version as its
 * base. Nobody else changed those fields in between (the first put would have met a conflict), so this cannot
 * overwrite anything unseen, and the worker's second edit is not taken for a change "from another device".
 */
export async function rebase(key, sent, results) {
  const applied = new Map(results.filter((r) => r.status === "applied" && r.version).map((r) => [r.mid, r.version]));
  const chains = sent.filter((m) => m.op === "put" && applied.has(m.mid));
  if (!chains.length) return;
  const db = await openDB();
  const rows = await promised(db.transaction("outbox").objectStore("outbox").getAll());
  const updates = [];
  for (const first of chains) {
    for (const row of rows) {
      if (row.status !== "waiting" || row.op !== "put" || row.mid <= first.mid || row.target !== first.id) continue;
      const later = await openJSON(key, row.blob, row.aad);
      const covered = Object.keys(later.fields).every((name) => name in first.fields);
      if (later.base_version !== first.base_version || !covered) continue;
      const blob = await sealJSON(key, { ...later, base_version: applied.get(first.mid) }, row.aad);
      updates.push({ row, blob });
    }
  }
  if (!updates.length) return;
  const transaction = db.transaction("outbox", "readwrite");
  const store = transaction.objectStore("outbox");
  for (const { row, blob } of updates) {
    store.get(row.mid).onsuccess = (event) => {
      const current = event.target.result;
      // Only if nothing sent or changed it since it was read.
      if (current && current.status === "waiting" && current.blob.iv.toString() === row.blob.iv.toString()) {
        store.put({ ...current, blob });
      }
    };
  }
  await done(transaction);
}

/** Mark every waiting mutation as sent, in one transaction (the start of a push run). */
export async function markAllSent() {
  const db = await openDB();
  const transaction = db.transaction("outbox", "readwrite");
  const store = transaction.objectStore("outbox");
  store.getAll().onsuccess = (event) => {
    for (const row of event.target.result) if (row.status === "waiting") store.put({ ...row, status: "sent" });
  };
  return done(transaction);
}

/** Apply push results: applied and conflict leave the outbox; a rejected one stays, with the server's error. */
export async function settle(results) {
  const db = await openDB();
  const transaction = db.transaction("outbox", "readwrite");
  const store = transaction.objectStore("outbox");
  for (const result of results) {
    if (result.status === "rejected") {
      store.get(result.mid).onsuccess = (event) => {
        const row = event.target.result;
        if (row) store.put({ ...row, status: "rejected", error: result.error });
      };
    } else {
      store.delete(result.mid);
    }
  }
  return done(transaction);
}

/** The worker discards a rejected mutation: it leaves the outbox (its mid is never reused). */
export async function discard(mid) {
  const db = await openDB();
  const transaction = db.transaction("outbox", "readwrite");
  transaction.objectStore("outbox").delete(mid);
  return done(transaction);
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
