// The administrators' page (/verwaltung): accounts, teams and lost tablets, in any browser. It keeps nothing on the
// device but the device's id; every change goes to the server at once and is written to the audit log there
// (docs/operations.md "Accounts"). Case data never appears here: an administrator sees people and devices only.
import { call, start } from "./signin.js";
import { chip, h } from "./ui.js";

const ROLES = [
  ["worker", "Fachkraft"],
  ["supervisor", "Teamleitung"],
  ["manager", "Leitung (nur Zahlen)"],
  ["referrer", "Hausverwaltung (Meldungen)"],
  ["admin", "Administration"],
];
const ROLE = Object.fromEntries(ROLES);
/** @type {{ id: string, name: string }[]} */
let teams = [];

const main = () => /** @type {HTMLElement} */ (document.getElementById("main"));

/** A message of the server's refusal, in German where it is one we expect. @param {unknown} failure */
function refusal(failure) {
  const { status, data } = /** @type {{ status?: number, data?: { detail?: string, rows?: { line: number, field: string, detail: string }[] } }} */ (failure);
  if (data?.rows) return `Nichts übernommen. ${data.rows.map((row) => `Zeile ${row.line}, ${row.field}: ${row.detail}`).join("; ")}.`;
  if (status === 409) return `Nicht möglich: ${data?.detail || "Konflikt"}`;
  if (status === 400) return "Bitte die Angaben prüfen (Benutzername: Kleinbuchstaben, Ziffern, Punkt, Strich; Passwort: mindestens 8 Zeichen).";
  if (status === 404) return "Nicht gefunden.";
  return "Das hat nicht geklappt. Bitte noch einmal versuchen.";
}

/** @param {string} text @param {"ok" | "error"} kind */
function notice(text, kind = "ok") {
  return h("p", { class: kind === "ok" ? "banner-inline ok" : "error", role: kind === "ok" ? "status" : "alert", id: "admin-notice" }, text);
}

/** @param {string} id @param {string} label @param {Record<string, unknown>} [attrs] */
const field = (id, label, attrs = {}) => h("div", {}, h("label", { for: id }, label), h("input", { id, name: id, ...attrs }));

/** @param {string} id @param {string | null} [selected] */
function roleSelect(id, selected = "worker") {
  return h("div", {}, h("label", { for: id }, "Rolle"), h("select", { id, name: "role" }, ROLES.map(([value, label]) => h("option", { value, selected: value === selected }, label))));
}

/** @param {string} id @param {string | null} [selected] */
function teamSelect(id, selected = null) {
  return h(
    "div",
    {},
    h("label", { for: id }, "Team"),
    h("select", { id, name: "team_id" }, h("option", { value: "" }, "– kein Team (nur Administration) –"), teams.map((team) => h("option", { value: team.id, selected: team.id === selected }, team.name))),
  );
}

/** @param {string} [message] @param {"ok" | "error"} [kind] */
async function show(message = "", kind = "ok") {
  const [users, devices, teamList] = await Promise.all([call("GET", "/api/admin/users"), call("GET", "/api/admin/devices"), call("GET", "/api/admin/teams")]);
  teams = teamList;
  main().replaceChildren(
    h("h2", {}, "Verwaltung"),
    message ? notice(message, kind) : h("span", { hidden: true }),
    usersCard(users),
    newUserForm(),
    importForm(),
    teamsCard(),
    devicesCard(devices),
  );
}

/** @param {{ id: string, username: string, display_name: string, role: string, team_id: string | null, team_name: string | null, disabled: boolean }[]} users */
function usersCard(users) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "users-title" },
    h("h3", { id: "users-title" }, "Konten"),
    h(
      "table",
      { class: "table", id: "user-list" },
      h("thead", {}, h("tr", {}, ["Benutzername", "Name", "Rolle", "Team", "Stand"].map((x) => h("th", { scope: "col" }, x)), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Aktion")))),
      h(
        "tbody",
        {},
        users.map((user) =>
          h(
            "tr",
            { "data-username": user.username },
            h("td", {}, user.username),
            h("td", {}, user.display_name),
            h("td", {}, ROLE[user.role] || user.role),
            h("td", {}, user.team_name || "–"),
            h("td", {}, user.disabled ? chip("gesperrt", "warn") : chip("aktiv", "ok")),
            h("td", {}, h("button", { type: "button", class: "secondary small", "aria-label": `${user.username} ändern`, onclick: (/** @type {Event} */ event) => editUser(user, /** @type {HTMLElement} */ (event.target).closest("tr")) }, "Ändern")),
          ),
        ),
      ),
    ),
  );
}

