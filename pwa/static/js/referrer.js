// The page where property management hands a household over to the social management team and follows it
// (/meldungen). It runs in any browser and keeps nothing on the device but the device's id: what was handed over
// is shown from the server, and the course is all a referrer sees (received, contact attempted, in counselling,
// closed), never a note, an outcome or a name of the team.
import { call, csrfToken, start } from "./signin.js";
import { chip, h } from "./ui.js";

const STAGES = {
  received: ["Eingegangen", "neutral"],
  contact_attempted: ["Kontaktversuch", "info"],
  in_counselling: ["In Beratung", "ok"],
  closed: ["Abgeschlossen", "neutral"],
};
const REASONS = [
  ["arrears", "Mietrückstand"],
  ["neighbour_complaints", "Beschwerden aus der Nachbarschaft"],
  ["living_situation", "Sorge um die Wohnsituation"],
  ["other", "Sonstiges"],
];
const main = () => /** @type {HTMLElement} */ (document.getElementById("main"));

/** Send one file (its bytes as they are) to a referral of the caller's. @param {string} id @param {File} file */
async function sendFile(id, file) {
  const title = file.name.replace(/\.[a-z0-9]+$/i, "").slice(0, 200) || "Unterlage";
  const response = await fetch(`/api/referrals/${id}/files?${new URLSearchParams({ title })}`, {
    method: "POST",
    headers: { "Content-Type": file.type || "application/octet-stream", "X-CSRF-Token": csrfToken() },
    credentials: "same-origin",
    body: file,
  });
  if (!response.ok) throw Object.assign(new Error("file"), { status: response.status });
}

/** "1.234,56" or "1234.56" as cents; "" as null; anything else as NaN. @param {string} text */
function cents(text) {
  const plain = text.replace(/\s|€/g, "");
  if (!plain) return null;
  if (!/^\d{1,3}(\.\d{3})*(,\d{1,2})?$|^\d+([.,]\d{1,2})?$/.test(plain)) return Number.NaN;
  const normal = plain.includes(",") ? plain.replace(/\./g, "").replace(",", ".") : plain;
  return Math.round(Number(normal) * 100);
}

