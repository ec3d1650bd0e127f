// The shell of the running app on the tablet: the screens and their routes, navigation and badges, the feedback of
// a sync, the storage and clock banners, and the service worker. The gate (gate.js) hands over to ``startApp``.
import { api } from "./api.js";
import * as data from "./data.js";
import { flushDrafts, leaveScreen } from "./drafts.js";
import * as enquiries from "./enquiries.js";
import * as files from "./files.js";
import { lang, t } from "./i18n.js";
import * as legal from "./legal.js";
import * as outbox from "./outbox.js";
import * as push from "./push.js";
import * as store from "./storage.js";
import * as sync from "./sync.js";
import { clockDifference, errorMessage, fill, h, localDay, toast, today } from "./ui.js";
import { openJSON, sealJSON } from "./crypto.js";
import { isWiping, leaveGate, touchIdle } from "./gate.js";
import { $, app, ensureSession } from "./session.js";
import * as assessmentScreen from "./screens/assessment.js";
import * as caseScreen from "./screens/case.js";
import * as casesScreen from "./screens/cases.js";
import * as conflictsScreen from "./screens/conflicts.js";
import * as disclosureScreen from "./screens/disclosure.js";
import * as documentsScreen from "./screens/documents.js";
import * as intakeScreen from "./screens/intake.js";
import * as letterScreen from "./screens/letter.js";
import * as officeScreen from "./screens/office.js";
import * as reportsScreen from "./screens/reports.js";
import * as referralsScreen from "./screens/referrals.js";
import * as statusScreen from "./screens/status.js";
import * as todayScreen from "./screens/today.js";
import * as visitScreen from "./screens/visit.js";
import * as workScreen from "./screens/work.js";

export async function startApp() {
  // Administrators keep accounts, teams and devices on their own page; the tablet app holds no work of theirs.
  if (app.owner?.role === "admin") return location.replace("/verwaltung");
  leaveGate();
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
  // The first start on this device: the organisation's country decides the words and choices of every screen.
  if (!legal.hasCalendar() && navigator.onLine) await legal.refreshCalendar(api);
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

/** @type {Array<[RegExp, (main: HTMLElement, params: string[], app: any) => Promise<void>]>} */
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
  [/^#\/meldungen$/, referralsScreen.render],
];

let routing = 0;

/** A screen still being built is not drawn (the app was locked meanwhile). */
export function cancelRoute() {
  routing += 1;
}

export async function route() {
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
export function showClockSkew(minutes) {
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

export function renderNav() {
  const links = app.isManager()
    ? [["#/berichte", t("nav.reports")]]
    : [
        ["#/heute", t("nav.today")],
        ["#/faelle", t("nav.cases")],
        ...(app.isSupervisor() ? [["#/team", t("nav.team")], ["#/meldungen", t("nav.referrals")], ["#/berichte", t("nav.reports")]] : []),
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

export async function updateBadges() {
  if (!app.key) return;
  const counts = await outbox.outboxCounts();
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

let syncSoon = null;

export function scheduleSync() {
  clearTimeout(syncSoon);
  syncSoon = setTimeout(() => sync.syncNow(), 1500);
}

export function onSyncEvent(event) {
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

/** The documents of cases with a visit today, fetched ahead so that they open at the door without a network. */
async function prefetchToday() {
  const { visit, attachment } = await data.kinds("visit", "attachment");
  const day = today();
  const cases = new Set(visit.filter((v) => !v.deleted && v.fields.status === "planned" && localDay(new Date(v.fields.planned_at)) === day).map((v) => v.case_id));
  const wanted = attachment.filter((a) => !a.deleted && cases.has(a.case_id));
  if (wanted.length) await files.prefetch(app.key, wanted);
}

/** Whether the user is typing in a form: a finished sync then refreshes badges, not the screen. */
function editing() {
  const active = document.activeElement;
  // A screen holding work not saved yet (a signature being drawn, photos chosen) says so with data-unsaved.
  if ($("main").querySelector("[data-unsaved=true]")) return true;
  // A dialog open over the screen (the date field's calendar): redrawing under it would take the field it
  // belongs to, and the focus it returns to on closing, away.
  if (document.querySelector("[role=dialog]")) return true;
  return Boolean(active && $("main").contains(active) && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName));
}

export function showNetState() {
  // Online is the usual state: a green dot (named for screen readers) keeps the top bar to one row; offline is said
  // in words.
  if (navigator.onLine) fill($("net-state"), h("span", { class: "dot", "aria-hidden": "true" }), h("span", { class: "visually-hidden" }, t("net.online")));
  else $("net-state").textContent = t("net.offline");
  $("net-state").className = navigator.onLine ? "net net-on" : "net net-off";
  $("net-state").title = navigator.onLine ? t("net.online") : t("net.offline");
}

// The tablet put away, the app switched, the tab closed: what is typed is written before the page may be killed.
document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && flushDrafts());

window.addEventListener("pagehide", () => flushDrafts());

export async function registerServiceWorker() {
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
    if (!updating || reloading || isWiping() || !navigator.serviceWorker.controller) return;
    reloading = true;
    window.location.reload();
  });
  // Background Sync fires in the worker, which holds no key: it asks an open page to sync.
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "sync-requested") sync.syncNow();
    if (event.data?.type === "open" && typeof event.data.url === "string") location.hash = new URL(event.data.url, location.href).hash;
  });
}