/** @param {{ id: string, username: string, display_name: string, role: string, team_id: string | null, disabled: boolean }} user @param {Element | null} row */
function editUser(user, row) {
  document.getElementById("user-edit")?.remove();
  const save = async (/** @type {Event} */ event) => {
    event.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (event.target));
    const team = String(data.get("team_id") || "");
    try {
      await call("PATCH", `/api/admin/users/${user.id}`, { display_name: String(data.get("display_name") || "").trim() || undefined, role: String(data.get("role")), team_id: team || undefined });
      await show(`${user.username}: gespeichert. Bei neuer Rolle oder neuem Team meldet sich die Person neu an, und das Tablet lädt ihre Fälle neu.`);
    } catch (failure) {
      await show(refusal(failure), "error");
    }
  };
  const toggle = async () => {
    try {
      await call("PATCH", `/api/admin/users/${user.id}`, { disabled: !user.disabled });
      await show(user.disabled ? `${user.username} kann sich wieder anmelden.` : `${user.username} ist gesperrt; alle Sitzungen sind beendet.`);
    } catch (failure) {
      await show(refusal(failure), "error");
    }
  };
  const password = async () => {
    const input = /** @type {HTMLInputElement} */ (document.getElementById("edit-password"));
    try {
      await call("POST", `/api/admin/users/${user.id}/password`, { password: input.value });
      await show(`Neues Passwort für ${user.username} gesetzt; alle Sitzungen sind beendet.`);
    } catch (failure) {
      await show(refusal(failure), "error");
    }
  };
  const form = h(
    "form",
    { class: "card", id: "user-edit", onsubmit: save, "aria-label": `${user.username} ändern` },
    h("h3", {}, `${user.username} bearbeiten`),
    h("div", { class: "row" }, field("edit-name", "Name", { value: user.display_name, maxlength: 200, name: "display_name" }), roleSelect("edit-role", user.role), teamSelect("edit-team", user.team_id)),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Speichern"), h("button", { type: "button", class: "secondary", onclick: toggle }, user.disabled ? "Entsperren" : "Sperren")),
    h("div", { class: "row" }, field("edit-password", "Neues Passwort (mindestens 8 Zeichen)", { type: "password", autocomplete: "new-password", minlength: 8 }), h("div", {}, h("button", { type: "button", class: "secondary", onclick: password }, "Passwort setzen"))),
  );
  row?.closest("section")?.after(form);
  /** @type {HTMLInputElement | null} */ (document.getElementById("edit-name"))?.focus();
}

function newUserForm() {
  const submit = async (/** @type {Event} */ event) => {
    event.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (event.target));
    const team = String(data.get("team_id") || "");
    try {
      const made = await call("POST", "/api/admin/users", {
        username: String(data.get("new-username") || "").trim(),
        display_name: String(data.get("new-name") || "").trim(),
        role: String(data.get("role")),
        team_id: team || null,
        password: String(data.get("new-password") || ""),
      });
      await show(`Konto ${made.username} angelegt.`);
    } catch (failure) {
      await show(refusal(failure), "error");
    }
  };
  return h(
    "form",
    { class: "card", id: "new-user", onsubmit: submit },
    h("h3", {}, "Neues Konto"),
    h("div", { class: "row" }, field("new-username", "Benutzername", { required: true, maxlength: 64, autocomplete: "off" }), field("new-name", "Name", { required: true, maxlength: 200 })),
    h("div", { class: "row" }, roleSelect("new-role"), teamSelect("new-team", teams[0]?.id || null), field("new-password", "Erstes Passwort (mindestens 8 Zeichen)", { type: "password", required: true, minlength: 8, autocomplete: "new-password" })),
    h("button", { type: "submit" }, "Konto anlegen"),
  );
}

