// Case work between visits: one form for a legal event, an action, a benefit application, an installment
// agreement, a consent, a referral or a mediation (their panels on the case are in panels/casework.js; contacts,
// visits, closing and handover in panels/day.js). Every form writes through the outbox like a visit does, so all of
// it works offline.
import { benefitDefaults, preferred } from "../country.js";
import { dateField } from "../datefield.js";
import * as data from "../data.js";
import { keeper } from "../drafts.js";
import { ENUMS } from "../enums.js";
import { t } from "../i18n.js";
import { append, chip, day, h, moment, money, syncChip, toast, today, uuid7 } from "../ui.js";
import { control } from "../panels/forms.js";
import { FORMS } from "../formfields.js";
import { stateChip } from "../panels/casework.js";
import { documentsSection } from "../panels/documents.js";

// Services a referral is often made to, offered as suggestions (the catalogue's words; any other may be typed).
const SERVICES = () => t("referral.services").split(";");

const DEFAULTS = {
  legal_event: () => ({ type: preferred("legal", ENUMS.legal, "notice_to_quit"), dated_on: null }),
  action: () => ({ title: "", due_on: today(7), status: "open" }),
  benefit_application: () => {
    const kind = preferred("benefit", ENUMS.benefit, "wohngeld");
    return { kind, ...benefitDefaults(kind), decision: "pending", submitted_on: today() };
  },
  installment_agreement: () => ({ creditor: "landlord", status: "active", start_on: today(), total_cents: null, monthly_rate_cents: null }),
  consent: () => ({ purpose: "", given_on: today() }),
  referral: () => ({ service: "", status: "sent", sent_on: today() }),
  mediation: () => ({ topic: "", sessions: [], status: "open" }),
};

