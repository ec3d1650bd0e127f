// "Meldungen" for supervisors (online): the households property management handed over, each taken on as a case
// for a worker (who gets a push message), linked to the household's open case, or declined with a reason; and the
// landlord's list imported as CSV, every row or none.
import { api, ApiError, Offline, postText, saveFile } from "../api.js";
import * as sync from "../sync.js";
import { t } from "../i18n.js";
import { append, chip, day, errorMessage, fill, h, money, toast, today } from "../ui.js";
import { dateField } from "../datefield.js";

const DECLINE = ["not_our_area", "already_supported", "settled", "no_consent", "other"];

export async function render(main, _params, app) {
  if (!app.isSupervisor()) {
    append(main, h("h2", {}, t("referrals.title")), h("p", {}, t("office.only_supervisors")));
    return;
  }
  const out = h("div", { "aria-live": "polite" });
  append(main, h("h2", {}, t("referrals.title")), h("p", { class: "lead" }, t("referrals.lead")), out, courtCard(app), importCard(app, out));
  await show(out, app);
}

async function show(out, app) {
  let items;
  try {
    items = await api("GET", "/api/referrals/inbox");
  } catch (error) {
    fill(out, h("p", { class: "error", role: "alert" }, error instanceof Offline ? t("referrals.offline") : errorMessage(error)));
    return;
  }
  const waiting = items.filter((item) => item.status === "received");
  const decided = items.filter((item) => item.status !== "received");
  fill(
    out,
    h("h3", {}, t("referrals.waiting", { n: waiting.length })),
    waiting.length ? waiting.map((item) => card(item, app, out)) : h("p", { class: "muted", id: "inbox-empty" }, t("referrals.none")),
    decided.length
      ? h(
          "section",
          { class: "card", "aria-labelledby": "decided-title" },
          h("h3", { id: "decided-title" }, t("referrals.decided")),
          h(
            "ul",
            { class: "plain" },
            decided.map((item) =>
              h(
                "li",
                { "data-id": item.id },
                item.fields ? item.fields.tenant_name : "–",
                " ",
                item.status === "accepted" ? h("a", { href: `#/fall/${item.case_id}` }, t("referrals.to_case")) : chip(t(`decline.${item.decline_reason}`), "neutral"),
              ),
            ),
          ),
        )
      : null,
  );
}

