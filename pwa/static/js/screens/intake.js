// "Neuer Fall": take on a household and its case at the door, offline; and "Fall bearbeiten" with the same form.
// A worker takes on cases for themselves; a supervisor chooses the worker. When online, the address and the tenants'
// names are checked against the team's open cases (the server answers from a keyed blind index, never the clear
// values). What is typed is kept as an encrypted draft, so a lock or a reload loses nothing.
import { offered } from "../country.js";
import { nowMs } from "../clock.js";
import { dateField, momentField } from "../datefield.js";
import { api } from "../api.js";
import * as data from "../data.js";
import { keeper } from "../drafts.js";
import { ENUMS } from "../enums.js";
import { t } from "../i18n.js";
import { append, debounce, fromLocalInput, h, toLocalInput, toast, today, uuid7 } from "../ui.js";
import { centsText, parseCents } from "../panels/forms.js";

// A new case's draft, or the draft of changes to an existing one.
const draftId = (kase) => (kase ? `intake:${kase.id}` : "intake");
const MEMBER = { name: "", relation: "tenant", birth_year: "" };

export async function renderNew(main, _params, app) {
  const draft = (await data.drafts.get(draftId(null))) || {};
  await form(main, app, { kase: null, household: null, draft });
}

export async function renderEdit(main, [caseId], app) {
  const records = (await data.caseRecords(caseId)).filter((r) => !r.deleted);
  const kase = records.find((r) => r.kind === "case");
  if (!kase) {
    append(main, h("h2", {}, t("case.missing")), h("a", { href: "#/faelle", class: "button" }, t("nav.cases")));
    return;
  }
  const household = records.find((r) => r.id === kase.fields.household_id) || records.find((r) => r.kind === "household") || null;
  await form(main, app, { kase, household, draft: (await data.drafts.get(draftId(kase))) || {} });
}

/** The form's values, from a draft or from the records being edited. */
function initial(kase, household, draft) {
  const hf = household?.fields || {};
  const cf = kase?.fields || {};
  const a = hf.address || {};
  return {
    name: hf.name || "",
    members: (hf.members || []).map((m) => ({ ...MEMBER, ...m, birth_year: m.birth_year ?? "" })),
    street: a.street || "",
    house_number: a.house_number || "",
    unit: a.unit || "",
    postcode: a.postcode || "",
    city: a.city || "",
    phone: hf.phone || "",
    email: hf.email || "",
    landlord: hf.landlord || "",
    net_rent: centsText(hf.net_rent_cents),
    service_charges: centsText(hf.service_charges_cents),
    heating: centsText(hf.heating_cents),
    tenancy_start: hf.tenancy_start || "",
    payment_method: hf.payment_method || "",
    type: cf.type || "rent_arrears",
    trigger: cf.trigger || "",
    trigger_on: cf.trigger_on || "",
    ...Object.fromEntries(STATISTICS.map(({ name }) => [name, cf[name] == null ? "" : String(cf[name])])),
    risk: cf.risk || "medium",
    risk_reason: cf.risk_reason || "",
    title: cf.title || "",
    summary: cf.summary || "",
    worker: cf.assigned_worker_id || "",
    contact: false,
    channel: "phone",
    direction: "outgoing",
    reached: true,
    at: toLocalInput(),
    duration: "",
    contact_note: "",
    ...draft,
  };
}

