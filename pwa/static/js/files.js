// Attachments' bytes on this device and on their way (docs/sync-protocol.md "Attachments", docs/security.md part 4).
//
// The bytes are sealed with the device key in chunks of 512 KiB ("files" and "chunks" in IndexedDB, storage.js);
// nothing of a file is ever stored in clear. A file taken here waits in state "upload" until the server holds all
// of it: every sync run sends what is waiting, asking the server first where it stands, so an upload cut between
// two chunks goes on from the last chunk the server stored, after a reload or a crash as well. A file of another
// device is fetched when it is opened (or ahead, for a case with a visit today) and kept in state "stored".
import { api, ApiError, fetchBytes, Offline, sendChunk } from "./api.js";
import { openJSON, sealJSON } from "./crypto.js";
import { sha256hex } from "./imaging.js";
import * as store from "./storage.js";

export const CHUNK = 512 * 1024;
const encoder = new TextEncoder();
const chunkKey = (id, idx) => `${id}/${String(idx).padStart(5, "0")}`;
const chunkAad = (id, idx) => encoder.encode(`file|${id}|${idx}`);

async function seal(key, bytes, aad) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, bytes);
  return { iv, data: new Uint8Array(data) };
}

async function open(key, blob, aad) {
  return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: blob.iv, additionalData: aad }, key, blob.data));
}

/** Keep ``bytes`` of attachment ``id`` (sealed before the transaction opens); ``state`` "upload" or "stored". */
export async function keep(key, { id, case_id, bytes, sha256, content_type }, state = "upload") {
  const count = Math.max(1, Math.ceil(bytes.length / CHUNK));
  const sealed = [];
  for (let idx = 0; idx < count; idx++) sealed.push(await seal(key, bytes.subarray(idx * CHUNK, (idx + 1) * CHUNK), chunkAad(id, idx)));
  const meta = await sealJSON(key, { sha256, content_type }, `file|${id}`);
  const db = await store.openDB();
  const transaction = db.transaction(["files", "chunks"], "readwrite");
  const chunks = transaction.objectStore("chunks");
  sealed.forEach((blob, idx) => chunks.put({ key: chunkKey(id, idx), file: id, blob }));
  transaction.objectStore("files").put({ id, case_id, size: bytes.length, chunks: count, state, error: null, blob: meta });
  return store.done(transaction);
}

/** The file's row (clear: id, case, size, state), or undefined. */
export async function row(id) {
  const db = await store.openDB();
  return store.promised(db.transaction("files").objectStore("files").get(id));
}

export async function rows() {
  const db = await store.openDB();
  return store.promised(db.transaction("files").objectStore("files").getAll());
}

async function chunkOf(key, id, idx) {
  const db = await store.openDB();
  const found = await store.promised(db.transaction("chunks").objectStore("chunks").get(chunkKey(id, idx)));
  if (!found) throw new Error("a chunk of the file is missing");
  return open(key, found.blob, chunkAad(id, idx));
}

/** The whole file, decrypted, or null when it is not on this device. */
export async function bytesOf(key, id) {
  const file = await row(id);
  if (!file) return null;
  const out = new Uint8Array(file.size);
  for (let idx = 0; idx < file.chunks; idx++) out.set(await chunkOf(key, id, idx), idx * CHUNK);
  return out;
}

async function setState(id, state, error = null) {
  const db = await store.openDB();
  const transaction = db.transaction("files", "readwrite");
  const files = transaction.objectStore("files");
  const found = await store.promised(files.get(id));
  if (found) files.put({ ...found, state, error });
  return store.done(transaction);
}

/** Drop the bytes of ``ids`` from this device; a file still waiting to be sent is never dropped. */
async function forget(ids) {
  if (!ids.length) return;
  const db = await store.openDB();
  const transaction = db.transaction(["files", "chunks"], "readwrite");
  const files = transaction.objectStore("files");
  const chunks = transaction.objectStore("chunks");
  for (const id of ids) {
    files.get(id).onsuccess = (event) => {
      const found = event.target.result;
      if (!found || found.state === "upload") return;
      files.delete(id);
      chunks.index("file").getAllKeys(id).onsuccess = (e) => e.target.result.forEach((k) => chunks.delete(k));
    };
  }
  return store.done(transaction);
}