/** @param {string} name */
async function show(name, notice = "") {
  const list = await call("GET", "/api/referrals");
  const parts = [
    h("h2", {}, "Meldungen"),
    h("p", { class: "lead" }, `Angemeldet als ${name}. Sie sehen hier nur Ihre eigenen Meldungen und wie weit sie sind – was in der Beratung besprochen wird, bleibt vertraulich.`),
    notice ? h("p", { class: "banner-inline ok", role: "status", id: "referral-notice" }, notice) : null,
    referralForm(name),
    h(
      "section",
      { class: "card", "aria-labelledby": "mine-title" },
      h("h3", { id: "mine-title" }, "Ihre Meldungen"),
      list.length
        ? h(
            "table",
            { class: "table", id: "my-referrals" },
            h("thead", {}, h("tr", {}, ["Eingang", "Mieterin/Mieter", "Vertragsnummer", "Stand"].map((x) => h("th", { scope: "col" }, x)))),
            h(
              "tbody",
              {},
              list.map((/** @type {{ id: string, received_at: string, tenant_name: string, contract_number: string, stage: keyof STAGES }} */ r) =>
                h(
                  "tr",
                  { "data-id": r.id },
                  h("td", {}, new Date(r.received_at).toLocaleDateString("de-DE")),
                  h("td", {}, r.tenant_name),
                  h("td", {}, r.contract_number || "–"),
                  h("td", {}, chip(STAGES[r.stage][0], STAGES[r.stage][1])),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "Noch keine Meldungen."),
    ),
  ];
  main().replaceChildren(...parts.filter((part) => part !== null));
}

/** @param {string} name */
function referralForm(name) {
  const error = h("p", { class: "error", role: "alert", hidden: true });
  /** @param {string} id @param {string} label @param {Record<string, unknown>} [attrs] */
  const field = (id, label, attrs = {}) => h("div", {}, h("label", { for: `r-${id}` }, label), h("input", { id: `r-${id}`, name: id, ...attrs }));
  const submit = async (/** @type {Event} */ event) => {
    event.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (event.target));
    /** @type {Record<string, unknown>} */
    const body = {};
    for (const [key, value] of data.entries()) if (key !== "files" && String(value).trim()) body[key] = String(value).trim();
    const files = /** @type {HTMLInputElement} */ (document.getElementById("r-files")).files || [];
    const tooBig = [...files].find((file) => file.size > 20 * 1024 * 1024);
    if (tooBig) {
      error.textContent = `Die Datei „${tooBig.name}“ ist größer als 20 MB.`;
      error.hidden = false;
      return;
    }
    for (const key of ["rent_arrears_cents", "service_charge_arrears_cents", "other_arrears_cents"]) {
      if (body[key] === undefined) continue;
      const amount = cents(String(body[key]));
      if (Number.isNaN(amount)) {
        error.textContent = "Bitte Beträge in Euro angeben, zum Beispiel 1.234,56.";
        error.hidden = false;
        return;
      }
      body[key] = amount;
    }
    try {
      const made = await call("POST", "/api/referrals", body);
      const refused = [];
      for (const file of files) await sendFile(made.id, file).catch(() => refused.push(file.name));
      const notice = refused.length
        ? `Die Meldung ist beim Team eingegangen; nicht angenommen (nur PDF, JPEG, PNG oder WebP): ${refused.join(", ")}.`
        : "Die Meldung ist beim Team eingegangen.";
      await show(name, notice);
    } catch (failure) {
      const status = /** @type {{ status?: number }} */ (failure).status;
      error.textContent = status === 409 ? "Dieses Mietverhältnis wurde schon gemeldet und ist beim Team in Bearbeitung." : status === 400 ? "Bitte die Angaben prüfen: der Name fehlt oder ein Wert ist zu lang." : "Die Meldung konnte nicht gesendet werden. Bitte noch einmal versuchen.";
      error.hidden = false;
    }
  };
  return h(
    "form",
    { class: "card", id: "referral-form", onsubmit: submit },
    h("h3", {}, "Neuen Haushalt melden"),
    h("div", { class: "row" }, field("tenant_name", "Name der Mieterin / des Mieters", { required: true, maxlength: 200 }), field("phone", "Telefon", { type: "tel", maxlength: 40 }), field("contract_number", "Vertragsnummer", { maxlength: 40 })),
    h("div", { class: "row" }, field("street", "Straße", { maxlength: 200 }), field("house_number", "Hausnummer", { maxlength: 20 }), field("unit", "Wohnung", { maxlength: 50 }), field("postcode", "PLZ", { maxlength: 10, inputmode: "numeric" }), field("city", "Ort", { maxlength: 200 })),
    h("div", {}, h("label", { for: "r-reason" }, "Anlass"), h("select", { id: "r-reason", name: "reason" }, REASONS.map(([value, label]) => h("option", { value }, label)))),
    h("div", { class: "row" }, field("rent_arrears_cents", "Mietrückstand (€)", { inputmode: "decimal" }), field("service_charge_arrears_cents", "Nebenkostenrückstand (€)", { inputmode: "decimal" }), field("other_arrears_cents", "Sonstige Forderungen (€)", { inputmode: "decimal" })),
    h("div", { class: "row" }, field("notice_served_on", "Kündigung zugestellt am", { type: "date" }), field("lawsuit_served_on", "Räumungsklage zugestellt am", { type: "date" }), field("court_date", "Gerichtstermin", { type: "date" })),
    h("div", {}, h("label", { for: "r-note" }, "Hinweis für das Team"), h("textarea", { id: "r-note", name: "note", rows: 3, maxlength: 2000 })),
    h("div", {}, h("label", { for: "r-files" }, "Unterlagen (Kontoauszug, Kündigung; PDF oder Foto, je bis 20 MB)"), h("input", { id: "r-files", name: "files", type: "file", multiple: true, accept: "application/pdf,image/jpeg,image/png,image/webp" })),
    error,
    h("button", { type: "submit", id: "send-referral" }, "Melden"),
  );
}

start({
  role: "referrer",
  refusal: "Diese Seite ist für die Hausverwaltung. Die Teams arbeiten in der Doorstep-App.",
  lead: "Für Kolleginnen und Kollegen der Hausverwaltung und des Forderungsmanagements.",
  formId: "referrer-login",
  deviceKey: "doorstep-referrer-device",
  deviceName: "Browser (Meldungen)",
  show: (session) => show(session.user.display_name),
});
