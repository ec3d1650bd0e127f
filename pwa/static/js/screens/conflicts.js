// "Konflikte": two devices changed the same field; both values side by side, pick one or write a new value.
import * as data from "../data.js";
import { keepFields } from "../drafts.js";
import { t } from "../i18n.js";
import { append, h, moment, toast } from "../ui.js";

export async function render(main, _params, app) {
  const { conflict: conflicts, case: cases } = await data.kinds("conflict", "case");
  const titles = new Map(cases.map((c) => [c.id, c.fields.title]));
  const open = conflicts.filter((c) => c.fields.status === "open").sort((a, b) => a.fields.created_at.localeCompare(b.fields.created_at));
  const resolved = conflicts
    .filter((c) => c.fields.status === "resolved")
    .sort((a, b) => (b.fields.resolved_at || "").localeCompare(a.fields.resolved_at || ""))
    .slice(0, 20);

  append(
    main,
    h("h2", {}, t("conflicts.title")),
    h("p", { class: "lead" }, open.length ? t("conflicts.explain") : t("conflicts.none")),
    open.map((c) => conflictCard(c, titles, app)),
    resolved.length
      ? h(
          "section",
          { class: "card", "aria-labelledby": "resolved-title" },
          h("h3", { id: "resolved-title" }, t("conflicts.resolved")),
          h(
            "ul",
            { class: "plain resolved" },
            resolved.map((c) =>
              h(
                "li",
                { "data-conflict": c.id },
                `${titles.get(c.case_id) || ""} · ${what(c)}: `,
                h("strong", { class: "chosen" }, shown(c.fields.field, c.fields.resolution)),
              ),
            ),
          ),
        )
      : null,
  );
}

function what(conflict) {
  const f = conflict.fields;
  const kind = t(`kind.${f.record_kind}`);
  if (!f.field) return `${kind} – ${t("conflicts.deleted")}`;
  // The field's label as its form shows it; every field of every kind has one (tests/unit/test_catalogue.py).
  return `${kind} – ${t(`field.${f.record_kind}.${f.field}`, {}, t(`conflict_field.${f.field}`, {}, f.field))}`;
}

/** Which side is the reader's own ("Ihr Stand"): the value this device wrote, else the one the reader wrote. */
function ownSide(app, f) {
  const me = app.owner.id;
  if (f.client_user_id === me && f.client_device_id === localStorage.getItem("doorstep.device_id")) return "client";
  if (f.server_user_id === me) return "server";
  return f.client_user_id === me ? "client" : null;
}

/** A value as a person reads it: enum values translated, objects as "name: value" lines. */
export function shown(field, value) {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  if (typeof value === "string") return t(`value.${field}.${value}`, {}, value);
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length))
      .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
      .join("; ");
  }
  return String(value);
}

function conflictCard(conflict, titles, app) {
  const f = conflict.fields;
  const choose = (value) => async () => {
    await data.resolve(conflict, value);
    await data.drafts.drop(`conflict:${conflict.id}`); // a text typed for it is settled either way
    toast(t("conflicts.saved"));
    app.refresh();
  };
  const side = (title, who, value, button, id) =>
    h(
      "div",
      { class: "side" },
      h("h4", {}, title),
      h("p", { class: "muted" }, who),
      h("p", { class: "value", id }, f.field ? shown(f.field, value) : t("conflicts.delete_side")),
      button,
    );
  const own = ownSide(app, f);
  const editable = f.field && (typeof f.server_value === "string" || f.server_value === null) && typeof f.client_value !== "object";
  const typed = h("textarea", { id: `own-${conflict.id}`, rows: 2 });
  return h(
    "section",
    { class: "card conflict", "data-conflict": conflict.id, "aria-labelledby": `c-${conflict.id}` },
    h("h3", { id: `c-${conflict.id}` }, `${titles.get(conflict.case_id) || ""} · ${what(conflict)}`),
    h(
      "div",
      { class: "sides" },
      side(
        own === "server" ? t("conflicts.yours") : t("conflicts.change_by", { name: app.userName(f.server_user_id) }),
        t("conflicts.saved_first"),
        f.server_value,
        h("button", { type: "button", onclick: choose(f.field ? f.server_value : "delete") }, f.field ? t("conflicts.take_server") : t("conflicts.delete")),
        `server-${conflict.id}`,
      ),
      side(
        own === "client" ? t("conflicts.yours") : t("conflicts.change_by", { name: app.userName(f.client_user_id) }),
        t(f.client_device_id === localStorage.getItem("doorstep.device_id") ? "conflicts.this_device_at" : "conflicts.other_device_at", { when: moment(f.created_at) }),
        f.client_value,
        h("button", { type: "button", onclick: choose(f.field ? f.client_value : "keep") }, f.field ? t("conflicts.take_device") : t("conflicts.keep")),
        `device-${conflict.id}`,
      ),
    ),
    editable
      ? keepFields(h(
          "form",
          {
            class: "own",
            onsubmit: (event) => {
              event.preventDefault();
              if (typed.value.trim()) choose(typed.value)();
            },
          },
          h("label", { for: `own-${conflict.id}` }, t("conflicts.own")),
          typed,
          h("button", { type: "submit", class: "secondary" }, t("conflicts.take_own")),
        ), `conflict:${conflict.id}`)
      : null,
  );
}
