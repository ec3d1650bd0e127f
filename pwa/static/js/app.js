// Doorstep on the tablet: the start. It wires the gate (gate.js: login, unlock, lock, logout, wipe) to the shell
// (shell.js: screens, navigation, sync feedback) through the session's hooks (session.js), and decides what the
// first screen is: the unlock form for a device set up, else set-up or login.
import { onAuthProblem, onClockSkew } from "./api.js";
import * as data from "./data.js";
import { applyLanguage, lang, setLang, t } from "./i18n.js";
import * as outbox from "./outbox.js";
import * as store from "./storage.js";
import * as sync from "./sync.js";
import { fill, h } from "./ui.js";
import { lock, logout, needLogin, redrawGate, remoteWipe, showLogin, showSetup, showUnlock } from "./gate.js";
import { $, app, endPendingLogout, ensureSession, hooks, revokedNow, whoAmI } from "./session.js";
import { cancelRoute, onSyncEvent, registerServiceWorker, renderNav, route, scheduleSync, showClockSkew, showNetState, startApp, updateBadges } from "./shell.js";

Object.assign(hooks, { startApp, route, cancelRoute, needLogin });

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
    app.unsent = (await outbox.outboxCounts()).total;
    if (navigator.onLine && (await revokedNow())) return;
    return showUnlock();
  }
  const me = await whoAmI();
  if (me && (await endPendingLogout())) return showLogin(); // a reset or logout made offline: ask for a login
  if (me) return showSetup(me);
  return showLogin();
}

function wireChrome() {
  $("lang-button").addEventListener("click", () => {
    setLang(lang() === "de" ? "en" : "de");
    applyLanguage();
    renderNav();
    if (app.key && !app.locked) route();
    else redrawGate();
  });
  $("lock-button").addEventListener("click", () => lock({ pressed: true }));
  $("logout-button").addEventListener("click", () => logout());
}

boot().catch((error) => {
  console.error(error);
  fill($("main"), h("p", { class: "error", role: "alert" }, t("app.failed")));
});
