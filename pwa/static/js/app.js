// Doorstep on the tablet: start-up, login, device unlock, idle lock, navigation, logout and remote wipe.
//
// The data key exists only in this page's memory. A cold start asks for the device passphrase; the idle lock
// asks for a short PIN while the key is still here; five wrong PINs drop the key (docs/security.md part 4).
import * as enquiries from "./enquiries.js";
import { api, ApiError, Offline, onAuthProblem, onClockSkew, setCsrf, setRequestKey } from "./api.js";
import { createVault, openJSON, openVault, sealJSON } from "./crypto.js";
import * as data from "./data.js";
import { flushDrafts, leaveScreen } from "./drafts.js";
import * as legal from "./legal.js";
import { applyLanguage, lang, setLang, t } from "./i18n.js";
import * as store from "./storage.js";
import * as push from "./push.js";
import * as sync from "./sync.js";
import { clockDifference, errorMessage, fill, h, localDay, toast, today } from "./ui.js";
import * as disclosureScreen from "./screens/disclosure.js";
import * as caseScreen from "./screens/case.js";
import * as casesScreen from "./screens/cases.js";
import * as intakeScreen from "./screens/intake.js";
import * as conflictsScreen from "./screens/conflicts.js";
import * as assessmentScreen from "./screens/assessment.js";
import * as officeScreen from "./screens/office.js";
import * as reportsScreen from "./screens/reports.js";
import * as statusScreen from "./screens/status.js";
import * as todayScreen from "./screens/today.js";
import * as visitScreen from "./screens/visit.js";
import * as workScreen from "./screens/work.js";
import * as documentsScreen from "./screens/documents.js";
import * as files from "./files.js";
import * as letterScreen from "./screens/letter.js";

const $ = (id) => document.getElementById(id);
const MAX_PIN_TRIES = 5;
const PIN_ITERATIONS = 100_000;