function importForm() {
  const submit = async (/** @type {Event} */ event) => {
    event.preventDefault();
    const file = /** @type {HTMLInputElement} */ (document.getElementById("import-file")).files?.[0];
    if (!file) return;
    try {
      const report = await call("POST", "/api/admin/users/import", await file.text(), "text/csv");
      await show(`${Object.keys(report.created).length} angelegt, ${report.changed.length} geändert, ${report.unchanged.length} schon wie in der Liste.`);
      const created = Object.entries(report.created);
      if (created.length) document.getElementById("admin-notice")?.after(passwordsCard(created));
    } catch (failure) {
      await show(refusal(failure), "error");
    }
  };
  return h(
    "form",
    { class: "card", id: "import-users", onsubmit: submit },
    h("h3", {}, "Liste importieren"),
    h("p", { class: "lead" }, "CSV mit den Spalten username, display_name, role, team. Eine fehlerhafte Zeile: nichts wird übernommen. Dieselbe Liste noch einmal: nichts ändert sich."),
    h("label", { for: "import-file" }, "Datei (CSV, UTF-8)"),
    h("input", { id: "import-file", type: "file", accept: ".csv,text/csv", required: true }),
    h("button", { type: "submit" }, "Importieren"),
  );
}

/** @param {[string, string][]} created */
function passwordsCard(created) {
  return h(
    "section",
    { class: "card", id: "one-time-passwords", "aria-labelledby": "otp-title" },
    h("h3", { id: "otp-title" }, "Erste Passwörter (nur jetzt sichtbar)"),
    h("p", { class: "lead" }, "Persönlich übergeben; die Person ändert es bei der Teamleitung oder hier."),
    h(
      "table",
      { class: "table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Benutzername"), h("th", { scope: "col" }, "Erstes Passwort"))),
      h("tbody", {}, created.map(([username, password]) => h("tr", {}, h("td", {}, username), h("td", {}, h("code", {}, password))))),
    ),
  );
}

function teamsCard() {
  const submit = async (/** @type {Event} */ event) => {
    event.preventDefault();
    const name = String(new FormData(/** @type {HTMLFormElement} */ (event.target)).get("team-name") || "").trim();
    try {
      await call("POST", "/api/admin/teams", { name });
      await show(`Team ${name} angelegt.`);
    } catch (failure) {
      await show(refusal(failure), "error");
    }
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "teams-title" },
    h("h3", { id: "teams-title" }, "Teams"),
    h("ul", { id: "team-list" }, teams.map((team) => h("li", {}, team.name))),
    h("form", { id: "new-team", onsubmit: submit }, h("div", { class: "row" }, field("team-name", "Neues Team", { required: true, maxlength: 100 }), h("div", {}, h("button", { type: "submit" }, "Team anlegen")))),
  );
}

/** @param {{ id: string, name: string, username: string, last_seen_at: string, revoked_at: string | null }[]} devices */
function devicesCard(devices) {
  const revoke = async (/** @type {{ id: string, name: string, username: string }} */ device) => {
    if (!confirm(`${device.name} von ${device.username} sperren? Das Gerät löscht seine Daten beim nächsten Kontakt.`)) return;
    try {
      await call("POST", `/api/admin/devices/${device.id}/revoke`);
      await show(`${device.name} von ${device.username} ist gesperrt.`);
    } catch (failure) {
      await show(refusal(failure), "error");
    }
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "devices-title" },
    h("h3", { id: "devices-title" }, "Geräte"),
    h(
      "table",
      { class: "table", id: "device-list" },
      h("thead", {}, h("tr", {}, ["Gerät", "Benutzername", "Zuletzt gesehen", "Stand"].map((x) => h("th", { scope: "col" }, x)), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Aktion")))),
      h(
        "tbody",
        {},
        devices.map((device) =>
          h(
            "tr",
            {},
            h("td", {}, device.name),
            h("td", {}, device.username),
            h("td", {}, new Date(device.last_seen_at).toLocaleString("de-DE")),
            h("td", {}, device.revoked_at ? chip("gesperrt", "warn") : chip("aktiv", "ok")),
            h("td", {}, device.revoked_at ? "" : h("button", { type: "button", class: "secondary small", "aria-label": `${device.name} von ${device.username} sperren`, onclick: () => revoke(device) }, "Sperren")),
          ),
        ),
      ),
    ),
  );
}

start({
  role: "admin",
  refusal: "Diese Seite ist für die Administration. Die Teams arbeiten in der Doorstep-App.",
  lead: "Für die Administration: Konten, Teams und Geräte.",
  formId: "admin-login",
  deviceKey: "doorstep-admin-device",
  deviceName: "Browser (Verwaltung)",
  show: () => show(),
});