const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** ``#/fall/<case>/<kind>/<id or "neu">``: one record of case work, new or changed. */
export async function render(main, [caseId, kind, recordId], app) {
  const records = (await data.caseRecords(caseId)).filter((r) => !r.deleted);
  const kase = records.find((r) => r.kind === "case");
  if (!kase || !FORMS[kind]) {
    append(main, h("h2", {}, t("case.missing")), h("a", { href: "#/heute", class: "button" }, t("nav.today")));
    return;
  }
  const existing = recordId === "neu" ? null : records.find((r) => r.id === recordId);
  // What was typed and not saved (a lock, a sync's redraw, a reload came between) is put back over the record.
  const draftId = `work:${caseId}:${kind}:${recordId}`;
  const draft = await data.drafts.get(draftId);
  const id = existing ? existing.id : draft?.id || uuid7();
  const before = existing ? clone(existing.fields) : {};
  const values = Object.assign(existing ? clone(existing.fields) : DEFAULTS[kind](), draft?.values || {});
  const draftKeeper = keeper(draftId, () => ({ id, values: changedValues() }));
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const states = await data.syncStates();
  const extra = [];

  // In force: not withdrawn and not past the day it was given until.
  const consents = records.filter((r) => r.kind === "consent" && !r.fields.withdrawn_on && !(r.fields.valid_until && r.fields.valid_until < today()));
  if (kind === "referral") {
    extra.push(h("datalist", { id: "services" }, SERVICES().map((s) => h("option", { value: s }))));
    if (!existing && !consents.length) {
      // The rule the server enforces, said before the worker types anything.
      error.textContent = t("referral.needs_consent");
      error.hidden = false;
    }
    const select = h(
      "select",
      { id: "consent-id", required: true, onchange: () => (values.consent_id = select.value || null) },
      h("option", { value: "" }, "–"),
      records
        .filter((r) => r.kind === "consent" && ((!r.fields.withdrawn_on && !(r.fields.valid_until && r.fields.valid_until < today())) || r.id === values.consent_id))
        .map((c) => h("option", { value: c.id, selected: c.id === values.consent_id }, `${c.fields.purpose} (${day(c.fields.given_on)})`)),
    );
    if (!values.consent_id && consents.length === 1) {
      values.consent_id = consents[0].id;
      select.value = consents[0].id;
    }
    extra.push(h("div", { class: "field" }, h("label", { for: "consent-id" }, t("field.referral.consent_id")), select));
  }
  if (kind === "mediation") {
    const cases = (await data.kinds("case")).case.filter((c) => c.fields.status === "open" || (values.party_case_ids || []).includes(c.id));
    values.party_case_ids = values.party_case_ids || [caseId];
    const chosen = new Set(values.party_case_ids);
    extra.push(
      h(
        "fieldset",
        { class: "choices multi" },
        h("legend", {}, t("field.mediation.party_case_ids")),
        cases.map((c) =>
          h(
            "label",
            { class: "check" },
            h("input", {
              type: "checkbox",
              checked: chosen.has(c.id),
              onchange: (e) => {
                if (e.target.checked) chosen.add(c.id);
                else chosen.delete(c.id);
                values.party_case_ids = [...chosen];
              },
            }),
            c.fields.title,
          ),
        ),
        // Parties this device does not hold (another worker's case) stay referenced, never copied.
        values.party_case_ids.filter((pid) => !cases.some((c) => c.id === pid)).map(() => chip(t("mediation.other_party"), "neutral")),
      ),
    );
  }

  // A follow-up after a kept tenancy asks its one question; answering it settles the task.
  const specs = kind === "action" && values.follow_up ? [...FORMS.action, ["tenancy_held", "enum", ENUMS.tenancy_held, "tenancy_held"]] : FORMS[kind];
  const fields = h("div", { class: "section-body" }, specs.map((spec) => control(values, spec, kind, () => followKind())));
  // A new application's legal basis and agency follow its benefit while the worker has not changed them.
  let suggested = kind === "benefit_application" && !existing ? benefitDefaults(values.kind) : null;
  let suggestedFor = values.kind;
  const followKind = () => {
    if (!suggested || values.kind === suggestedFor) return;
    const next = benefitDefaults(values.kind);
    for (const [name, empty] of [["agency", ""], ["legal_basis", null]]) {
      if ((values[name] ?? empty) !== (suggested[name] ?? empty)) continue; // the worker's own choice stays
      values[name] = next[name] ?? empty;
      const input = /** @type {HTMLInputElement | null} */ (fields.querySelector(`[id$="-${name}"]`));
      if (input) input.value = values[name] ?? "";
    }
    suggested = next;
    suggestedFor = values.kind;
  };
  /** The fields that differ from the record (or, for a new one, that are set). */
  const changedValues = () => {
    const changed = {};
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) continue;
      if (!existing && value === null) continue;
      if (JSON.stringify(value) !== JSON.stringify(before[name])) changed[name] = value;
    }
    return changed;
  };
  const submit = async (event) => {
    event.preventDefault();
    error.hidden = true;
    const problem = check(kind, values, consents, existing);
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      return;
    }
    if (main.querySelector("[aria-invalid=true]")) {
      error.textContent = t("assessment.fix_first");
      error.hidden = false;
      return;
    }
    const changed = changedValues();
    if (kind === "action" && !existing) changed.owner_id = app.owner.id;
    if (kind === "action" && changed.tenancy_held && values.status === "open") Object.assign(changed, { status: "done", done_on: today() });
    if (!Object.keys(changed).length) {
      await draftKeeper.drop();
      return app.navigate(`#/fall/${caseId}`);
    }
    await data.save(kind, id, caseId, changed);
    await draftKeeper.drop();
    if (kind === "consent" && changed.withdrawn_on) await markReferrals(records, id);
    await data.followUps();
    toast(t("work.saved"));
    app.navigate(`#/fall/${caseId}`);
  };

  append(
    main,
    h("h2", {}, t(existing ? `work.edit.${kind}` : `work.new.${kind}`)),
    h("p", { class: "lead" }, h("a", { href: `#/fall/${caseId}` }, kase.fields.title), existing && states.has(id) ? [" ", syncChip(states.get(id))] : null),
    h(
      "form",
      { class: "card work-form", onsubmit: submit, novalidate: true, oninput: draftKeeper.keep, onchange: draftKeeper.keep },
      draft
        ? h(
            "p",
            { class: "muted autosave", role: "status", id: "draft-restored" },
            t("draft.restored"),
            " ",
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                id: "discard-draft",
                onclick: async () => {
                  await draftKeeper.drop();
                  app.refresh();
                },
              },
              t("draft.discard"),
            ),
          )
        : null,
      fields,
      extra,
      kind === "installment_agreement" && existing ? payments(existing, values, caseId, app) : null,
      error,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", id: "save-work" }, t("work.save")),
        kind === "consent" && existing && !existing.fields.withdrawn_on
          ? h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: async () => {
                  await data.save("consent", id, caseId, { withdrawn_on: today() });
                  await draftKeeper.drop();
                  const marked = await markReferrals(records, id);
                  toast(t("consent.withdrawn", { n: marked }));
                  app.navigate(`#/fall/${caseId}`);
                },
              },
              t("consent.withdraw"),
            )
          : null,
        h("a", { href: `#/fall/${caseId}`, class: "button secondary" }, t("common.back")),
      ),
    ),
  );
  await recordDocuments(main, kind, existing, records, app);
}