const app = {
  me: null, // the server's answer to /api/me while a session exists
  pendingRequestKey: null, // the session's key from a login, until the data is unlocked to seal it
  owner: null, // the user this device's data belongs to
  key: null, // the data key (non-extractable CryptoKey), memory only
  pin: null, // {salt, hash} of the lock PIN, memory only while unlocked
  pinTries: 0,
  locked: false,
  unsent: 0, // changes in the outbox, as last counted
  users: new Map(), // user id -> display name
  activeUsers: null, // ids of the team members who may be assigned work (null: not known yet)
  supervisors: new Set(), // ids of the team's supervisors: a visit one of them planned is theirs to move
  deviceId: () => localStorage.getItem("doorstep.device_id"),
  isSupervisor: () => app.owner?.role === "supervisor",
  // The management (Leitung) reads the organisation's figures; no case reaches its device, so it never syncs.
  isManager: () => app.owner?.role === "manager",
  navigate: (hash) => {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  userName: (id) => (id ? app.users.get(id) || t("user.unknown") : t("user.nobody")),
  refresh: () => route(),
};

// --- start ---------------------------------------------------------------------------------------------------

async function boot() {
  applyLanguage();
  wireChrome();
  registerServiceWorker().catch(() => {}); // offline: the installed worker keeps serving the shell
  onAuthProblem((type) => (type === "device-revoked" ? remoteWipe() : needLogin()));
  onClockSkew(showClockSkew);
  sync.configure({ key: () => (app.locked || app.isManager() ? null : app.key), deviceId: app.deviceId, ready: ensureSession });
  sync.subscribe(onSyncEvent);
  data.onChange(() => {
    updateBadges();
    if (navigator.onLine) scheduleSync();
    else sync.requestBackgroundSync();
  });
  window.addEventListener("online", () => {
    showNetState();
    sync.syncNow();
  });
  window.addEventListener("offline", showNetState);
  window.addEventListener("hashchange", route);
  showNetState();

  const vault = await store.getMeta("vault");
  app.owner = await store.getMeta("owner");
  if (vault && app.owner) {
    // A revoked device is wiped at start when the server can say so, before anyone types a passphrase.
    app.unsent = (await store.outboxCounts()).total;
    if (navigator.onLine && (await revokedNow())) return;
    return showUnlock();
  }
  const me = await whoAmI();
  if (me && localStorage.getItem("doorstep.logout_pending")) {
    // A reset (or a logout) made offline could not end the server session: end it now, and ask for a login.
    await api("POST", "/api/auth/logout").catch(() => {});
    localStorage.removeItem("doorstep.logout_pending");
    return showLogin();
  }
  if (me) return showSetup(me);
  return showLogin();
}

async function revokedNow() {
  try {
    await whoAmI({ raise: true });
    return false;
  } catch (error) {
    return error instanceof ApiError && error.type === "device-revoked";
  }
}

async function whoAmI({ raise = false } = {}) {
  try {
    const me = await api("GET", "/api/me");
    app.me = me;
    setCsrf(me.csrf_token);
    localStorage.setItem("doorstep.device_id", me.device_id);
    return me;
  } catch (error) {
    if (raise) throw error;
    return null;
  }
}

/** A session of this device's owner, with its CSRF token; false (and a login prompt) when there is none. */
async function ensureSession() {
  if (!app.me) await whoAmI();
  if (app.me && localStorage.getItem("doorstep.logout_pending")) {
    // A logout made offline could not end the server session: end it now, and ask for a login.
    await api("POST", "/api/auth/logout").catch(() => {});
    localStorage.removeItem("doorstep.logout_pending");
    app.me = null;
  }
  if (app.me && app.owner && app.me.user.id === app.owner.id) return true;
  needLogin();
  return false;
}

function wireChrome() {
  $("lang-button").addEventListener("click", () => {
    setLang(lang() === "de" ? "en" : "de");
    applyLanguage();
    renderNav();
    if (app.key && !app.locked) route();
    else if (currentGate) currentGate();
  });
  $("lock-button").addEventListener("click", () => lock({ pressed: true }));
  $("logout-button").addEventListener("click", () => logout());
}

function showNetState() {
  // Online is the usual state: a green dot (named for screen readers) keeps the top bar to one row; offline is said
  // in words.
  if (navigator.onLine) fill($("net-state"), h("span", { class: "dot", "aria-hidden": "true" }), h("span", { class: "visually-hidden" }, t("net.online")));
  else $("net-state").textContent = t("net.offline");
  $("net-state").className = navigator.onLine ? "net net-on" : "net net-off";
  $("net-state").title = navigator.onLine ? t("net.online") : t("net.offline");
}

// --- login, device set-up and unlock ------------------------------------------------------------------------

let currentGate = null; // re-renders the login/setup/unlock form after a language switch

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

function showLogin(message) {
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
    const counts = await store.outboxCounts();
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
    return startApp();
  }
  if (await store.getMeta("vault")) return showUnlock();
  return showSetup(me);
}

