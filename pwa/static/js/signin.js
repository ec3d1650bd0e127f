// What the pages outside the tablet app share (/meldungen for property management, /verwaltung for the
// administrators): calls to the API with the session's CSRF token, the sign-in form, and the start that shows
// either the page or the form. Nothing is kept on the device but the device's id.
import { h } from "./ui.js";

/** @typedef {{ csrf_token: string, device_id: string, user: { role: string, display_name: string } }} Session */

let csrf = "";

const main = () => /** @type {HTMLElement} */ (document.getElementById("main"));
const logout = () => /** @type {HTMLButtonElement} */ (document.getElementById("logout-button"));

/**
 * One call to the API; a refusal throws an error carrying the status and the problem body.
 * @param {string} method @param {string} path @param {unknown} [body] @param {string} [type]
 */
export async function call(method, path, body, type = "application/json") {
  /** @type {Record<string, string>} */
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = type;
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  const payload = body === undefined ? undefined : type === "application/json" ? JSON.stringify(body) : /** @type {string} */ (body);
  const response = await fetch(path, { method, headers, credentials: "same-origin", body: payload });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(data?.detail || "Fehler"), { status: response.status, data });
  return data;
}

/** The session's CSRF token, for a request this module does not make (a file's bytes). */
export const csrfToken = () => csrf;

/**
 * @typedef {object} Page
 * @property {string} role who the page is for
 * @property {string} refusal what anyone else is told
 * @property {string} lead the line under "Anmelden"
 * @property {string} formId the sign-in form's id
 * @property {string} deviceKey where the device's id is kept
 * @property {string} deviceName the device's name for the session list
 * @property {(session: Session) => Promise<void>} show the page, once signed in
 */

/** @param {Page} page @param {string} [message] */
function signIn(page, message = "") {
  const error = h("p", { class: "error", role: "alert", hidden: !message }, message);
  const submit = async (/** @type {Event} */ event) => {
    event.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (event.target));
    try {
      const session = await call("POST", "/api/auth/login", {
        username: String(data.get("username") || ""),
        password: String(data.get("password") || ""),
        device_name: page.deviceName,
        device_id: localStorage.getItem(page.deviceKey),
      });
      localStorage.setItem(page.deviceKey, session.device_id);
      await begin(page, session);
    } catch (failure) {
      error.textContent = /** @type {{ status?: number }} */ (failure).status === 401 ? "Benutzername oder Passwort stimmt nicht." : "Die Anmeldung ist nicht gelungen. Bitte später noch einmal.";
      error.hidden = false;
    }
  };
  main().replaceChildren(
    h(
      "form",
      { class: "card", id: page.formId, onsubmit: submit },
      h("h2", {}, "Anmelden"),
      h("p", { class: "lead" }, page.lead),
      h("label", { for: "username" }, "Benutzername"),
      h("input", { id: "username", name: "username", autocomplete: "username", required: true }),
      h("label", { for: "password" }, "Passwort"),
      h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
      error,
      h("button", { type: "submit" }, "Anmelden"),
    ),
  );
}

/** @param {Page} page @param {Session} session */
async function begin(page, session) {
  csrf = session.csrf_token;
  if (session.user.role !== page.role) {
    await call("POST", "/api/auth/logout").catch(() => null);
    return signIn(page, page.refusal);
  }
  logout().hidden = false;
  await page.show(session);
}

/** Show the page to a signed-in user of its role, else the sign-in form. @param {Page} page */
export async function start(page) {
  logout().addEventListener("click", async () => {
    await call("POST", "/api/auth/logout").catch(() => null);
    logout().hidden = true;
    csrf = "";
    signIn(page);
  });
  try {
    await begin(page, await call("GET", "/api/me"));
  } catch {
    signIn(page);
  }
}
