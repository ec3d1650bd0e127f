// "Einschätzung": the twelve-section living-situation assessment (DOMAIN.md), one section at a time, each section
// saved as it is filled in (a section is one field of the record, so two devices editing different sections
// never conflict). The monthly balance is computed while typing.
import * as data from "../data.js";
import { t } from "../i18n.js";
import { append, debounce, fill, h, money, syncChip, uuid7 } from "../ui.js";

export const FORM_VERSION = 1;

const INCOME_SOURCES = ["wages", "pension", "unemployment_benefit", "citizens_income", "child_benefit", "maintenance", "other"];
const BENEFIT_KINDS = ["wohngeld", "wohnbeihilfe", "kdu_direct_payment", "debt_takeover_loan", "debt_takeover_grant", "wohnschirm_rent", "wohnschirm_energy", "other"];
const CREDITOR_KINDS = ["landlord", "energy", "bank", "public", "telecom", "other"];
const CAUSES = ["job_loss", "illness", "separation", "partner_death", "benefit_delay", "debt", "other"];
const DOCUMENTS = ["id", "registration", "lease", "energy_bill", "income_proofs", "landlord_letters", "court_letters"];
const RISKS = ["low", "medium", "high", "acute"];

const budgetLine = [["label", "short"], ["monthly_cents", "cents"], ["priority", "check"]];
const benefitItem = [["kind", "enum", BENEFIT_KINDS, "benefit"], ["monthly_cents", "cents"], ["applied_on", "date"]];

// [field, type, options, label prefix]; types: count, age, cents, date, tri (yes/no/unknown), text, short, enum,
// multi (a set of enum values), lines (a list of short strings), list (rows of sub-fields), check.
export const SECTIONS = {
  household: [["adults", "count"], ["children", "count"], ["dependants", "count"], ["youngest_age", "age"], ["oldest_age", "age"], ["notes", "text"]],
  housing: [["net_rent_cents", "cents"], ["service_charges_cents", "cents"], ["heating_cents", "cents"], ["main_residence_registered", "tri"], ["tenancy_since", "date"], ["notes", "text"]],
  arrears: [
    ["rent_arrears_cents", "cents"],
    ["service_charge_arrears_cents", "cents"],
    ["court_costs_cents", "cents"],
    ["lawyer_costs_cents", "cents"],
    ["notice_received_on", "date"],
    ["lawsuit_filed_on", "date"],
    ["court_date", "date"],
    ["eviction_date", "date"],
    ["notes", "text"],
  ],
  income: [["items", "list", [["member", "short"], ["source", "enum", INCOME_SOURCES, "income_source"], ["monthly_cents", "cents"], ["proof_seen", "check"]]]],
  benefits: [["received", "list", benefitItem], ["applied", "list", benefitItem]],
  budget: [["fixed", "list", budgetLine], ["variable", "list", budgetLine]],
  debts: [["creditors", "list", [["name", "short"], ["amount_cents", "cents"], ["kind", "enum", CREDITOR_KINDS, "creditor"]]], ["garnishment", "tri"], ["protected_account", "tri"], ["notes", "text"]],
  energy: [["arrears_cents", "cents"], ["supplier", "short"], ["disconnection", "enum", ["none", "threatened", "done"], "disconnection"], ["notes", "text"]],
  cause: [["causes", "multi", CAUSES, "cause"], ["details", "text"]],
  health: [["notes", "text"], ["domestic_violence", "tri"], ["services_involved", "lines"]],
  neighbourhood: [["complaints", "tri"], ["conflict_parties", "text"]],
  risk: [["risk", "enum", RISKS, "risk"], ["next_deadline", "date"], ["consents_given", "lines"], ["notes", "text"]],
};
export const SECTION_NAMES = Object.keys(SECTIONS);

/** "1.234,56" or "1234.56" or "1234" -> cents; empty -> null; anything else -> NaN. */
export function parseCents(text) {
  const cleaned = String(text).replace(/[\s€]/g, "");
  if (!cleaned) return null;
  const normal = cleaned.includes(",") ? cleaned.replace(/\./g, "").replace(",", ".") : cleaned;
  if (!/^\d+(\.\d{1,2})?$/.test(normal)) return Number.NaN;
  return Math.round(Number(normal) * 100);
}

const centsText = (cents) => (cents === null || cents === undefined ? "" : (cents / 100).toFixed(2).replace(".", ","));

