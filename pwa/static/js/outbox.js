// The outbox: this device's changes waiting to be pushed, in mid order, sealed with the data key (docs/sync-protocol.md
// "Outbox states"). A change is ``waiting`` until a push run starts, ``sent`` from then on (immutable: the server may
// have processed it), and leaves when the server answers ``applied`` or ``conflict``, or stays ``rejected`` with the
// server's error until the worker discards or corrects it. The records it touches are written in the same
// IndexedDB transaction (storage.js keeps the database and the record store), so a crash keeps both or neither.
import { openJSON, sealJSON } from "./crypto.js";
import { done, ENQUIRIES_WAITING, openDB, promised, sealRecords } from "./storage.js";

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

/** Every mutation still in the outbox, decrypted, in ``mid`` order, with its status. */
export async function pending(key) {
  const db = await openDB();
  const rows = await promised(db.transaction("outbox").objectStore("outbox").getAll());
  return Promise.all(
    rows.map(async (row) => ({ ...(await openJSON(key, row.blob, row.aad)), mid: row.mid, status: row.status, error: row.error, generated: Boolean(row.generated) })),
  );
}

/** What this device holds that the server does not, counted without decrypting anything: mutations, and documents
 * whose bytes are not sent (a logout, a revocation and a change of user count them as unsynced work). */
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

/** The ids of the records this device still has to send (waiting, sent or rejected mutations). */
export async function outboxTargets() {
  const db = await openDB();
  const rows = await promised(db.transaction("outbox").objectStore("outbox").getAll());
  return new Set(rows.map((row) => row.target));
}

/** What this device still has to send, per record: shown on top of the pulled copy. */
export function overlayOf(mutations) {
  const overlay = new Map();
  for (const m of mutations) {
    if (m.op === "put") overlay.set(m.id, { ...(overlay.get(m.id) || {}), ...m.fields });
  }
  return overlay;
}