async function form(main, app, { kase, household, draft }) {
  const editing = Boolean(kase);
  const v = initial(kase, household, draft);
  if (!v.members.length) v.members.push({ ...MEMBER });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const warning = h("div", { id: "duplicate-warning", role: "status", "aria-live": "polite" });
  const draftKeeper = keeper(draftId(kase), () => read());
  const keep = draftKeeper.keep;

  const field = (name, label, attrs = {}) => {
    const id = `in-${name}`;
    const input = attrs.rows
      ? h("textarea", { id, name, rows: attrs.rows, value: v[name] })
      : h("input", { id, name, value: v[name], ...attrs });
    if (attrs.rows) input.value = v[name];
    return h("div", { class: attrs.wide ? "wide" : "" }, h("label", { for: id }, label), input);
  };
  const choice = (name, label, values, prefix, optional = false) =>
    h(
      "div",
      {},
      h("label", { for: `in-${name}` }, label),
      h(
        "select",
        { id: `in-${name}`, name },
        optional ? h("option", { value: "" }, t("intake.none")) : null,
        offered(prefix, values, v[name]).map((value) => h("option", { value, selected: v[name] === value }, t(`${prefix}.${value}`))),
      ),
    );

  const members = h("div", { id: "members" });
  const drawMembers = () =>
    members.replaceChildren(
      ...v.members.map((m, i) =>
        h(
          "div",
          { class: "row member" },
          h("div", {}, h("label", { for: `m-name-${i}` }, t("intake.member_name", { n: i + 1 })), h("input", { id: `m-name-${i}`, value: m.name, maxlength: 200, oninput: (e) => ((m.name = e.target.value), changed()) })),
          h(
            "div",
            {},
            h("label", { for: `m-rel-${i}` }, t("intake.member_role")),
            h("select", { id: `m-rel-${i}`, onchange: (e) => ((m.relation = e.target.value), changed()) }, ENUMS.relation.map((r) => h("option", { value: r, selected: m.relation === r }, t(`relation.${r}`)))),
          ),
          h("div", {}, h("label", { for: `m-year-${i}` }, t("intake.member_year")), h("input", { id: `m-year-${i}`, value: m.birth_year, inputmode: "numeric", maxlength: 4, oninput: (e) => ((m.birth_year = e.target.value), changed()) })),
          h("button", { type: "button", class: "secondary small", "aria-label": t("common.remove_row", { n: i + 1 }), onclick: () => (v.members.splice(i, 1), drawMembers(), changed()) }, t("common.remove")),
        ),
      ),
    );
  drawMembers();

  const read = () => {
    const values = { ...v, members: v.members.map((m) => ({ ...m })) };
    for (const el of main.querySelectorAll("[name]")) values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    return values;
  };
  const checkDuplicates = debounce(async () => {
    if (editing || !navigator.onLine) return;
    const now = read();
    const names = now.members.filter((m) => m.relation === "tenant" && m.name.trim()).map((m) => m.name);
    if (!(now.street && now.house_number) && !names.length) return warning.replaceChildren();
    try {
      const answer = await api("POST", "/api/cases/duplicates", { street: now.street, house_number: now.house_number, postcode: now.postcode, names });
      warning.replaceChildren(...duplicateWarning(answer.matches, app));
    } catch {
      warning.replaceChildren(h("p", { class: "muted" }, t("intake.duplicates_unchecked")));
    }
  }, 600);
  const changed = () => {
    keep();
    checkDuplicates();
  };

  const workers = [...app.users.entries()].filter(([id]) => app.activeUsers?.has(id) ?? true).sort((a, b) => a[1].localeCompare(b[1]));
  const submit = async (event) => {
    event.preventDefault();
    const values = read();
    const problem = check(values, kase);
    error.hidden = !problem;
    error.textContent = problem || "";
    if (problem) return error.scrollIntoView({ block: "center" });
    const caseId = kase ? kase.id : uuid7();
    const householdId = household ? household.id : uuid7();
    const householdFields = {
      name: values.name.trim(),
      members: values.members.filter((m) => m.name.trim()).map((m) => ({ name: m.name.trim(), relation: m.relation, birth_year: m.birth_year ? Number(m.birth_year) : null, dependant: m.relation === "child" })),
      address: { street: values.street.trim(), house_number: values.house_number.trim(), unit: values.unit.trim(), postcode: values.postcode.trim(), city: values.city.trim() },
      phone: values.phone.trim(),
      email: values.email.trim(),
      landlord: values.landlord.trim(),
      net_rent_cents: parseCents(values.net_rent) || 0,
      service_charges_cents: parseCents(values.service_charges) || 0,
      heating_cents: parseCents(values.heating) || 0,
      tenancy_start: values.tenancy_start || null,
      payment_method: values.payment_method || null,
    };
    const caseFields = {
      type: values.type,
      trigger: values.trigger || null,
      trigger_on: values.trigger_on || null,
      ...Object.fromEntries(STATISTICS.map(({ name, number }) => [name, values[name] === "" ? null : number ? Number(values[name]) : values[name]])),
      risk: values.risk,
      risk_reason: values.risk_reason.trim(),
      title: values.title.trim() || `${t(`case_type.${values.type}`, {}, values.type, "de")} ${values.name.trim()}`,
      summary: values.summary.trim(),
    };
    if (editing) {
      await data.save("case", caseId, caseId, onlyChanged(caseFields, kase.fields));
      if (household) await data.save("household", householdId, caseId, onlyChanged(householdFields, household.fields));
      else await data.create("household", caseId, householdFields, householdId);
      if (!kase.fields.household_id) await data.save("case", caseId, caseId, { household_id: householdId });
      toast(t("intake.updated"));
      return app.navigate(`#/fall/${caseId}`);
    }
    const worker = app.isSupervisor() ? values.worker || null : app.owner.id;
    await data.create(
      "case",
      caseId,
      { ...caseFields, team_id: app.owner.team_id, assigned_worker_id: worker, status: "open", household_id: householdId, opened_on: today() },
      caseId,
    );
    await data.create("household", caseId, householdFields, householdId);
    if (values.contact) {
      await data.create("contact", caseId, {
        channel: values.channel,
        direction: values.direction,
        reached: values.reached,
        at: fromLocalInput(values.at),
        duration_minutes: values.duration ? Number(values.duration) : null,
        summary: values.contact_note.trim(),
      });
    }
    await draftKeeper.drop();
    toast(t("intake.saved"));
    app.navigate(`#/fall/${caseId}`);
  };

  append(
    main,
    h("h2", {}, editing ? t("intake.edit_title") : t("intake.title")),
    editing ? null : h("p", { class: "lead" }, t("intake.lead")),
    h(
      "form",
      { class: "card intake-form", id: "intake", onsubmit: submit, oninput: changed, onchange: changed, novalidate: true },
      h("h3", {}, t("intake.household")),
      h("div", { class: "row" }, field("name", t("intake.household_name"), { required: true, maxlength: 200, wide: true })),
      h("h4", {}, t("intake.members")),
      members,
      h("button", { type: "button", class: "secondary small", onclick: () => (v.members.push({ ...MEMBER, relation: "other" }), drawMembers()) }, t("intake.add_member")),
      h("h4", {}, t("intake.address")),
      h(
        "div",
        { class: "row" },
        field("street", t("intake.street"), { maxlength: 200, autocomplete: "off" }),
        field("house_number", t("intake.house_number"), { maxlength: 20 }),
        field("unit", t("intake.unit"), { maxlength: 50 }),
        field("postcode", t("intake.postcode"), { maxlength: 10, inputmode: "numeric" }),
        field("city", t("intake.city"), { maxlength: 200 }),
      ),
      warning,
      h(
        "div",
        { class: "row" },
        field("phone", t("intake.phone"), { type: "tel", maxlength: 40 }),
        field("email", t("intake.email"), { type: "email", maxlength: 200 }),
        field("landlord", t("intake.landlord"), { maxlength: 200 }),
      ),
      h("h4", {}, t("intake.tenancy")),
      h(
        "div",
        { class: "row" },
        field("net_rent", t("intake.net_rent"), { inputmode: "decimal" }),
        field("service_charges", t("intake.service_charges"), { inputmode: "decimal" }),
        field("heating", t("intake.heating"), { inputmode: "decimal" }),
        h("div", {}, h("label", { for: "in-tenancy_start" }, t("intake.tenancy_start")), dateField({ id: "in-tenancy_start", name: "tenancy_start", value: v.tenancy_start })),
        choice("payment_method", t("intake.payment_method"), ENUMS.payment_method, "payment_method", true),
      ),
      h("h3", {}, t("intake.case")),
      h(
        "div",
        { class: "row" },
        choice("type", t("intake.type"), ENUMS.case_type, "case_type"),
        choice("trigger", t("intake.trigger"), ENUMS.trigger, "trigger", true),
        h("div", {}, h("label", { for: "in-trigger_on" }, t("field.case.trigger_on")), dateField({ id: "in-trigger_on", name: "trigger_on", value: v.trigger_on, max: today() })),
        choice("risk", t("intake.risk"), [...ENUMS.risk], "risk"),
        app.isSupervisor() && !editing
          ? h(
              "div",
              {},
              h("label", { for: "in-worker" }, t("intake.worker")),
              h("select", { id: "in-worker", name: "worker" }, h("option", { value: "" }, t("user.nobody")), workers.map(([id, name]) => h("option", { value: id, selected: v.worker === id }, name))),
            )
          : null,
      ),
      field("risk_reason", t("intake.risk_reason"), { maxlength: 2000, wide: true }),
      field("title", t("intake.case_title"), { maxlength: 200, placeholder: t("intake.title_hint") }),
      field("summary", t("intake.summary"), { rows: 3 }),
      // Asked once, for the Land's statistics; every answer may stay "keine Angabe" (counted as unknown).
      h(
        "details",
        { class: "statistics-fields", id: "statistics-fields", open: STATISTICS.some(({ name }) => v[name] !== "") },
        h("summary", {}, t("intake.statistics")),
        h("p", { class: "muted" }, t("intake.statistics_hint")),
        h("div", { class: "row" }, STATISTICS.map(({ name, prefix }) => choice(name, t(`field.case.${name}`), prefix === "children" ? CHILDREN : ENUMS[prefix], prefix, true))),
      ),
      editing ? null : firstContact(v),
      error,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", id: "save-intake" }, editing ? t("intake.save_changes") : t("intake.save")),
        h("a", { href: editing ? `#/fall/${kase.id}` : "#/faelle", class: "button secondary" }, t("common.back")),
      ),
    ),
  );
  checkDuplicates();
}