function showSetup(me) {
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
      await startApp();
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

function showUnlock(message) {
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
      await startApp();
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
  const unsent = (await store.outboxCounts()).total;
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

// --- the PIN and the idle lock -------------------------------------------------------------------------------

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

function touchIdle() {
  clearTimeout(idleTimer);
  if (app.key && !app.locked) idleTimer = setTimeout(() => lock(), idleMinutes() * 60_000);
}

// The tablet put away, the app switched, the tab closed: what is typed is written before the page may be killed.
document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && flushDrafts());
window.addEventListener("pagehide", () => flushDrafts());

for (const name of ["pointerdown", "keydown", "touchstart", "wheel"]) {
  document.addEventListener(name, touchIdle, { passive: true, capture: true });
}

function lock({ fromOtherTab = false, pressed = false } = {}) {
  if (!app.key || app.locked) return;
  app.locked = true;
  routing += 1; // a screen still being built is not drawn
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
      route();
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

// --- the running app -----------------------------------------------------------------------------------------

async function startApp() {
  currentGate = null;
  checkStorage().catch(() => {});
  data.setKey(app.key);
  app.users = new Map([[app.owner.id, app.owner.display_name]]);
  app.supervisors = new Set();
  const cachedUsers = await store.getMeta("users");
  if (cachedUsers) {
    for (const [id, name, role] of await openJSON(app.key, cachedUsers, "users")) {
      app.users.set(id, name);
      if (role === "supervisor") app.supervisors.add(id);
    }
  }
  $("lock-button").hidden = false;
  $("logout-button").hidden = false;
  renderNav();
  touchIdle();
  await legal.load().catch((error) => console.error("doorstep: deadline rules not loaded", error));
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    const home = app.isManager() ? "#/berichte" : app.isSupervisor() ? "#/team" : "#/heute";
    history.replaceState(null, "", home); // no hashchange: one render
  }
  await route();
  // Deadlines and overdue decisions, offline too; after the first screen is up, so that it does not wait for them.
  setTimeout(() => app.key && data.followUps().catch((error) => console.error(error)), 1500);
  if (navigator.onLine && (await ensureSession())) {
    if (!app.isManager()) loadUsers();
    legal.refreshCalendar(api);
    sync.syncNow();
    push.refresh();
  }
}

/** The team's names (and, for assigning, who is still active), kept encrypted for offline use. */
async function loadUsers() {
  try {
    const users = await api("GET", "/api/users");
    for (const user of users) app.users.set(user.id, user.display_name);
    app.activeUsers = new Set(users.filter((user) => user.active !== false).map((user) => user.id));
    app.supervisors = new Set(users.filter((user) => user.role === "supervisor").map((user) => user.id));
    const roles = new Map(users.map((user) => [user.id, user.role]));
    const kept = [...app.users].map(([id, name]) => [id, name, roles.get(id) || null]);
    await store.setMeta("users", await sealJSON(app.key, kept, "users"));
  } catch {
    // offline or not allowed: the names stored last time stay
  }
}

function needLogin() {
  app.me = null;
  if (!app.key) return;
  const button = h("button", { type: "button", onclick: () => showLogin(t("login.again_explain")) }, t("login.again"));
  fill($("notice"), h("span", {}, t("login.needed")), button);
  $("notice").hidden = false;
}

const screens = [
  [/^#\/heute$/, todayScreen.render],
  [/^#\/faelle$/, casesScreen.render],
  [/^#\/neu$/, intakeScreen.renderNew],
  [/^#\/fall\/([^/]+)\/bearbeiten$/, intakeScreen.renderEdit],
  [/^#\/fall\/([^/]+)\/auskunft$/, disclosureScreen.render],
  [/^#\/fall\/([^/]+)$/, caseScreen.render],
  [/^#\/fall\/([^/]+)\/brief\/([a-z0-9_]+)$/, letterScreen.render],
  [/^#\/fall\/([^/]+)\/unterschrift\/([a-z_]+)\/([^/]+)$/, documentsScreen.renderSignature],
  [/^#\/dokument\/([^/]+)$/, documentsScreen.renderViewer],
  [/^#\/fall\/([^/]+)\/([a-z_]+)\/([^/]+)$/, workScreen.render],
  [/^#\/besuch\/neu\/([^/]+)$/, visitScreen.renderNew],
  [/^#\/besuch\/([^/]+)$/, visitScreen.render],
  [/^#\/einschaetzung\/([^/]+)(?:\/([a-z]+))?$/, assessmentScreen.render],
  [/^#\/konflikte$/, conflictsScreen.render],
  [/^#\/sync$/, statusScreen.render],
  [/^#\/team$/, officeScreen.render],
  [/^#\/berichte$/, reportsScreen.render],
];

let routing = 0;

async function route() {
  if (!app.key || app.locked) return;
  if (app.isManager() && !(location.hash || "").startsWith("#/berichte")) return app.navigate("#/berichte");
  const hash = location.hash || "#/heute";
  // What is typed on the screen going away is written as a draft first; the next screen (the same one redrawn
  // after a sync, or after unlocking) puts it back.
  await leaveScreen();
  const turn = ++routing;
  for (const [pattern, render] of screens) {
    const match = hash.match(pattern);
    if (!match) continue;
    let main = h("div", { class: "screen" });
    try {
      await render(main, match.slice(1), app);
    } catch (error) {
      // A screen abandoned half-built (logged out, locked, another screen asked for) fails on what was taken from
      // under it: nothing to show and nothing to report.
      if (turn !== routing || app.locked || !app.key) return;
      console.error("doorstep: screen failed", error);
      main = errorPanel(error);
    }
    // A later navigation won, or the app was locked while the screen was being built: draw nothing.
    if (turn !== routing || app.locked || !app.key) return;
    fill($("main"), main);
    markNav(hash);
    return;
  }
  app.navigate("#/heute");
}

/** Warn well before the browser's storage quota is reached, so that saving never meets a full device first. */
async function checkStorage() {
  if (!navigator.storage || !navigator.storage.estimate) return;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  const share = quota ? Math.round((usage / quota) * 100) : 0;
  const banner = $("storage-banner");
  banner.hidden = share < 80;
  if (!banner.hidden) banner.textContent = t("storage.low", { n: share });
}

/** More than five minutes between this tablet's clock and the server's: say so, since visits and contacts are
 * recorded with the tablet's time and the server refuses moments in the future. */
function showClockSkew(minutes) {
  const banner = $("clock-banner");
  if (Math.abs(minutes) <= 5) {
    banner.hidden = true;
    return;
  }
  banner.textContent = t(minutes > 0 ? "clock.ahead" : "clock.behind", { diff: clockDifference(minutes) });
  banner.hidden = false;
}

/** What a screen shows when it could not be built: what happened in plain words, and a way to try again. */
function errorPanel(error) {
  return h(
    "div",
    { class: "screen" },
    h("h2", {}, t("error.screen_title")),
    h("p", { class: "error", role: "alert" }, errorMessage(error)),
    h("button", { type: "button", onclick: () => route() }, t("error.retry")),
  );
}

function renderNav() {
  const links = app.isManager()
    ? [["#/berichte", t("nav.reports")]]
    : [
        ["#/heute", t("nav.today")],
        ["#/faelle", t("nav.cases")],
        ...(app.isSupervisor() ? [["#/team", t("nav.team")], ["#/berichte", t("nav.reports")]] : []),
        ["#/konflikte", t("nav.conflicts"), "badge-conflicts"],
        ["#/sync", t("nav.sync"), "badge-sync"],
      ];
  fill(
    $("nav"),
    links.map(([href, label, badge]) =>
      h("a", { href, class: "navlink" }, label, badge ? h("span", { id: badge, class: "badge", hidden: true }) : null),
    ),
  );
  $("nav").hidden = false;
  updateBadges();
}

function markNav(hash) {
  for (const link of $("nav").querySelectorAll("a")) {
    if (hash.startsWith(link.getAttribute("href"))) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function updateBadges() {
  if (!app.key) return;
  const counts = await store.outboxCounts();
  app.unsent = counts.total; // known ahead of a revocation, whose answer clears the storage before it is read
  const conflicts = (await data.kinds("conflict")).conflict.filter((c) => c.fields.status === "open").length;
  const set = (id, n, label) => {
    const badge = $(id);
    if (!badge) return;
    badge.textContent = String(n);
    badge.hidden = n === 0;
    badge.setAttribute("aria-label", label);
  };
  set("badge-sync", counts.own, t("badge.waiting", { n: counts.own })); // derived follow-ups are not the worker's
  set("badge-conflicts", conflicts, t("badge.conflicts", { n: conflicts }));
}

// --- sync feedback -------------------------------------------------------------------------------------------

let syncSoon = null;

function scheduleSync() {
  clearTimeout(syncSoon);
  syncSoon = setTimeout(() => sync.syncNow(), 1500);
}

function onSyncEvent(event) {
  const bar = $("sync-bar");
  if (event.type === "progress") {
    bar.hidden = false;
    const label = { push: "sync.sending", upload: "sync.uploading" }[event.phase] || "sync.receiving";
    const size = (bytes) => `${(bytes / 1048576).toLocaleString(lang() === "en" ? "en-GB" : "de-DE", { maximumFractionDigits: 1 })} MB`;
    const [done, total] = event.phase === "upload" ? [size(event.done), size(event.total)] : [event.done, event.total];
    $("sync-text").textContent = t(label, { done, total });
    $("sync-progress").max = Math.max(event.total, 1);
    $("sync-progress").value = event.done;
  } else if (event.type === "state" && event.running) {
    bar.hidden = false;
    $("sync-text").textContent = t("sync.running");
    $("sync-progress").removeAttribute("value");
  } else if (event.type === "state") {
    bar.hidden = true;
    const result = event.result || {};
    if (result.status === "error" && result.error.code === "offline") toast(t("sync.failed_offline"));
    else if (result.status === "error" && result.error.code !== "unauthenticated" && result.error.code !== "device-revoked") {
      toast(t("sync.failed", { detail: result.error.detail || result.error.code }), { error: true });
    }
    updateBadges();
    checkStorage().catch(() => {});
    if (result.status === "ok" && app.key && !app.locked) {
      data.followUps().catch((error) => console.error(error));
      prefetchToday().catch((error) => console.error("doorstep: documents not fetched ahead", error));
      enquiries.send(app.key).catch((error) => console.error("doorstep: enquiries not sent yet", error));
      if (!editing()) route();
    }
  } else if (event.type === "upgrade") {
    navigator.serviceWorker?.getRegistration().then((registration) => registration?.update());
    toast(t("sync.upgrade"));
  }
}

/** Whether the user is typing in a form: a finished sync then refreshes badges, not the screen. */
/** The documents of cases with a visit today, fetched ahead so that they open at the door without a network. */
async function prefetchToday() {
  const { visit, attachment } = await data.kinds("visit", "attachment");
  const day = today();
  const cases = new Set(visit.filter((v) => !v.deleted && v.fields.status === "planned" && localDay(new Date(v.fields.planned_at)) === day).map((v) => v.case_id));
  const wanted = attachment.filter((a) => !a.deleted && cases.has(a.case_id));
  if (wanted.length) await files.prefetch(app.key, wanted);
}

function editing() {
  const active = document.activeElement;
  // A screen holding work not saved yet (a signature being drawn, photos chosen) says so with data-unsaved.
  if ($("main").querySelector("[data-unsaved=true]")) return true;
  // A dialog open over the screen (the date field's calendar): redrawing under it would take the field it
  // belongs to, and the focus it returns to on closing, away.
  if (document.querySelector("[role=dialog]")) return true;
  return Boolean(active && $("main").contains(active) && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName));
}

// --- logout and remote wipe ----------------------------------------------------------------------------------

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

async function logout() {
  const counts = await store.outboxCounts();
  if (counts.total && app.key) {
    const result = await sync.syncNow();
    const left = await store.outboxCounts();
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

async function endSession() {
  try {
    await api("POST", "/api/auth/logout");
    localStorage.removeItem("doorstep.logout_pending");
  } catch (error) {
    if (error instanceof Offline) localStorage.setItem("doorstep.logout_pending", "1");
  }
  app.me = null;
  setRequestKey(null);
}

/** The key the session is bound to, which login hands out once, sealed under the device key as soon as the data
 * is unlocked: on a locked or stolen tablet it is as unreadable as the cases. */
async function keepRequestKey() {
  if (!app.pendingRequestKey || !app.key) return;
  await store.setMeta("request_key", await sealJSON(app.key, app.pendingRequestKey, "request_key"));
  app.pendingRequestKey = null;
}

/** After unlocking: the key of a login made just before, or the one kept since. */
async function loadRequestKey() {
  if (app.pendingRequestKey) return keepRequestKey();
  const sealed = await store.getMeta("request_key");
  setRequestKey(sealed ? await openJSON(app.key, sealed, "request_key") : null);
}

let wiping = null;

function remoteWipe() {
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

// --- storage persistence and the service worker ----------------------------------------------------------------

async function requestPersistence() {
  try {
    if (navigator.storage?.persist) localStorage.setItem("doorstep.persisted", String(await navigator.storage.persist()));
  } catch {
    // unsupported: the status screen says so
  }
}

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  const offerUpdate = (worker) => {
    $("update-banner").hidden = false;
    $("update-button").onclick = () => worker.postMessage({ type: "SKIP_WAITING" });
  };
  if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) offerUpdate(worker);
    });
  });
  // The first install takes control without a reload; only an accepted update reloads the page.
  const updating = Boolean(navigator.serviceWorker.controller);
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // A wipe unregisters the worker too (Clear-Site-Data): no reload then, the wiped screen must stay.
    if (!updating || reloading || wiping || !navigator.serviceWorker.controller) return;
    reloading = true;
    window.location.reload();
  });
  // Background Sync fires in the worker, which holds no key: it asks an open page to sync.
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "sync-requested") sync.syncNow();
    if (event.data?.type === "open" && typeof event.data.url === "string") location.hash = new URL(event.data.url, location.href).hash;
  });
}

boot().catch((error) => {
  console.error(error);
  fill($("main"), h("p", { class: "error", role: "alert" }, t("app.failed")));
});
