// The gate of the app on the tablet: login, device set-up, unlock, the PIN and the idle lock, logout and the remote
// wipe. The data key exists only in this page's memory. A cold start asks for the device passphrase; the idle lock
// asks for a short PIN while the key is still here; five wrong PINs drop the key (docs/security.md part 4).
import { api, Offline, setCsrf, setRequestKey } from "./api.js";
import { createVault, openJSON, openVault, sealJSON } from "./crypto.js";
import * as data from "./data.js";
import { flushDrafts } from "./drafts.js";
import { t } from "./i18n.js";
import * as outbox from "./outbox.js";
import * as store from "./storage.js";
import * as sync from "./sync.js";
import { fill, h } from "./ui.js";
import { $, app, endSession, hooks, keepRequestKey, loadRequestKey, whoAmI } from "./session.js";

const MAX_PIN_TRIES = 5;
const PIN_ITERATIONS = 100_000;

let currentGate = null; // re-renders the login/setup/unlock form after a language switch

/** The language changed while a gate form is on show: draw it again in the new words. */
export function redrawGate() {
  if (currentGate) currentGate();
}

/** The running app took over from the gate. */
export function leaveGate() {
  currentGate = null;
}

function gate(render) {
  currentGate = render;
  $("nav").hidden = true;
  $("lock-button").hidden = true;
  $("logout-button").hidden = true;
  $("notice").hidden = true;
  render();
}

function field(id, label, attrs = {}) {
  return [h("label", { for: id }, label), h("input", { id, name: id, ...attrs })];
}

export function showLogin(message) {
  gate(() => {
    const error = h("p", { id: "login-error", class: "error", role: "alert", hidden: true });
    const form = h(
      "form",
      { id: "login-form", autocomplete: "on", onsubmit: (event) => submitLogin(event, error) },
      field("username", t("login.username"), { autocomplete: "username", required: true }),
      field("password", t("login.password"), { type: "password", autocomplete: "current-password", required: true }),
      h("button", { type: "submit", id: "login-button" }, t("login.submit")),
      error,
    );
    fill(
      $("main"),
      h(
        "section",
        { class: "card narrow", "aria-labelledby": "login-title" },
        h("h2", { id: "login-title" }, t("login.title")),
        message ? h("p", { class: "hint" }, message) : null,
        form,
      ),
    );
  });
}

async function submitLogin(event, error) {
  event.preventDefault();
  error.hidden = true;
  const body = {
    username: $("username").value,
    password: $("password").value,
    device_name: navigator.userAgent.includes("Mobile") ? "Tablet" : "Browser",
    device_id: app.deviceId(),
    bound: true, // the session opens nothing without the key this device keeps sealed (docs/security.md case 58)
  };
  let me;
  try {
    me = await api("POST", "/api/auth/login", body);
  } catch (e) {
    const messages = { 401: t("login.wrong"), 429: t("login.throttled") };
    error.textContent = e instanceof Offline ? t("login.offline") : messages[e.status] || t("login.failed");
    error.hidden = false;
    return;
  }
  app.me = me;
  setCsrf(me.csrf_token);
  setRequestKey(me.request_key);
  app.pendingRequestKey = me.request_key;
  // The cookie of an earlier session that could not be ended is replaced now: a logout still pending would end this
  // new session instead (the old one expires by itself, and a bound one is useless without its key).
  localStorage.removeItem("doorstep.logout_pending");
  localStorage.setItem("doorstep.device_id", me.device_id);
  if (app.owner && app.owner.id !== me.user.id) {
    const counts = await outbox.outboxCounts();
    if (counts.total) {
      error.textContent = t("login.other_user_pending", { name: app.owner.display_name, n: counts.total });
      error.hidden = false;
      await api("POST", "/api/auth/logout").catch(() => {});
      return;
    }
    await store.wipe(); // nothing unsynced: the previous user's copy goes, the new user pulls their own
    app.owner = null;
    app.key = null;
  }
  if (app.key) {
    // A re-login to sync: the data is already unlocked.
    await keepRequestKey();
    $("notice").hidden = true;
    return hooks.startApp();
  }
  if (await store.getMeta("vault")) return showUnlock();
  return showSetup(me);
}

