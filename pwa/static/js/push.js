// Web Push on the tablet: ask for permission when the worker chooses to (never on first load), subscribe with the
// server's VAPID key, and hand the subscription to the server. The service worker shows the notifications.
import { api } from "./api.js";

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** {supported, permission, active (the server will send to this device), host} */
export async function status() {
  if (!supported()) return { supported: false, permission: "unsupported", active: false, host: null };
  let server = { active: false, host: null };
  try {
    server = await api("GET", "/api/push/subscriptions");
  } catch {
    // offline: the last answer is not known
  }
  return { supported: true, permission: Notification.permission, ...server };
}

async function subscribeAndRegister() {
  const registration = await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    const { public_key: key } = await api("GET", "/api/push/key");
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  return api("POST", "/api/push/subscriptions", subscription.toJSON());
}

/** The worker asked for notifications: ask the browser, then subscribe. Returns the new status. */
export async function enable() {
  if (!supported()) return status();
  const permission = await Notification.requestPermission();
  if (permission === "granted") await subscribeAndRegister();
  return status();
}

/** On each start with a network: keep the server's copy of a granted subscription current (it may have been
 * dropped after the push service answered 410). Never asks for permission. */
export async function refresh() {
  if (!supported() || Notification.permission !== "granted") return;
  try {
    await subscribeAndRegister();
  } catch {
    // offline or refused: the status screen shows it
  }
}

export async function disable() {
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  await api("DELETE", "/api/push/subscriptions");
  if (subscription) await subscription.unsubscribe();
  return status();
}
