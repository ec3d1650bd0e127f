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