export function showSetup(me) {
  gate(() => {
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const submit = async (event) => {
      event.preventDefault();
      const passphrase = $("passphrase").value;
      const pin = $("pin").value;
      error.hidden = false;
      if (passphrase.length < 10) return (error.textContent = t("setup.short"));
      if (passphrase !== $("passphrase2").value) return (error.textContent = t("setup.mismatch"));
      if (!/^[0-9]{4,8}$/.test(pin)) return (error.textContent = t("setup.pin_rule"));
      error.hidden = true;
      $("setup-button").disabled = true;
      const { vault, key } = await createVault(passphrase);
      await store.setMeta("vault", vault);
      const owner = { id: me.user.id, username: me.user.username, display_name: me.user.display_name, role: me.user.role, team_id: me.user.team_id };
      await store.setMeta("owner", owner);
      app.owner = owner;
      app.key = key;
      await keepRequestKey();
      await setPin(pin);
      await requestPersistence();
      await hooks.startApp();
    };
    fill(
      $("main"),
      h(
        "section",
        { class: "card narrow", "aria-labelledby": "setup-title" },
        h("h2", { id: "setup-title" }, t("setup.title")),
        h("p", {}, t("setup.explain", { name: me.user.display_name })),
        h(
          "form",
          { onsubmit: submit },
          field("passphrase", t("setup.passphrase"), { type: "password", autocomplete: "new-password", required: true }),
          field("passphrase2", t("setup.passphrase2"), { type: "password", autocomplete: "new-password", required: true }),
          field("pin", t("setup.pin"), { type: "password", inputmode: "numeric", autocomplete: "off", required: true }),
          h("button", { type: "submit", id: "setup-button" }, t("setup.submit")),
          error,
        ),
      ),
    );
  });
}

export function showUnlock(message) {
  gate(() => {
    const error = h("p", { class: "error", role: "alert", hidden: !message }, message || "");
    const submit = async (event) => {
      event.preventDefault();
      const button = $("unlock-button");
      button.disabled = true;
      error.hidden = true;
      try {
        app.key = await openVault($("passphrase").value, await store.getMeta("vault"));
      } catch {
        button.disabled = false;
        error.textContent = t("unlock.wrong");
        error.hidden = false;
        return;
      }
      await loadRequestKey();
      const sealed = await store.getMeta("pin");
      app.pin = sealed ? await openJSON(app.key, sealed, "pin") : null;
      app.pinTries = 0;
      await hooks.startApp();
      if (!app.pin) showPinSetup();
    };
    fill(
      $("main"),
      h(
        "section",
        { class: "card narrow", "aria-labelledby": "unlock-title" },
        h("h2", { id: "unlock-title" }, t("unlock.title")),
        h("p", {}, t("unlock.explain", { name: app.owner.display_name })),
        h(
          "form",
          { onsubmit: submit },
          field("passphrase", t("setup.passphrase"), { type: "password", autocomplete: "current-password", required: true }),
          h("button", { type: "submit", id: "unlock-button" }, t("unlock.submit")),
          error,
        ),
        h(
          "details",
          { class: "reset-device" },
          h("summary", {}, t("reset.forgot")),
          h("p", {}, t("reset.explain")),
          h("button", { type: "button", class: "danger", id: "reset-device", onclick: resetDevice }, t("reset.button")),
        ),
      ),
    );
  });
}

/** The passphrase is forgotten: nothing on this device can be decrypted any more. Say how much unsent work is lost
 * with it, and on confirmation delete the local data and start again with a login. */
