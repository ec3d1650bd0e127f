// "Einschätzung": the twelve-section living-situation assessment (docs/domain.md), one section at a time, each section
// saved as it is filled in (a section is one field of the record, so two devices editing different sections
// never conflict). The monthly balance is computed while typing.
import { stamp } from "../clock.js";
import * as data from "../data.js";
import { t } from "../i18n.js";
import * as legal from "../legal.js";
import { append, day, debounce, fill, h, money, syncChip, uuid7 } from "../ui.js";
import { control, multi } from "../panels/forms.js";
import { DOCUMENTS, SECTIONS } from "../formfields.js";

const FORM_VERSION = 2;

// What version 2 no longer asks, because the case's records hold it (server/records/assessment.py): shown and linked.
const LINKED = {
  housing: ["net_rent_cents", "service_charges_cents", "heating_cents", "tenancy_since"],
  arrears: ["notice_received_on", "lawsuit_filed_on", "court_date", "eviction_date"],
  benefits: ["applied"],
  risk: ["next_deadline", "consents_given"],
};

/** The questions of a section under a form version (version 1 answers stay readable as they were asked). */
function questions(name, version) {
  const linked = version >= 2 ? LINKED[name] || [] : [];
  return SECTIONS[name].filter(([field]) => !linked.includes(field));
}

const SECTION_NAMES = Object.keys(SECTIONS);

export async function render(main, [caseId, section], app) {
  const records = await data.caseRecords(caseId);
  const kase = records.find((r) => r.kind === "case");
  const assessment = data.latestAssessment(records);
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

  const version = values.form_version && editable ? values.form_version : FORM_VERSION;
  if (!editable && version >= 2) dropLinked(values);
  const sectionValue = (values[current] = values[current] || {});
  const body = h(
    "div",
    { class: "section-body" },
    version >= 2 ? await linkedRecords(current, caseId, records) : null,
    version >= 2 ? earlierAnswers(current, assessment) : null,
    questions(current, version).map((spec) => control(sectionValue, spec, current, onChange)),
  );
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
    await persist({ completed_at: stamp() });
    app.navigate(`#/fall/${caseId}`);
  };

  append(
    main,
    h("h2", {}, t("assessment.title")),
    h(
      "p",
      { class: "lead" },
      h("a", { href: `#/fall/${caseId}` }, kase ? kase.fields.title : ""),
      " · ",
      assessment?.fields.completed_at && !editable ? t("assessment.new_from_last") : t("assessment.form_version", { n: version }),
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
                {
                  href: `#/einschaetzung/${caseId}/${name}`,
                  "aria-current": name === current ? "step" : null,
                  class: filled(values[name]) ? "done" : "",
                  // Like Weiter and Zurück: the section's last edit is saved first, so the next one (the budget's
                  // balance) is computed from it.
                  onclick: (event) => {
                    event.preventDefault();
                    return go(name)();
                  },
                },
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


/** Carrying version 1 answers into a version 2 assessment: what the records hold is not copied. */
function dropLinked(values) {
  for (const [section, names] of Object.entries(LINKED)) {
    if (!values[section]) continue;
    values[section] = { ...values[section] };
    for (const name of names) delete values[section][name];
  }
}

/** What the case's records say for this section, each linked to where it is kept (version 2). */
async function linkedRecords(section, caseId, records) {
  if (!LINKED[section]) return null;
  const live = (kind) => records.filter((r) => r.kind === kind && !r.deleted);
  const kase = records.find((r) => r.kind === "case");
  const item = (href, text) => h("li", {}, h("a", { href }, text));
  const box = (title, items, add) =>
    h(
      "div",
      { class: "linked", "data-linked": section },
      h("h4", {}, title),
      items.length ? h("ul", { class: "plain" }, items) : h("p", { class: "muted" }, t("assessment.linked_none")),
      add ? h("a", { href: add, class: "button small secondary" }, t("assessment.linked_add")) : null,
    );
  if (section === "housing") {
    const household = live("household").find((x) => x.id === kase?.fields.household_id) || live("household")[0];
    const f = household?.fields || {};
    const rent = [
      f.net_rent_cents ? `${t("intake.net_rent")}: ${money(f.net_rent_cents)}` : null,
      f.service_charges_cents ? `${t("intake.service_charges")}: ${money(f.service_charges_cents)}` : null,
      f.heating_cents ? `${t("intake.heating")}: ${money(f.heating_cents)}` : null,
      f.tenancy_start ? `${t("intake.tenancy_start")}: ${day(f.tenancy_start)}` : null,
    ].filter(Boolean);
    return box(t("assessment.linked_housing"), rent.map((text) => item(`#/fall/${caseId}/bearbeiten`, text)), `#/fall/${caseId}/bearbeiten`);
  }
  if (section === "arrears") {
    const events = live("legal_event").sort((a, b) => (legal.eventDay(a.fields) || "").localeCompare(legal.eventDay(b.fields) || ""));
    return box(
      t("assessment.linked_legal"),
      events.map((e) => item(`#/fall/${caseId}/legal_event/${e.id}`, `${t(`legal.${e.fields.type}`)}: ${day(legal.eventDay(e.fields))}`)),
      `#/fall/${caseId}/legal_event/neu`,
    );
  }
  if (section === "benefits") {
    return box(
      t("assessment.linked_benefits"),
      live("benefit_application").map((a) => item(`#/fall/${caseId}/benefit_application/${a.id}`, `${t(`benefit.${a.fields.kind}`)}: ${t(`decision.${a.fields.decision}`)}`)),
      `#/fall/${caseId}/benefit_application/neu`,
    );
  }
  const deadlines = kase ? (await legal.forCase(kase, records)).filter((d) => !d.done && !d.unavailable) : [];
  const consents = live("consent");
  return h(
    "div",
    {},
    box(t("assessment.linked_deadlines"), deadlines.slice(0, 3).map((d) => item(`#/fall/${caseId}`, `${d.label}: ${day(d.due_on)}`)), null),
    box(
      t("assessment.linked_consents"),
      consents.map((c) => item(`#/fall/${caseId}/consent/${c.id}`, `${c.fields.purpose}${c.fields.withdrawn_on ? ` (${t("assessment.withdrawn")})` : ""}`)),
      `#/fall/${caseId}/consent/neu`,
    ),
  );
}

/** Answers a version 1 assessment gave to what version 2 takes from the records: still shown, read-only. */
function earlierAnswers(section, assessment) {
  const old = assessment?.fields;
  if (!old || old.form_version !== 1 || !old[section] || !LINKED[section]) return null;
  const shown = (value) => {
    if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? `${t(`benefit.${v.kind}`, {}, v.kind || "")} ${v.monthly_cents != null ? money(v.monthly_cents) : ""}` : v)).join(", ");
    if (typeof value === "number") return money(value);
    return /^\d{4}-\d{2}-\d{2}$/.test(String(value)) ? day(value) : String(value);
  };
  const items = LINKED[section]
    .filter((name) => old[section][name] !== null && old[section][name] !== undefined && !(Array.isArray(old[section][name]) && !old[section][name].length))
    .map((name) => h("li", {}, `${t(`field.${section}.${name}`)}: ${shown(old[section][name])}`));
  if (!items.length) return null;
  return h("div", { class: "linked", "data-earlier": section }, h("h4", {}, t("assessment.earlier_answers")), h("ul", { class: "plain" }, items));
}