export async function render(main, [caseId, section], app) {
  const records = await data.caseRecords(caseId);
  const kase = records.find((r) => r.kind === "case");
  let assessment = data.latestAssessment(records);
  const current = SECTION_NAMES.includes(section) ? section : "household";
  const states = await data.syncStates();
  // A completed assessment is read as it was; a new one starts from its answers (the form version stays).
  const editable = assessment && !assessment.fields.completed_at ? assessment : null;
  const id = editable ? editable.id : uuid7();
  const values = structuredClone(assessment?.fields || {});
  const status = h("p", { class: "muted autosave", role: "status", "aria-live": "polite" });
  const balanceBox = h("div", { class: "balance", role: "status", "aria-live": "polite" });

  const showBalance = () => {
    const { income, expenses, balance } = data.monthlyBalance(values);
    fill(
      balanceBox,
      h("span", {}, `${t("budget.income")}: ${money(income)}`),
      h("span", {}, `${t("budget.expenses")}: ${money(expenses)}`),
      h("strong", { id: "balance", class: balance < 0 ? "negative" : "positive" }, `${t("budget.balance")}: ${money(balance)}`),
    );
  };

  let created = Boolean(editable);
  const persist = async (fields) => {
    if (!created) {
      fields = { form_version: FORM_VERSION, ...carryOver(values), ...fields };
      created = true;
    }
    await data.save("assessment", id, caseId, fields);
    status.textContent = t("assessment.saved");
  };
  const saveSection = debounce(async () => {
    const errors = main.querySelectorAll("[aria-invalid=true]");
    if (errors.length) {
      status.textContent = t("assessment.fix_first");
      return;
    }
    const fields = { [current]: values[current] || {} };
    if (current === "risk") fields.documents = values.documents || [];
    await persist(fields);
  }, 500);

  const onChange = () => {
    showBalance();
    saveSection();
  };

  const sectionValue = (values[current] = values[current] || {});
  const body = h("div", { class: "section-body" }, SECTIONS[current].map((spec) => control(sectionValue, spec, current, onChange)));
  if (current === "risk") {
    values.documents = values.documents || [];
    body.append(multi(values, ["documents", "multi", DOCUMENTS, "document"], "risk", onChange));
  }
  const index = SECTION_NAMES.indexOf(current);
  const go = (name) => async () => {
    await saveSection.flush();
    app.navigate(`#/einschaetzung/${caseId}/${name}`);
  };
  const complete = async () => {
    await saveSection.flush();
    await persist({ completed_at: new Date().toISOString() });
    app.navigate(`#/fall/${caseId}`);
  };

  append(main, 
    h("h2", {}, t("assessment.title")),
    h(
      "p",
      { class: "lead" },
      h("a", { href: `#/fall/${caseId}` }, kase ? kase.fields.title : ""),
      " · ",
      assessment?.fields.completed_at && !editable ? t("assessment.new_from_last") : t("assessment.form_version", { n: values.form_version || FORM_VERSION }),
      editable && states.has(editable.id) ? syncChip(states.get(editable.id)) : null,
    ),
    h(
      "div",
      { class: "assessment" },
      h(
        "nav",
        { class: "sections", "aria-label": t("assessment.sections") },
        h(
          "ol",
          {},
          SECTION_NAMES.map((name, i) =>
            h(
              "li",
              {},
              h(
                "a",
                { href: `#/einschaetzung/${caseId}/${name}`, "aria-current": name === current ? "step" : null, class: filled(values[name]) ? "done" : "" },
                `${i + 1}. ${t(`section.${name}`)}`,
              ),
            ),
          ),
        ),
      ),
      h(
        "section",
        { class: "card section", "aria-labelledby": "section-title" },
        h("h3", { id: "section-title" }, `${index + 1}. ${t(`section.${current}`)}`),
        body,
        balanceBox,
        status,
        h(
          "div",
          { class: "actions" },
          index > 0 ? h("button", { type: "button", class: "secondary", onclick: go(SECTION_NAMES[index - 1]) }, t("assessment.previous")) : null,
          index < SECTION_NAMES.length - 1
            ? h("button", { type: "button", onclick: go(SECTION_NAMES[index + 1]) }, t("assessment.next"))
            : h("button", { type: "button", id: "complete-assessment", onclick: complete }, t("assessment.complete")),
        ),
      ),
    ),
  );
  showBalance();
}

/** A new assessment after a completed one starts with the earlier answers. */
function carryOver(values) {
  const copy = {};
  for (const name of [...SECTION_NAMES, "documents"]) if (values[name] !== undefined) copy[name] = values[name];
  return copy;
}

function filled(section) {
  return section && Object.values(section).some((v) => v !== null && v !== "" && !(Array.isArray(v) && v.length === 0));
}

let seq = 0;

/** One input for ``target[name]`` of the given type; ``changed`` runs after every valid change. */
function control(target, spec, prefix, changed) {
  const [name, type, options, optionPrefix] = spec;
  if (type === "list") return list(target, spec, prefix, changed);
  if (type === "multi") return multi(target, spec, prefix, changed);
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
      input = h("input", { id, value: value || "", maxlength: 200, oninput: () => set(input.value) });
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
      input = h("input", { id, type: "date", value: value || "", onchange: () => set(input.value || null) });
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
        prefix.includes(".") ? null : h("option", { value: "" }, "–"), // list rows always name a value
        options.map((o) => h("option", { value: o, selected: value === o }, t(`${optionPrefix}.${o}`))),
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

function multi(target, [name, , options, optionPrefix], prefix, changed) {
  const chosen = new Set(target[name] || []);
  return h(
    "fieldset",
    { class: "choices multi" },
    h("legend", {}, t(`field.${prefix}.${name}`)),
    options.map((o) =>
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
