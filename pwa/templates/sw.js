// Doorstep service worker, version {{ version }}. Rendered by the server: the version is a hash of the shell's
// files, so every change to them installs a new worker with a new cache, and the old cache goes on activate.
const VERSION = "{{ version }}";
const CACHE = `doorstep-shell-${VERSION}`;
const PRECACHE = {{ precache | safe }};

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new version waits until the worker confirms "update" in the app.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith("doorstep-shell-") && name !== CACHE).map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The API is never cached: case data lives encrypted in IndexedDB, not in the HTTP cache.
  if (url.pathname.startsWith("/api/") || url.pathname === "/health") return;
  if (request.mode === "navigate") {
    // The app's own address is answered by the cached shell, with or without a network: a cold start offline
    // works. Pages the server renders (the printable report) come from the network, and fall back to the shell.
    const shell = () => caches.match("/", { cacheName: CACHE });
    if (url.pathname === "/" || url.pathname === "/index.html") {
      event.respondWith(shell().then((cached) => cached || fetch(request)));
    } else {
      event.respondWith(fetch(request).catch(() => shell()));
    }
    return;
  }
  event.respondWith(caches.match(request, { cacheName: CACHE }).then((cached) => cached || fetch(request)));
});

// Background Sync: the network is back. The worker holds no key (it lives only in an open page's memory), so it
// asks the open pages to sync; with no page open, the outbox waits, encrypted, for the next start.
self.addEventListener("sync", (event) => {
  if (event.tag !== "doorstep-sync") return;
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((pages) => {
      for (const page of pages) page.postMessage({ type: "sync-requested" });
    }),
  );
});

// Web Push: the message holds an event type and an opaque id only. The notification says nothing about the case
// (lock screens are seen at the door); the app fetches the details after it is unlocked and has synced.
const NOTICES = {
  visit_assigned: { title: "Neuer Hausbesuch zugewiesen", body: "Öffnen Sie Doorstep, um den Termin zu sehen." },
  deadline_soon: { title: "Eine Frist läuft bald ab", body: "Öffnen Sie Doorstep, um die Frist zu sehen." },
  case_assigned: { title: "Neuer Fall zugewiesen", body: "Öffnen Sie Doorstep, um den Fall zu sehen." },
  referral_received: { title: "Neue Meldung", body: "Ein Haushalt wurde dem Team gemeldet." },
  sync: { title: "Doorstep", body: "Es gibt Änderungen an Ihren Fällen." },
};

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  const id = typeof message.id === "string" && /^[0-9a-f-]{36}$/.test(message.id) ? message.id : null;
  event.waitUntil(
    (async () => {
      const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const page of pages) page.postMessage({ type: "sync-requested" });
      // A sync hint while the app is in front needs no notification; everything else shows one.
      if (message.t === "sync" && pages.some((page) => page.focused)) return;
      const notice = NOTICES[message.t] || NOTICES.sync;
      const visit = message.t === "visit_assigned" && id;
      const deadline = (message.t === "deadline_soon" || message.t === "case_assigned") && id;
      const referral = message.t === "referral_received";
      await self.registration.showNotification(notice.title, {
        body: notice.body,
        tag: visit ? `visit-${id}` : deadline ? `${message.t}-${id}` : referral ? "doorstep-referrals" : "doorstep-sync",
        icon: "/static/icons/icon-192.png",
        lang: "de",
        data: { url: visit ? `/#/besuch/${id}` : deadline ? `/#/fall/${id}` : referral ? "/#/meldungen" : "/#/heute" },
      });
    })(),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(
    (async () => {
      const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const page of pages) {
        if ("focus" in page) {
          page.postMessage({ type: "open", url });
          return page.focus();
        }
      }
      return self.clients.openWindow(url);
    })(),
  );
});