/** The files of a record that has them (a court letter on its legal event, a signed consent), below its form. */
async function recordDocuments(main, kind, existing, records, app) {
  if (!existing || !DOCUMENT_KINDS.has(kind)) return;
  const attachments = records.filter((r) => r.kind === "attachment" && r.fields.parent_id === existing.id);
  const title = kind === "legal_event" ? t(`legal.${existing.fields.type}`) : t(`kind.${kind}`);
  const signable = kind === "consent" || kind === "installment_agreement";
  append(
    main,
    h(
      "div",
      { class: "card" },
      await documentsSection(existing.case_id, { kind, id: existing.id }, attachments.filter((a) => a.fields.purpose !== "signature"), app, title),
      signable
        ? h(
            "section",
            { "aria-labelledby": "signatures-title" },
            h("h3", { id: "signatures-title" }, t("signature.list")),
            h(
              "ul",
              { class: "plain" },
              attachments
                .filter((a) => a.fields.purpose === "signature")
                .map((a) => h("li", {}, h("a", { href: `#/dokument/${a.id}` }, t("docs.signature_of", { name: a.fields.signer_name, role: t(`signer_role.${a.fields.signer_role}`) })), ` · ${moment(a.fields.signed_at)}`)),
            ),
            h(
              "div",
              { class: "actions" },
              h("a", { href: `#/fall/${existing.case_id}/unterschrift/${kind}/${existing.id}`, class: "button secondary", id: "sign-record" }, t("signature.sign")),
              h("a", { href: `#/fall/${existing.case_id}/brief/${kind === "consent" ? "consent" : "installment"}`, class: "button secondary", id: "print-record" }, t("letters.print_this")),
            ),
          )
        : null,
    ),
  );
}

const DOCUMENT_KINDS = new Set(["legal_event", "benefit_application", "installment_agreement", "consent"]);