function card(item, app, out) {
  const f = item.fields;
  const workers = [...app.users.entries()].filter(([id]) => (app.activeUsers?.has(id) ?? true) && !app.supervisors?.has(id));
  const worker = h("select", { id: `worker-${item.id}` }, h("option", { value: "" }, t("user.nobody")), workers.map(([id, name]) => h("option", { value: id }, name)));
  const reason = h("select", { id: `decline-${item.id}` }, DECLINE.map((r) => h("option", { value: r }, t(`decline.${r}`))));
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const decide = async (path, body, done) => {
    error.hidden = true;
    try {
      const answer = await api("POST", `/api/referrals/${item.id}/${path}`, body);
      toast(done(answer));
      sync.syncNow();
      await show(out, app);
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 409 ? t("referrals.decided_already") : errorMessage(failure);
      error.hidden = false;
    }
  };
  if (!f) return h("section", { class: "card" }, h("p", {}, t("referrals.erased")));
  const arrears = [
    ["referrals.rent", f.rent_arrears_cents],
    ["referrals.service", f.service_charge_arrears_cents],
    ["referrals.other", f.other_arrears_cents],
  ].filter(([, cents]) => cents);
  const dates = [
    ["referrals.notice", f.notice_served_on],
    ["referrals.lawsuit", f.lawsuit_served_on],
    ["referrals.court", f.court_date],
  ].filter(([, value]) => value);
  return h(
    "section",
    { class: "card referral", "aria-labelledby": `ref-${item.id}`, "data-id": item.id },
    h("h4", { id: `ref-${item.id}` }, f.tenant_name, " ", chip(t(`referrals.source.${item.source}`), "info")),
    h(
      "p",
      {},
      [f.street, f.house_number].filter(Boolean).join(" "),
      f.unit ? `, ${f.unit}` : "",
      f.postcode || f.city ? ` · ${[f.postcode, f.city].filter(Boolean).join(" ")}` : "",
      f.contract_number ? ` · ${t("referrals.contract", { n: f.contract_number })}` : "",
    ),
    h("p", { class: "muted" }, t("referrals.received", { date: day(item.received_at.slice(0, 10)) }), " · ", t(`referrals.reason.${f.reason}`)),
    arrears.length ? h("p", {}, arrears.map(([key, cents]) => `${t(key)}: ${money(cents)}`).join(" · ")) : null,
    dates.length ? h("p", {}, dates.map(([key, value]) => `${t(key)}: ${day(value)}`).join(" · ")) : null,
    f.note ? h("blockquote", {}, f.note) : null,
    item.files.length
      ? h(
          "ul",
          { class: "plain referral-files" },
          item.files.map((file) =>
            h(
              "li",
              {},
              h(
                "button",
                { type: "button", class: "secondary small", onclick: () => saveFile(`/api/referrals/${item.id}/files/${file.id}`, file.title).catch(() => toast(t("reports.download_failed"))) },
                t("referrals.file_open", { title: file.title }),
              ),
            ),
          ),
        )
      : null,
    item.duplicates.length
      ? h(
          "p",
          { class: "banner-inline warn", id: `duplicate-${item.id}` },
          t("referrals.duplicate"),
          " ",
          h("a", { href: `#/fall/${item.duplicates[0].case_id}` }, t("referrals.to_case")),
        )
      : null,
    h(
      "div",
      { class: "row" },
      h("div", {}, h("label", { for: `worker-${item.id}` }, t("referrals.worker")), worker),
      h("div", {}, h("label", { for: `decline-${item.id}` }, t("referrals.decline_reason")), reason),
    ),
    error,
    h(
      "div",
      { class: "actions" },
      item.duplicates.length
        ? h("button", { type: "button", class: "accept", onclick: () => decide("accept", { link_case_id: item.duplicates[0].case_id }, () => t("referrals.linked")) }, t("referrals.link"))
        : h(
            "button",
            { type: "button", class: "accept", onclick: () => decide("accept", { worker_id: worker.value || null }, () => t("referrals.accepted")) },
            t("referrals.accept"),
          ),
      h("button", { type: "button", class: "secondary", onclick: () => decide("decline", { reason: reason.value }, () => t("referrals.declined")) }, t("referrals.decline")),
    ),
  );
}

/** The landlord's list as CSV: taken whole or not at all; a wrong row is named by its line. */
function importCard(app, out) {
  const input = h("input", { type: "file", id: "referral-file", accept: ".csv,text/csv" });
  const result = h("div", { role: "status", id: "import-result" });
  return h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        const file = input.files?.[0];
        if (!file) return fill(result, h("p", { class: "error" }, t("referrals.choose_file")));
        try {
          const counts = await postText("/api/referrals/import", await file.text(), "text/csv");
          fill(result, h("p", { class: "banner-inline ok" }, t("referrals.imported", { n: counts.created, repeats: counts.repeats.length })));
          await show(out, app);
        } catch (failure) {
          const rows = failure instanceof ApiError ? failure.problem.rows || [] : [];
          fill(
            result,
            h("p", { class: "error", role: "alert" }, errorMessage(failure)),
            rows.length ? h("ul", {}, rows.map((row) => h("li", {}, t("referrals.row", { line: row.line, field: row.field || "–" })))) : null,
          );
        }
      },
    },
    h("h3", {}, t("referrals.import_title")),
    h("p", { class: "muted" }, t("referrals.import_hint")),
    h("label", { for: "referral-file" }, t("referrals.file")),
    input,
    h("button", { type: "submit", class: "secondary", id: "import-referrals" }, t("referrals.import")),
    result,
  );
}

/** @type {[string, string, number?][]} */
const NOTICE_FIELDS = [
  ["court", "text", 200],
  ["reference", "text", 100],
  ["filed_on", "date"],
  ["served_on", "date"],
  ["tenant_name", "text", 200],
  ["street", "text", 200],
  ["house_number", "text", 20],
  ["postcode", "text", 10],
  ["city", "text", 200],
];

