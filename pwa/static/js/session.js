// The tablet's session: the state every part of the app shares (``app``: who is logged in, the data key in memory,
// the lock), the server session (who am I, a logout still pending, the key a bound session needs) and the hooks
// app.js wires between the gate (gate.js: login, unlock, lock, logout) and the shell (shell.js: screens, navigation,
// sync feedback), so that neither imports the other.
import { api, ApiError, Offline, setCsrf, setRequestKey } from "./api.js";
import { openJSON, sealJSON } from "./crypto.js";
import { t } from "./i18n.js";
import * as store from "./storage.js";

/** An element of the page by its id (typed loosely: the page's inputs and buttons are read by it). @returns {any} */
export const $ = (id) => document.getElementById(id);

/** Set by app.js: the shell's ``startApp``, ``route`` and ``cancelRoute``, the gate's ``needLogin``. */
export const hooks = {
  startApp: async () => {},
  route: async () => {},
  cancelRoute: () => {},
  needLogin: () => {},
};

export const app = {
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
    if (location.hash === hash) hooks.route();
    else location.hash = hash;
  },
  userName: (id) => (id ? app.users.get(id) || t("user.unknown") : t("user.nobody")),
  refresh: () => hooks.route(),
};

export async function revokedNow() {
  try {
    await whoAmI({ raise: true });
    return false;
  } catch (error) {
    return error instanceof ApiError && error.type === "device-revoked";
  }
}

export async function whoAmI({ raise = false } = {}) {
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
export async function ensureSession() {
  if (!app.me) await whoAmI();
  if (app.me) await endPendingLogout();
  if (app.me && app.owner && app.me.user.id === app.owner.id) return true;
  hooks.needLogin();
  return false;
}

/** A logout (or a device reset) made offline could not end the server session: end it now, before anything else
 * uses it. Returns whether one was pending. The one place that reads the mark ``endSession`` leaves. */
export async function endPendingLogout() {
  if (!localStorage.getItem("doorstep.logout_pending")) return false;
  await api("POST", "/api/auth/logout").catch(() => {});
  localStorage.removeItem("doorstep.logout_pending");
  app.me = null;
  return true;
}

export async function endSession() {
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
export async function keepRequestKey() {
  if (!app.pendingRequestKey || !app.key) return;
  await store.setMeta("request_key", await sealJSON(app.key, app.pendingRequestKey, "request_key"));
  app.pendingRequestKey = null;
}

/** After unlocking: the key of a login made just before, or the one kept since. */
export async function loadRequestKey() {
  if (app.pendingRequestKey) return keepRequestKey();
  const sealed = await store.getMeta("request_key");
  setRequestKey(sealed ? await openJSON(app.key, sealed, "request_key") : null);
}