/** The statistics asked on the case: the field, the catalogue prefix of its choices, and whether it is a number.
 * @type {{ name: string, prefix: string, number: boolean }[]} */
const STATISTICS = [
  { name: "age_group", prefix: "age_group", number: false },
  { name: "gender", prefix: "gender", number: false },
  { name: "household_type", prefix: "household_type", number: false },
  { name: "children", prefix: "children", number: true },
  { name: "income_status", prefix: "income_status", number: false },
  { name: "nationality_group", prefix: "nationality_group", number: false },
  { name: "housing_at_start", prefix: "housing", number: false },
];
const CHILDREN = ["0", "1", "2", "3", "4", "5", "6"];

function firstContact(v) {
  const box = h("input", { type: "checkbox", id: "in-contact", name: "contact", checked: v.contact });
  const details = h(
    "div",
    { id: "first-contact", hidden: !v.contact },
    h(
      "div",
      { class: "row" },
      h("div", {}, h("label", { for: "in-channel" }, t("contact.channel")), h("select", { id: "in-channel", name: "channel" }, ENUMS.channel.map((c) => h("option", { value: c, selected: v.channel === c }, t(`channel.${c}`))))),
      h("div", {}, h("label", { for: "in-direction" }, t("contact.direction")), h("select", { id: "in-direction", name: "direction" }, ENUMS.direction.map((d) => h("option", { value: d, selected: v.direction === d }, t(`direction.${d}`))))),
      h("div", {}, h("label", { for: "in-at" }, t("contact.when")), momentField({ id: "in-at", name: "at", value: v.at })),
      h("div", {}, h("label", { for: "in-duration" }, t("contact.duration")), h("input", { id: "in-duration", name: "duration", inputmode: "numeric", value: v.duration, maxlength: 4 })),
    ),
    h("label", { class: "check" }, h("input", { type: "checkbox", id: "in-reached", name: "reached", checked: v.reached }), t("contact.reached")),
    h("label", { for: "in-contact-note" }, t("contact.note")),
    h("input", { id: "in-contact-note", name: "contact_note", value: v.contact_note, maxlength: 2000 }),
  );
  box.addEventListener("change", () => (details.hidden = !box.checked));
  return h("fieldset", { class: "choices" }, h("legend", {}, t("intake.first_contact")), h("label", { class: "check" }, box, t("intake.record_first_contact")), details);
}