async function resetDevice() {
  const unsent = (await outbox.outboxCounts()).total;
  const question = unsent ? t("reset.confirm_unsent", { n: unsent }) : t("reset.confirm");
  if (!window.confirm(question)) return;
  tabs.post("wipe");
  // The server session of this device ends too: at once when there is a network, else at the next start with one.
  const ended = navigator.onLine && (await whoAmI()) && (await api("POST", "/api/auth/logout").then(() => true, () => false));
  app.me = app.owner = app.key = app.pin = null;
  setRequestKey(null);
  data.setKey(null);
  await store.wipe();
  localStorage.clear();
  if (!ended) localStorage.setItem("doorstep.logout_pending", "1");
  showLogin(unsent ? t("reset.done_lost", { n: unsent }) : t("reset.done"));
}

async function pinHash(pin, salt) {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: PIN_ITERATIONS }, material, 256);
  return Array.from(new Uint8Array(bits), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The PIN's verifier is kept sealed under the data key: it can only be checked while the key is in memory. */
async function setPin(pin) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  app.pin = { salt: Array.from(salt), hash: await pinHash(pin, salt) };
  await store.setMeta("pin", await sealJSON(app.key, app.pin, "pin"));
}

function showPinSetup() {
  const input = h("input", { id: "new-pin", type: "password", inputmode: "numeric", autocomplete: "off" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const box = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!/^[0-9]{4,8}$/.test(input.value)) {
          error.textContent = t("setup.pin_rule");
          error.hidden = false;
          return;
        }
        await setPin(input.value);
        $("lock-screen").hidden = true;
      },
    },
    h("h2", {}, t("pin.new_title")),
    h("label", { for: "new-pin" }, t("setup.pin")),
    input,
    h("button", { type: "submit" }, t("pin.save")),
    error,
  );
  fill($("lock-screen"), box);
  $("lock-screen").hidden = false;
}

let idleTimer = null;

const idleMinutes = () => Number(localStorage.getItem("doorstep.idle_minutes")) || 5;

export function touchIdle() {
  clearTimeout(idleTimer);
  if (app.key && !app.locked) idleTimer = setTimeout(() => lock(), idleMinutes() * 60_000);
}

for (const name of ["pointerdown", "keydown", "touchstart", "wheel"]) {
  document.addEventListener(name, touchIdle, { passive: true, capture: true });
}

export function lock({ fromOtherTab = false, pressed = false } = {}) {
  if (!app.key || app.locked) return;
  app.locked = true;
  hooks.cancelRoute(); // a screen still being built is not drawn
  if (!fromOtherTab) tabs.post("lock");
  clearTimeout(idleTimer);
  flushDrafts(); // reads the fields at once, then writes them encrypted: nothing typed is lost to the lock
  fill($("main"));
  $("nav").hidden = true;
  const input = h("input", { id: "lock-pin", type: "password", inputmode: "numeric", autocomplete: "off", required: true });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const submit = async (event) => {
    event.preventDefault();
    const pin = app.pin;
    if (pin && (await pinHash(input.value, new Uint8Array(pin.salt))) === pin.hash) {
      app.locked = false;
      app.pinTries = 0;
      $("lock-screen").hidden = true;
      $("nav").hidden = false;
      touchIdle();
      hooks.route();
      return;
    }
    app.pinTries += 1;
    input.value = "";
    if (app.pinTries >= MAX_PIN_TRIES || !pin) {
      // The PIN is forgotten with the key: after the passphrase a new PIN must be chosen, the old one never works again.
      await store.setMeta("pin", null);
      return dropKey(t("lock.too_many"));
    }
    error.textContent = t("lock.wrong", { n: MAX_PIN_TRIES - app.pinTries });
    error.hidden = false;
  };
  fill(
    $("lock-screen"),
    h(
      "form",
      { class: "card narrow", onsubmit: submit, "aria-labelledby": "lock-title" },
      h("h2", { id: "lock-title" }, t("lock.title")),
      h("p", {}, t(pressed ? "lock.explain_pressed" : "lock.explain")),
      h("label", { for: "lock-pin" }, t("lock.pin")),
      input,
      h("button", { type: "submit", id: "lock-submit" }, t("lock.submit")),
      error,
    ),
  );
  $("lock-screen").hidden = false;
  input.focus();
}

