// The local store in IndexedDB: one cached openDB(), numbered schema upgrades, and records kept encrypted.
// Encryption happens before a transaction opens: nothing else is awaited inside an IndexedDB transaction.
import { openJSON, sealJSON } from "./crypto.js";

const DB_NAME = "doorstep";
const DB_VERSION = 1;
let opening = null;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(transaction) {
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
      if (event.oldVersion < 1) {
        db.createObjectStore("meta"); // vault (wrapped key), cursor, device id: no case data
        const records = db.createObjectStore("records", { keyPath: "id" });
        records.createIndex("case_id", "case_id");
        db.createObjectStore("outbox", { keyPath: "mid" });
      }
    };
    opening = promised(request);
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

/** Store records ({id, case_id, kind, version, fields, ...}) encrypted, in one transaction. */
export async function putRecords(key, records) {
  const sealed = await Promise.all(
    records.map(async (record) => ({
      id: record.id,
      case_id: record.case_id,
      blob: await sealJSON(key, record, `record|${record.id}`),
    })),
  );
  const db = await openDB();
  const transaction = db.transaction("records", "readwrite");
  const store = transaction.objectStore("records");
  for (const row of sealed) store.put(row);
  return done(transaction);
}

/** One record, decrypted, or undefined. */
export async function getRecord(key, id) {
  const db = await openDB();
  const row = await promised(db.transaction("records").objectStore("records").get(id));
  return row ? openJSON(key, row.blob, `record|${row.id}`) : undefined;
}

/** Every record of a case (or all), decrypted in parallel after the read transaction has finished. */
export async function listRecords(key, caseId) {
  const db = await openDB();
  const store = db.transaction("records").objectStore("records");
  const rows = await promised(caseId ? store.index("case_id").getAll(caseId) : store.getAll());
  return Promise.all(rows.map((row) => openJSON(key, row.blob, `record|${row.id}`)));
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

function outboxAad(mutation) {
  return `outbox|${mutation.id || mutation.conflict_id}`;
}

/** Append a mutation (without ``mid``) to the outbox; returns its ``mid``, the next of this device's counter. */
export async function enqueue(key, mutation) {
  const blob = await sealJSON(key, mutation, outboxAad(mutation));
  const db = await openDB();
  const transaction = db.transaction(["meta", "outbox"], "readwrite");
  const meta = transaction.objectStore("meta");
  let mid;
  meta.get("last_mid").onsuccess = (event) => {
    mid = (event.target.result || 0) + 1;
    meta.put(mid, "last_mid");
    transaction.objectStore("outbox").put({ mid, aad: outboxAad(mutation), status: "waiting", error: null, blob });
  };
  await done(transaction);
  return mid;
}

/** Every mutation still in the outbox, decrypted, in ``mid`` order, with its status. */
export async function pending(key) {
  const db = await openDB();
  const rows = await promised(db.transaction("outbox").objectStore("outbox").getAll());
  return Promise.all(
    rows.map(async (row) => ({ ...(await openJSON(key, row.blob, row.aad)), mid: row.mid, status: row.status, error: row.error })),
  );
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
