// The server's HTTP API: JSON in and out, the CSRF header on every change, problems (RFC 9457) as ApiError.

let csrfToken = null;
const listeners = new Set();

export function setCsrf(token) {
  csrfToken = token;
}

/** ``fn(problemName)`` runs when the server says the device is revoked or the session is gone. */
export function onAuthProblem(fn) {
  listeners.add(fn);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.type = (problem?.type || "").split("/").pop() || null;
  }
}

/** A network failure (no answer at all), as opposed to an answer with an error. */
export class Offline extends Error {}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken || "";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Offline("no connection");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401) for (const fn of listeners) fn(error.type || "unauthenticated");
    throw error;
  }
  return data;
}
