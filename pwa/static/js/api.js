// The server's HTTP API: JSON in and out, the CSRF header on every change, the device's key on every request,
// problems (RFC 9457) as ApiError.

import { measured } from "./clock.js";

let csrfToken = null;
let requestKey = null;
const listeners = new Set();

export function setCsrf(token) {
  csrfToken = token;
}

/** The key this device's session is bound to (login hands it out once; the app keeps it sealed under the device
 * key): every API request carries it, so the session cookie alone, copied out of the browser, opens nothing. */
export function setRequestKey(key) {
  requestKey = key;
}

/** ``headers`` with the device's key added, when the session has one. */
function withKey(headers = {}) {
  return requestKey ? { ...headers, "X-Doorstep-Key": requestKey } : headers;
}

/** ``fn(problemName)`` runs when the server says the device is revoked or the session is gone. */
export function onAuthProblem(fn) {
  listeners.add(fn);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem || {};
    this.type = (problem?.type || "").split("/").pop() || null;
    /** The server's ``Upload-Offset`` on an upload's refusal, else null. */
    this.offset = null;
  }
}

const clockListeners = new Set();

/** ``fn(minutes)`` hears how far this device's clock is from the server's (positive: the device is ahead). */
export function onClockSkew(fn) {
  clockListeners.add(fn);
}

function checkClock(response) {
  const date = response.headers.get("Date");
  if (!date) return;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return;
  measured(Date.now() - server);
  const minutes = Math.round((Date.now() - server) / 60000);
  for (const fn of clockListeners) fn(minutes);
}

/** A network failure (no answer at all), as opposed to an answer with an error. */
export class Offline extends Error {
  constructor(message) {
    super(message);
    this.name = "Offline";
  }
}

/** The answer's JSON, or null: a proxy's HTML error page (a 502, say) is not JSON and must not become a
 * SyntaxError; its status alone makes the ApiError. */
async function body_of(response) {
  const type = response.headers.get("Content-Type") || "";
  const text = await response.text();
  if (!text || !/[/+]json\b/.test(type)) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken || "";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: withKey(headers),
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Offline("no connection");
  }
  checkClock(response);
  const data = await body_of(response);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401) for (const fn of listeners) fn(error.type || "unauthenticated");
    throw error;
  }
  return data;
}

/** POST a file's text (a CSV) as ``type``: the answer as JSON, or an ApiError (its ``problem.rows`` name the
 * wrong rows of a file). */
export async function postText(path, text, type) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: withKey({ "Content-Type": type, "X-CSRF-Token": csrfToken || "" }),
      credentials: "same-origin",
      body: text,
    });
  } catch {
    throw new Offline("no connection");
  }
  checkClock(response);
  const data = await body_of(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** An answer that is not ok, as an ApiError (with the server's ``Upload-Offset`` when it sent one). */
async function failed(response) {
  const error = new ApiError(response.status, await body_of(response));
  error.offset = response.headers.get("Upload-Offset");
  if (response.status === 401) for (const fn of listeners) fn(error.type || "unauthenticated");
  return error;
}

/** One chunk of an attachment upload: ``bytes`` at ``offset`` (docs/sync-protocol.md "Attachments"). */
export async function sendChunk(path, offset, bytes) {
  let response;
  try {
    response = await fetch(path, {
      method: "PATCH",
      headers: withKey({ "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset), "X-CSRF-Token": csrfToken || "" }),
      credentials: "same-origin",
      body: bytes,
    });
  } catch {
    throw new Offline("no connection");
  }
  if (!response.ok) throw await failed(response);
  return response.json();
}

/** A file's bytes, with ``progress(received, total)`` as they arrive.
 * @param {string} path @param {(received: number, total: number) => void} [progress] */
export async function fetchBytes(path, progress = () => {}) {
  let response;
  try {
    response = await fetch(path, { headers: withKey(), credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new Offline("no connection");
  }
  if (!response.ok) throw await failed(response);
  const total = Number(response.headers.get("Content-Length")) || 0;
  const reader = response.body.getReader();
  const parts = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.length;
      progress(received, total);
    }
  } catch {
    throw new Offline("connection lost");
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** An API answer as text (a chart's SVG), or null when the server has none to give. */
export async function fetchText(path) {
  const response = await fetch(path, { headers: withKey(), credentials: "same-origin" });
  return response.ok ? response.text() : null;
}

/** Save an API download (a CSV) as a file: fetched with the device's key, handed to the browser as a Blob. */
export async function saveFile(path, fallbackName) {
  let response;
  try {
    response = await fetch(path, { headers: withKey(), credentials: "same-origin" });
  } catch {
    throw new Offline("no connection");
  }
  if (!response.ok) throw await failed(response);
  const named = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = named ? named[1] : fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
