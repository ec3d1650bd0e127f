// Form controls built from a small field description, shared by the assessment and the case-work forms.
// A description is [name, type, options, option label prefix]; types: count, age, int, cents, date, moment, tri
// (yes/no/unknown), text, short, enum, multi (a set of enum values), lines (a list of short strings), list (rows
// of sub-fields), check, moment (date and time). Labels come from the catalogue as ``field.<prefix>.<name>``.
import { offered } from "../country.js";
import { t } from "../i18n.js";
import { dateField, momentField } from "../datefield.js";
import { fill, fromLocalInput, h, toLocalInput } from "../ui.js";

/** "1.234,56" or "1234.56" or "1234" -> cents; empty -> null; anything else -> NaN. */
export function parseCents(text) {
  const cleaned = String(text).replace(/[\s€]/g, "");
  if (!cleaned) return null;
  const normal = cleaned.includes(",") ? cleaned.replace(/\./g, "").replace(",", ".") : cleaned;
  if (!/^\d+(\.\d{1,2})?$/.test(normal)) return Number.NaN;
  return Math.round(Number(normal) * 100);
}

export const centsText = (cents) => (cents === null || cents === undefined ? "" : (cents / 100).toFixed(2).replace(".", ","));

let seq = 0;

/** One input for ``target[name]`` of the given type; ``changed`` runs after every valid change. */
export function control(target, spec, prefix, changed) {
  const [name, type, options, optionPrefix, required] = spec;
  if (type === "list") return list(target, spec, prefix, changed);
  if (type === "multi") return multi(target, spec, prefix, changed);
  // A choice the organisation's country does not know (an Austrian team has no German notice kinds): not shown.
  if (type === "enum" && !offered(optionPrefix, options, target[name]).length) return null;
  const id = `f${++seq}-${name}`;
  const label = h("label", { for: id }, t(`field.${prefix}.${name}`));
  const value = target[name];
  let input;
  const set = (v) => {
    target[name] = v;
    changed();
  };
  switch (type) {
    case "text":
      input = h("textarea", { id, rows: 3, value: value || "", oninput: () => set(input.value) });
      break;
    case "short":
      input = h("input", { id, value: value || "", maxlength: 200, required: Boolean(required), list: options || null, oninput: () => set(input.value) });
      break;
    case "count":
    case "age":
      input = h("input", {
        id,
        type: "number",
        inputmode: "numeric",
        min: 0,
        max: type === "count" ? 50 : 120,
        value: value ?? "",
        oninput: () => {
          const number = input.value === "" ? null : Number(input.value);
          const ok = number === null || (Number.isInteger(number) && number >= 0 && number <= Number(input.max));
          input.setAttribute("aria-invalid", String(!ok));
          if (ok) set(number);
        },
      });
      break;
    case "cents":
      input = h("input", {
        id,
        inputmode: "decimal",
        class: "money",
        value: centsText(value),
        placeholder: "0,00",
        oninput: () => {
          const cents = parseCents(input.value);
          const ok = !Number.isNaN(cents);
          input.setAttribute("aria-invalid", String(!ok));
          if (ok) set(cents);
        },
      });
      break;
    case "date":
      input = dateField({ id, value: value || "", required: Boolean(required), onchange: () => set(input.value || null) });
      break;
    case "moment":
      input = momentField({ id, value: value ? toLocalInput(value) : "", onchange: () => set(input.value ? fromLocalInput(input.value) : null) });
      break;
    case "tri":
      input = h(
        "select",
        { id, onchange: () => set(input.value === "" ? null : input.value === "yes") },
        h("option", { value: "", selected: value == null }, t("common.unknown")),
        h("option", { value: "yes", selected: value === true }, t("common.yes")),
        h("option", { value: "no", selected: value === false }, t("common.no")),
      );
      break;
    case "check":
      return h("label", { class: "check" }, h("input", { type: "checkbox", checked: Boolean(value), onchange: (e) => set(e.target.checked) }), t(`field.${prefix}.${name}`));
    case "enum":
      input = h(
        "select",
        { id, onchange: () => set(input.value || null) },
        required || prefix.includes(".") ? null : h("option", { value: "" }, "–"), // list rows always name a value
        offered(optionPrefix, options, value).map((o) => h("option", { value: o, selected: value === o }, t(`${optionPrefix}.${o}`))),
      );
      break;
    case "lines":
      input = h("textarea", {
        id,
        rows: 2,
        value: (value || []).join("\n"),
        "aria-describedby": `${id}-hint`,
        oninput: () => set(input.value.split("\n").map((s) => s.trim()).filter(Boolean)),
      });
      return h("div", { class: "field" }, label, input, h("p", { id: `${id}-hint`, class: "hint" }, t("common.one_per_line")));
    default:
      throw new Error(`unknown field type ${type}`);
  }
  return h("div", { class: `field field-${type}` }, label, input);
}

export function multi(target, [name, , options, optionPrefix], prefix, changed) {
  const chosen = new Set(target[name] || []);
  return h(
    "fieldset",
    { class: "choices multi" },
    h("legend", {}, t(`field.${prefix}.${name}`)),
    offered(optionPrefix, options, [...chosen]).map((o) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          checked: chosen.has(o),
          onchange: (e) => {
            if (e.target.checked) chosen.add(o);
            else chosen.delete(o);
            target[name] = options.filter((x) => chosen.has(x));
            changed();
          },
        }),
        t(`${optionPrefix}.${o}`),
      ),
    ),
  );
}

/** Rows of sub-fields (income items, budget lines, creditors), with add and remove. */
function list(target, [name, , fields], prefix, changed) {
  target[name] = target[name] || [];
  const rows = target[name];
  const box = h("div", { class: "rows" });
  const draw = () => {
    fill(
      box,
      rows.map((row, i) =>
        h(
          "div",
          { class: "list-row" },
          fields.map((spec) => control(row, spec, `${prefix}.${name}`, changed)),
          h(
            "button",
            {
              type: "button",
              class: "secondary small",
              "aria-label": t("common.remove_row", { n: i + 1 }),
              onclick: () => {
                rows.splice(i, 1);
                draw();
                changed();
              },
            },
            t("common.remove"),
          ),
        ),
      ),
    );
  };
  draw();
  return h(
    "fieldset",
    { class: "list" },
    h("legend", {}, t(`field.${prefix}.${name}`)),
    box,
    h(
      "button",
      {
        type: "button",
        class: "secondary small",
        onclick: () => {
          rows.push(defaults(fields));
          draw();
          changed();
        },
      },
      t("common.add_row", { what: t(`field.${prefix}.${name}`) }),
    ),
  );
}

function defaults(fields) {
  const row = {};
  for (const [name, type, options] of fields) {
    if (type === "cents") row[name] = 0;
    else if (type === "check") row[name] = false;
    else if (type === "enum") row[name] = options[options.length - 1];
    else if (type === "short") row[name] = "";
    else row[name] = null;
  }
  return row;
}