/** What is missing or wrong, in the worker's words; null when the form can be saved. */
function check(values, kase) {
  if (!values.name.trim()) return t("intake.needs_name");
  for (const m of values.members) if (m.birth_year && !/^(19|20)\d\d$/.test(String(m.birth_year))) return t("intake.bad_year", { name: m.name || "?" });
  for (const name of ["net_rent", "service_charges", "heating"]) if (Number.isNaN(parseCents(values[name]))) return t("intake.bad_amount", { what: t(`intake.${name}`) });
  if (kase && values.risk !== kase.fields.risk && !values.risk_reason.trim()) return t("intake.risk_needs_reason");
  if (values.contact) {
    if (!values.at) return t("contact.needs_time");
    if (new Date(values.at) > new Date(nowMs() + 60_000)) return t("contact.not_future");
    if (values.duration && !/^\d{1,4}$/.test(values.duration)) return t("contact.bad_duration");
  }
  return null;
}

function onlyChanged(fields, stored) {
  return Object.fromEntries(Object.entries(fields).filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(stored[name] ?? (typeof value === "string" ? "" : null))));
}

/** "Possibly already supported": who is responsible, and the case if it is this user's to open. */
function duplicateWarning(matches, app) {
  if (!matches.length) return [h("p", { class: "muted", id: "no-duplicates" }, t("intake.no_duplicates"))];
  return [
    h(
      "div",
      { class: "banner-inline warn", id: "duplicates" },
      h("strong", {}, t("intake.duplicate_title")),
      h(
        "ul",
        { class: "plain" },
        matches.map((m) =>
          h(
            "li",
            {},
            t(`intake.duplicate_${m.reason}`, { name: app.userName(m.responsible_id) }),
            m.case_id ? h("span", {}, " · ", h("a", { href: `#/fall/${m.case_id}` }, t("intake.open_case"))) : null,
          ),
        ),
      ),
      h("p", { class: "muted" }, t("intake.duplicate_explain")),
    ),
  ];
}