/** What the form can tell before the server does. */
function check(kind, values, consents, existing) {
  for (const [name, , , , required] of FORMS[kind]) {
    if (required && (values[name] === null || values[name] === undefined || values[name] === "")) {
      return t("work.required", { what: t(`field.${kind}.${name}`) });
    }
  }
  if (kind === "referral" && !existing && !consents.some((c) => c.id === values.consent_id)) return t("referral.needs_consent");
  if (kind === "installment_agreement" && values.monthly_rate_cents > values.total_cents) return t("installment.rate_too_high");
  if (kind === "benefit_application" && values.decided_on && values.submitted_on && values.decided_on < values.submitted_on) {
    return t("benefit.decided_before_submitted");
  }
  if (kind === "mediation" && (values.party_case_ids || []).length < 2) return t("mediation.two_parties");
  if (kind === "legal_event") {
    if (!["dated_on", "served_on", "scheduled_at", "until_on"].some((name) => values[name])) return t("legal.needs_date");
    if (values.type !== "notice_to_quit") values.notice_kind = null; // only a notice to quit has a kind
    // Asked, not defaulted: whether the Schonfrist helps depends on it ("unbekannt" when the letter is not at hand).
    else if (!values.notice_kind) return t("legal.needs_notice_kind");
  }
  return null;
}

/** Withdrawing a consent marks every referral that relied on it. */
async function markReferrals(records, consentId) {
  const dependent = records.filter((r) => r.kind === "referral" && r.fields.consent_id === consentId && !r.fields.consent_withdrawn);
  for (const referral of dependent) await data.save("referral", referral.id, referral.case_id, { consent_withdrawn: true });
  return dependent.length;
}

/** The expected payments of an agreement, each with "paid" and "missed". */
function payments(agreement, values, caseId, app) {
  const standing = data.installmentState(agreement.fields);
  const record = async (due, patch) => {
    const list = (agreement.fields.payments || []).filter((p) => p.due_on !== due.due_on);
    list.push({ due_on: due.due_on, amount_cents: due.amount_cents, paid_on: null, missed: false, ...patch });
    list.sort((a, b) => a.due_on.localeCompare(b.due_on));
    await data.save("installment_agreement", agreement.id, caseId, { payments: list });
    await data.followUps();
    app.refresh();
  };
  return h(
    "section",
    { class: "payments", "aria-labelledby": "payments-title" },
    h("h3", { id: "payments-title" }, t("installment.payments"), " ", stateChip(standing.state)),
    h("p", {}, t("installment.summary", { paid: money(standing.paidCents), left: money(standing.remainingCents) })),
    h(
      "table",
      { class: "table" },
      h("thead", {}, h("tr", {}, [t("installment.due"), t("installment.amount"), t("installment.state")].map((x) => h("th", { scope: "col" }, x)), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("installment.record"))))),
      h(
        "tbody",
        {},
        standing.expected.map((due) =>
          h(
            "tr",
            { class: due.missed ? "overdue" : "" },
            h("td", {}, day(due.due_on)),
            h("td", {}, money(due.amount_cents)),
            h("td", {}, due.paid ? chip(t("installment.paid_on", { date: day(due.paid_on) }), "ok") : due.missed ? chip(t("installment.missed"), "danger") : due.unrecorded ? chip(t("installment.unrecorded_payment"), "info") : chip(t("installment.open"), "neutral")),
            h(
              "td",
              {},
              due.paid
                ? null
                : h(
                    "div",
                    { class: "pay-actions" },
                    h("label", { class: "sr-only", for: `paid-on-${due.due_on}` }, t("installment.paid_day", { date: day(due.due_on) })),
                    dateField({ id: `paid-on-${due.due_on}`, value: today(), max: today() }),
                    h(
                      "button",
                      {
                        type: "button",
                        class: "small",
                        "aria-label": t("installment.mark_paid", { date: day(due.due_on) }),
                        onclick: (event) => {
                          const field = event.currentTarget.parentElement.querySelector(".datefield");
                          if (!field.value) return field.input.reportValidity(); // no day, or one in the future
                          return record(due, { paid_on: field.value, missed: false });
                        },
                      },
                      t("installment.paid"),
                    ),
                    due.due && !due.flagged
                      ? h("button", { type: "button", class: "small secondary", "aria-label": t("installment.mark_missed", { date: day(due.due_on) }), onclick: () => record(due, { missed: true }) }, t("installment.missed"))
                      : null,
                  ),
            ),
          ),
        ),
      ),
    ),
  );
}