/** Forget the key (and the PIN): only the passphrase opens the data again. */
function dropKey(message) {
  app.key = null;
  app.pin = null;
  app.locked = false;
  app.pinTries = 0;
  data.setKey(null);
  fill($("lock-screen"));
  $("lock-screen").hidden = true;
  showUnlock(message);
}

export function needLogin() {
  app.me = null;
  if (!app.key) return;
  const button = h("button", { type: "button", onclick: () => showLogin(t("login.again_explain")) }, t("login.again"));
  fill($("notice"), h("span", {}, t("login.needed")), button);
  $("notice").hidden = false;
}

// Lock, logout and wipe reach every open tab of the app: a second tab must not keep showing a case after the
// worker locked or logged out in the first.
const tabs = (() => {
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("doorstep-session") : null;
  if (channel) {
    channel.onmessage = (event) => {
      if (event.data === "lock") lock({ fromOtherTab: true });
      else if (event.data === "logout" || event.data === "wipe") window.location.reload();
    };
  }
  return { post: (message) => channel && channel.postMessage(message) };
})();

export async function logout() {
  const counts = await outbox.outboxCounts();
  if (counts.total && app.key) {
    const result = await sync.syncNow();
    const left = await outbox.outboxCounts();
    if (left.total) {
      // Unsynced work is never discarded: it stays encrypted on this device for the next login.
      const why = result.status === "ok" ? t("logout.rejected_left", { n: left.total }) : t("logout.cannot_sync", { n: left.total });
      if (!window.confirm(`${why}\n\n${t("logout.keep_confirm")}`)) return;
      await endSession();
      app.me = null;
      tabs.post("logout");
      return dropKey(t("logout.kept"));
    }
  }
  await endSession();
  tabs.post("logout");
  // Everything is on the server: nothing case-related stays on a tablet nobody is logged in to.
  await store.wipe();
  app.me = app.owner = app.key = app.pin = null;
  data.setKey(null);
  fill($("notice"));
  $("notice").hidden = true;
  showLogin();
}

let wiping = null;

/** Whether the device is being wiped (the service worker's takeover then does not reload the page). */
export const isWiping = () => Boolean(wiping);

export function remoteWipe() {
  wiping = wiping || wipeDevice();
  return wiping;
}

async function wipeDevice() {
  tabs.post("wipe");
  // What could not be sent is lost with the wipe (it cannot be decrypted elsewhere): the worker is told how much,
  // from the count kept before (the server's answer has the browser clear the storage at once).
  const lost = app.unsent || 0;
  if (lost) console.warn(`doorstep: device revoked; ${lost} unsent change(s) are deleted with its data`);
  app.me = app.owner = app.key = app.pin = app.pendingRequestKey = null;
  setRequestKey(null);
  data.setKey(null);
  await store.wipe().catch(() => {}); // the browser may have deleted the database already
  localStorage.clear();
  $("lock-screen").hidden = true;
  gate(() =>
    fill(
      $("main"),
      h(
        "section",
        { class: "card narrow", "aria-labelledby": "wiped-title" },
        h("h2", { id: "wiped-title" }, t("wiped.title")),
        h("p", {}, t("wiped.explain")),
        lost ? h("p", { class: "error", role: "alert" }, t("wiped.lost", { n: lost })) : null,
        h("button", { type: "button", onclick: () => showLogin() }, t("wiped.login")),
      ),
    ),
  );
}

async function requestPersistence() {
  try {
    if (navigator.storage?.persist) localStorage.setItem("doorstep.persisted", String(await navigator.storage.persist()));
  } catch {
    // unsupported: the status screen says so
  }
}