/** Drop a refused file for good (the worker decided; it will never reach the server). */
export async function discard(id) {
  const file = await row(id);
  if (!file || file.state !== "refused") return;
  await setState(id, "stored");
  return forget([id]);
}

/** After a pull: the bytes of deleted attachments and of cases that left this device go too. */
export async function tidy(recordIds) {
  const held = await rows();
  const records = new Set(recordIds);
  return forget(held.filter((file) => !records.has(file.id)).map((file) => file.id));
}

// --- the upload queue --------------------------------------------------------------------------------------

/** Send every waiting file, each from where the server stands; ``progress({done, total})`` in bytes.
 * @param {CryptoKey} key @param {(state: {done: number, total: number}) => void} [progress] */
export async function uploadAll(key, progress = () => {}) {
  const waiting = (await rows()).filter((file) => file.state === "upload");
  const total = waiting.reduce((sum, file) => sum + file.size, 0);
  let before = 0;
  for (const file of waiting) {
    await uploadOne(key, file, (sent) => progress({ done: before + sent, total }));
    before += file.size;
  }
  return waiting.length;
}

async function uploadOne(key, file, progress) {
  const meta = await openJSON(key, file.blob, `file|${file.id}`);
  const path = `/api/attachments/${file.id}/upload`;
  let state;
  try {
    state = await api("POST", path, { case_id: file.case_id, size: file.size, sha256: meta.sha256, content_type: meta.content_type });
  } catch (error) {
    // 429: the device's or the server's quota of unfinished files is full for now; the file waits for a later run.
    if (error instanceof ApiError && error.status === 429) return null;
    if (error instanceof ApiError && error.status < 500 && error.status !== 401) return setState(file.id, "refused", { code: error.type, detail: error.message });
    throw error;
  }
  let offset = state.offset;
  let restarted = false;
  while (!state.complete && offset < file.size) {
    const idx = Math.floor(offset / CHUNK);
    const chunk = (await chunkOf(key, file.id, idx)).subarray(offset - idx * CHUNK);
    progress(offset);
    try {
      state = await sendChunk(path, offset, chunk);
      offset = state.offset;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.type === "upload-offset" && error.offset !== null) {
        offset = Number(error.offset); // the server holds more (or less) than this device thought: go on from there
      } else if (error.type === "upload-hash-mismatch" && !restarted) {
        restarted = true;
        offset = 0;
      } else if (error.status < 500 && error.status !== 401) {
        return setState(file.id, "refused", { code: error.type, detail: error.message });
      } else {
        throw error;
      }
    }
  }
  progress(file.size);
  return setState(file.id, "stored");
}

// --- downloads ---------------------------------------------------------------------------------------------

/** Fetch an attachment's bytes (checked against the record's SHA-256) and keep them sealed. */
export async function download(key, record, progress = () => {}) {
  const bytes = await fetchBytes(`/api/attachments/${record.id}`, progress);
  if ((await sha256hex(bytes)) !== record.fields.sha256) throw new Error("the file received does not match its record");
  await keep(key, { id: record.id, case_id: record.case_id, bytes, sha256: record.fields.sha256, content_type: record.fields.content_type }, "stored");
  return bytes;
}

/** Fetch ahead the files of ``records`` not yet here (the cases with a visit today); stops quietly offline. */
export async function prefetch(key, records) {
  const held = new Set((await rows()).map((file) => file.id));
  let fetched = 0;
  for (const record of records) {
    if (held.has(record.id)) continue;
    try {
      await download(key, record);
      fetched += 1;
    } catch (error) {
      if (error instanceof Offline) break;
      // not uploaded yet, or gone: the next run tries again
    }
  }
  return fetched;
}

/** What the browser grants this app: {usage, quota} in bytes, or null when it does not say. */
export async function estimate() {
  try {
    const { usage, quota } = await navigator.storage.estimate();
    return typeof quota === "number" ? { usage: usage || 0, quota } : null;
  } catch {
    return null;
  }
}

/** Whether ``bytes`` more fit with room to spare (the sealed copy and the outbox need some too). */
export async function room(bytes) {
  const space = await estimate();
  if (!space) return { ok: true, space };
  return { ok: space.quota - space.usage > bytes * 2 + 20 * 1024 * 1024, space };
}
