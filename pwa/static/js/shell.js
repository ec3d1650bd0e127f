// The app shell's login: talks to /api/auth/login and /api/me, keeps the CSRF token in memory only.
const $ = (id) => document.getElementById(id);
let csrfToken = null;

const roleNames = { worker: "Mitarbeiter:in", supervisor: "Teamleitung", admin: "Administration" };

function show(me) {
  csrfToken = me ? me.csrf_token : null;
  $("login-view").hidden = Boolean(me);
  $("home-view").hidden = !me;
  if (me) {
    $("who").textContent = me.user.display_name;
    $("role").textContent = roleNames[me.user.role] || me.user.role;
    localStorage.setItem("doorstep.device_id", me.device_id);
  }
}

async function loadMe() {
  try {
    const response = await fetch("/api/me", { credentials: "same-origin" });
    show(response.ok ? await response.json() : null);
  } catch {
    show(null); // offline: the login form stays; the tablet app's offline unlock comes with the case work
  }
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("login-error");
  error.hidden = true;
  const body = {
    username: $("username").value,
    password: $("password").value,
    device_name: navigator.userAgent.includes("Mobile") ? "Tablet" : "Browser",
    device_id: localStorage.getItem("doorstep.device_id"),
  };
  let response;
  try {
    response = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
  } catch {
    error.textContent = "Keine Verbindung zum Server. Bitte später erneut versuchen.";
    error.hidden = false;
    return;
  }
  if (response.ok) {
    $("password").value = "";
    show(await response.json());
    return;
  }
  const messages = {
    401: "Benutzername oder Passwort ist falsch.",
    429: "Zu viele Fehlversuche. Bitte warten Sie einige Minuten.",
  };
  error.textContent = messages[response.status] || "Anmeldung fehlgeschlagen. Bitte erneut versuchen.";
  error.hidden = false;
});

$("logout-button").addEventListener("click", async () => {
  await fetch("/api/auth/logout", {
    method: "POST",
    headers: { "X-CSRF-Token": csrfToken || "" },
    credentials: "same-origin",
  });
  show(null);
});

loadMe();

// Offline shell: register the service worker and offer updates instead of forcing them.
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
    if (!updating || reloading) return;
    reloading = true;
    window.location.reload();
  });
}

registerServiceWorker();