/** The court's notices, entered as a batch (or imported as CSV): each a case in "Erstanschreiben" with its
 * deadline, or a step on the household's open case; the batch is taken whole or not at all. */
function courtCard(app) {
  const rows = h("div", { class: "notices" });
  const result = h("div", { role: "status", id: "notices-result" });
  const workers = [...app.users.entries()].filter(([id]) => (app.activeUsers?.has(id) ?? true) && !app.supervisors?.has(id));
  const worker = h("select", { id: "notices-worker" }, h("option", { value: "" }, t("user.nobody")), workers.map(([id, name]) => h("option", { value: id }, name)));
  const addRow = () => {
    const n = rows.children.length + 1;
    rows.append(
      h(
        "fieldset",
        { class: "notice" },
        h("legend", {}, t("court.notice", { n })),
        h(
          "div",
          { class: "row" },
          NOTICE_FIELDS.map(([name, type, max]) =>
            h(
              "div",
              {},
              h("label", { for: `notice-${n}-${name}` }, t(`court.${name}`)),
              type === "date"
                ? dateField({ id: `notice-${n}-${name}`, name, max: today() })
                : h("input", { type, name, id: `notice-${n}-${name}`, "aria-label": t("court.cell", { what: t(`court.${name}`), n }), ...(max ? { maxlength: max } : {}) }),
            ),
          ),
        ),
      ),
    );
  };
  addRow();
  const file = h("input", { type: "file", id: "notices-file", accept: ".csv,text/csv" });
  const shown = (answer) => {
    const made = answer.filter((r) => r.created).length;
    const linked = answer.filter((r) => !r.created && !r.repeat).length;
    const repeats = answer.filter((r) => r.repeat).length;
    fill(result, h("p", { class: "banner-inline ok" }, t("court.entered", { made, linked, repeats })));
  };
  const failed = (failure) => {
    const problems = failure instanceof ApiError ? failure.problem.rows || [] : [];
    fill(
      result,
      h("p", { class: "error", role: "alert" }, errorMessage(failure)),
      problems.length ? h("ul", {}, problems.map((row) => h("li", {}, t("referrals.row", { line: row.line, field: row.field || "–" })))) : null,
    );
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "court-title" },
    h("h3", { id: "court-title" }, t("court.title")),
    h("p", { class: "muted" }, t("court.hint")),
    h(
      "form",
      {
        id: "court-notices",
        onsubmit: async (event) => {
          event.preventDefault();
          const notices = [...rows.children]
            .map((set) => Object.fromEntries([...set.querySelectorAll("input[name]")].filter((i) => i.value.trim()).map((i) => [i.name, i.value.trim()])))
            .filter((notice) => Object.keys(notice).length);
          if (!notices.length) return fill(result, h("p", { class: "error" }, t("court.empty")));
          try {
            shown(await api("POST", "/api/court-notices", { notices, worker_id: worker.value || null }));
            rows.replaceChildren();
            addRow();
          } catch (failure) {
            failed(failure);
          }
        },
      },
      rows,
      h("div", { class: "row" }, h("div", {}, h("label", { for: "notices-worker" }, t("referrals.worker")), worker)),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "secondary", id: "add-notice", onclick: addRow }, t("court.add_row")),
        h("button", { type: "submit", id: "enter-notices" }, t("court.enter")),
      ),
    ),
    h(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          const chosen = file.files?.[0];
          if (!chosen) return fill(result, h("p", { class: "error" }, t("referrals.choose_file")));
          const query = worker.value ? `?worker_id=${worker.value}` : "";
          try {
            shown(await postText(`/api/court-notices/import${query}`, await chosen.text(), "text/csv"));
          } catch (failure) {
            failed(failure);
          }
        },
      },
      h("label", { for: "notices-file" }, t("court.file")),
      file,
      h("button", { type: "submit", class: "secondary", id: "import-notices" }, t("referrals.import")),
    ),
    result,
  );
}
