// "Fall": one case on a page: household, tenancy, arrears, open actions, deadlines, visits, contacts and notes.
import { stamp } from "../clock.js";
import * as data from "../data.js";
import { keeper } from "../drafts.js";
import * as legal from "../legal.js";
import { t } from "../i18n.js";
import { append, chip, day, deadlineChip, h, moment, money, riskChip, syncChip, uuid7 } from "../ui.js";
import { caseNotices, closingPanel, contactLine, contactPanel, handoverPanel, planVisitPanel } from "../panels/day.js";
import * as work from "../panels/casework.js";
import { documentList } from "../panels/documents.js";
import { letterLinks } from "../panels/letters.js";
import { arrearsOf } from "../letters.js";

// The triggers by which the team is told about a household it has not heard from (docs/domain.md "Definitions").
const TOLD = new Set(["court_notice", "receivables"]);
const CONSULTING = new Set(["phone", "in_person", "home_visit"]);

/** How a household the team was told about was first reached, from its contacts in order (as the reports count it,
 * server/reports/counts.py): it got in touch itself, by phone or in person, at the door (after unanswered letters
 * or not), or not yet. */
export function howReached(contacts) {
  let letters = false;
  for (const { fields: c } of [...contacts].filter((r) => !r.deleted).sort((a, b) => a.fields.at.localeCompare(b.fields.at))) {
    const reached = c.reached !== false;
    const incoming = c.direction === "incoming";
    if (reached && incoming) return "reached_incoming";
    if (reached && c.channel === "home_visit") return letters ? "reached_visit_after_letters" : "reached_visit";
    if (reached && CONSULTING.has(c.channel)) return "reached_contact";
    if (c.channel === "letter" && !incoming) letters = true;
  }
  return "not_reached";
}

export async function render(main, [caseId], app) {
  const records = (await data.caseRecords(caseId)).filter((r) => !r.deleted);
  const kase = records.find((r) => r.kind === "case");
  if (!kase) {
    append(main, h("h2", {}, t("case.missing")), h("p", {}, t("case.missing_explain")), h("a", { href: "#/heute", class: "button" }, t("nav.today")));
    return;
  }
  const states = await data.syncStates();
  const of = (kind) => records.filter((r) => r.kind === kind);
  const household = records.find((r) => r.id === kase.fields.household_id) || of("household")[0];
  const assessment = data.latestAssessment(records);
  const events = of("legal_event").sort((a, b) => (legal.eventDay(a.fields) || "").localeCompare(legal.eventDay(b.fields) || ""));
  const deadlines = await legal.forCase(kase, records);
  const deadline = [...deadlines.filter((d) => !d.done && !d.unavailable), ...legal.appointments(records)].sort((a, b) => a.due_on.localeCompare(b.due_on))[0];
  const nextVisit = of("visit")
    .filter((v) => v.fields.status === "planned")
    .sort((a, b) => a.fields.planned_at.localeCompare(b.fields.planned_at))[0];
  const reassigned = records.filter((r) => r.flag === "accepted-after-reassignment");
  // Mediations this case is a party of, wherever they are kept (each party is a case of its own).
  const { mediation: allMediations, case: allCases } = await data.kinds("mediation", "case");
  const mediations = allMediations.filter((m) => !m.deleted && (m.case_id === caseId || m.fields.party_case_ids.includes(caseId)));
  const titles = new Map(allCases.map((c) => [c.id, c.fields.title]));
  const f = kase.fields;

  append(
    main,
    h(
      "div",
      { class: "case-head" },
      h("h2", {}, f.title),
      h(
        "p",
        { class: "chips" },
        chip(t(`case_type.${f.type}`)),
        riskChip(f.risk),
        f.phase ? chip(t(`phase.${f.phase}`)) : null,
        chip(t(`case_status.${f.status}`), { open: "info", closing_requested: "warn", closed: "neutral" }[f.status]),
        deadline ? deadlineChip(deadline) : null,
        energyChip(events, assessment),
        states.has(kase.id) ? syncChip(states.get(kase.id)) : null,
      ),
      h("p", { class: "muted" }, t("case.assigned", { name: app.userName(f.assigned_worker_id) })),
      TOLD.has(f.trigger) ? h("p", { class: "muted", id: "case-reached" }, t("case.told", { how: t(`reached.${howReached(of("contact"))}`) })) : null,
      h(
        "div",
        { class: "actions" },
        nextVisit
          ? h("a", { href: `#/besuch/${nextVisit.id}`, class: "button" }, t("case.record_planned"))
          : h("a", { href: `#/besuch/neu/${caseId}`, class: "button" }, t("case.record_visit")),
        h("a", { href: `#/einschaetzung/${caseId}`, class: "button secondary" }, t("case.assessment")),
        h("a", { href: `#/fall/${caseId}/bearbeiten`, class: "button secondary", id: "edit-case" }, t("case.edit")),
        app.isSupervisor() ? h("a", { href: `#/fall/${caseId}/auskunft`, class: "button secondary" }, t("case.disclosure")) : null,
      ),
    ),
    ...caseNotices(kase, app),
    f.risk_reason ? h("p", { class: "muted" }, t("case.risk_reason", { reason: f.risk_reason })) : null,
    reassigned.length ? h("p", { class: "banner-inline" }, t("case.reassigned_work", { n: reassigned.length })) : null,
    h(
      "div",
      { class: "grid" },
      contactPanel(caseId, app),
      f.status === "closed" ? null : planVisitPanel(caseId, kase, app),
      work.actionsPanel(caseId, of("action"), app),
      work.legalPanel(caseId, events, deadlines, kase, app),
      householdPanel(household),
      arrearsPanel(assessment, events),
      budgetPanel(assessment),
      work.applicationsPanel(caseId, of("benefit_application")),
      work.agreementsPanel(caseId, of("installment_agreement")),
      work.consentPanel(caseId, of("consent"), of("referral")),
      historyPanel(of("visit"), of("contact"), states, app),
      notesPanel(of("note"), of("visit"), caseId, states, app, (await data.drafts.get(noteDraftId(caseId))) || {}),
      mediations.length || f.type === "neighbour_conflict" ? work.mediationPanel(caseId, mediations, titles) : null,
      await documentsPanel(caseId, records),
      closingPanel(kase, records, app, deadlines),
      handoverPanel(kase, records, app),
    ),
  );
}

function panel(title, id, ...content) {
  return h("section", { class: "card panel", "aria-labelledby": id }, h("h3", { id }, title), ...content);
}

function dl(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, value]) => value !== null && value !== undefined && value !== "").flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
  );
}

function householdPanel(household) {
  if (!household) return panel(t("case.household"), "p-household", h("p", { class: "muted" }, t("case.no_household")));
  const f = household.fields;
  const a = f.address || {};
  const rent = (f.net_rent_cents || 0) + (f.service_charges_cents || 0) + (f.heating_cents || 0);
  return panel(
    t("case.household"),
    "p-household",
    dl([
      [t("case.name"), f.name],
      [t("case.address"), a.street ? mapLink(`${a.street} ${a.house_number}${a.unit ? `, ${a.unit}` : ""}, ${a.postcode} ${a.city}`) : null],
      [t("case.members"), (f.members || []).map((m) => `${m.name}${m.birth_year ? ` (${m.birth_year})` : ""}`).join(", ") || null],
      [t("case.rent"), rent ? `${money(rent)} (${money(f.net_rent_cents)} + ${money(f.service_charges_cents)} + ${money(f.heating_cents)})` : null],
      [t("case.landlord"), f.landlord],
      [t("case.phone"), f.phone ? h("a", { href: `tel:${f.phone.replace(/[^+\d]/g, "")}`, id: "call-tenant" }, f.phone) : null],
      [t("case.email"), f.email ? h("a", { href: `mailto:${f.email}` }, f.email) : null],
    ]),
  );
}

/** The address as a link that opens the device's maps app (geo: on Android; a tablet without one ignores it). */
function mapLink(address) {
  return h("a", { href: `geo:0,0?q=${encodeURIComponent(address)}`, id: "open-map" }, address);
}

function arrearsPanel(assessment, events) {
  const a = assessment?.fields.arrears || {};
  const { arrears: total, costs } = arrearsOf(a);
  const energy = assessment?.fields.energy || {};
  const notice = events.find((e) => e.fields.type === "notice_to_quit");
  return panel(
    t("case.arrears"),
    "p-arrears",
    dl([
      [t("case.rent_arrears"), a.rent_arrears_cents != null ? money(a.rent_arrears_cents) : null],
      [t("case.total_arrears"), total ? money(total) : null],
      [t("case.costs"), costs ? money(costs) : null],
      [t("case.energy_arrears"), energy.arrears_cents != null ? money(energy.arrears_cents) : null],
      [t("budget.priority_debts"), a.rent_arrears_cents || energy.arrears_cents ? h("span", {}, chip(t("budget.priority"), "warn"), ` ${money((a.rent_arrears_cents || 0) + (energy.arrears_cents || 0))}`) : null],
      [t("case.notice"), notice ? day(legal.eventDay(notice.fields)) : a.notice_received_on ? day(a.notice_received_on) : null],
    ]),
    assessment ? null : h("p", { class: "muted" }, t("case.no_assessment")),
  );
}

function budgetPanel(assessment) {
  if (!assessment) return panel(t("case.budget"), "p-budget", h("p", { class: "muted" }, t("case.no_assessment")));
  const { income, expenses, balance } = data.monthlyBalance(assessment.fields);
  const priority = [...(assessment.fields.budget?.fixed || []), ...(assessment.fields.budget?.variable || [])].filter((line) => line.priority);
  return panel(
    t("case.budget"),
    "p-budget",
    dl([
      [t("budget.income"), money(income)],
      [t("budget.expenses"), money(expenses)],
      [t("budget.balance"), h("strong", { class: balance < 0 ? "negative" : "positive" }, money(balance))],
    ]),
    priority.length
      ? h("ul", { class: "plain" }, priority.map((line) => h("li", {}, chip(t("budget.priority"), "warn"), ` ${line.label}: ${money(line.monthly_cents)}`)))
      : null,
  );
}

function historyPanel(visits, contacts, states, app) {
  const items = [
    ...visits.map((v) => ({ at: v.fields.visited_at || v.fields.planned_at, record: v })),
    ...contacts.map((c) => ({ at: c.fields.at, record: c })),
  ].sort((a, b) => b.at.localeCompare(a.at));
  return panel(
    t("case.history"),
    "p-history",
    items.length
      ? h(
          "ul",
          { class: "timeline" },
          items.map(({ at, record }) => {
            const f = record.fields;
            const text =
              record.kind === "visit"
                ? `${t("case.visit")}: ${t(`visit_status.${f.status}`)}${f.card_left ? ` – ${t("visit.card_left")}` : ""}${f.duration_minutes ? ` · ${t("contact.minutes", { n: f.duration_minutes })}` : ""} · ${app.userName(f.assigned_worker_id)}`
                : [`${t("case.contact")}: `, ...contactLine(f)];
            return h(
              "li",
              {},
              h("span", { class: "when" }, moment(at)),
              record.kind === "visit" && f.status === "planned" ? h("a", { href: `#/besuch/${record.id}` }, text) : h("span", {}, text),
              states.has(record.id) ? syncChip(states.get(record.id)) : null,
            );
          }),
        )
      : h("p", { class: "muted" }, t("case.no_history")),
  );
}

const noteDraftId = (caseId) => `note-${caseId}`;

function notesPanel(notes, visits, caseId, states, app, draft) {
  // Newest first, by the moment written (older notes without one by their time-ordered id).
  const when = (n) => n.fields.written_at || "";
  notes.sort((a, b) => when(b).localeCompare(when(a)) || b.id.localeCompare(a.id));
  const visitById = new Map(visits.map((v) => [v.id, v]));
  // What is typed is kept as an encrypted draft, like a visit's note: a lock, a reload or a sync that redraws the
  // case does not lose it.
  const draftKeeper = keeper(noteDraftId(caseId), () => ({ text: text.value }));
  const text = h("textarea", { id: "new-note", rows: 3, oninput: draftKeeper.keep, value: draft.text || "" });
  const form = h(
    "form",
    {
      class: "note-form",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!text.value.trim()) return;
        await data.create("note", caseId, { text: text.value, visit_id: null, author_id: app.owner.id, written_at: stamp() }, uuid7());
        await draftKeeper.drop();
        app.refresh();
      },
    },
    h("label", { for: "new-note" }, t("case.new_note")),
    text,
    h("button", { type: "submit" }, t("case.add_note")),
  );
  const byline = (n) => {
    const visit = visitById.get(n.fields.visit_id);
    return [
      n.fields.written_at ? moment(n.fields.written_at) : t("note.undated"),
      n.fields.author_id ? app.userName(n.fields.author_id) : null,
      visit ? t("note.of_visit", { date: day(visit.fields.visited_at || visit.fields.planned_at) }) : null,
    ]
      .filter(Boolean)
      .join(" · ");
  };
  return panel(
    t("case.notes"),
    "p-notes",
    notes.length
      ? h(
          "ul",
          { class: "notes" },
          notes.map((n) => h("li", { class: "note" }, h("p", { class: "muted note-by" }, byline(n)), h("p", {}, n.fields.text), states.has(n.id) ? syncChip(states.get(n.id)) : null)),
        )
      : h("p", { class: "muted" }, t("case.no_notes")),
    form,
  );
}

/** "Dokumente und Briefe": every file of the case (each named with the record it belongs to) and the letters. */
async function documentsPanel(caseId, records) {
  const byId = new Map(records.map((r) => [r.id, r]));
  const parentLabel = (a) => {
    const parent = byId.get(a.fields.parent_id);
    if (!parent) return null;
    return parent.kind === "legal_event" ? t(`legal.${parent.fields.type}`) : t(`kind.${parent.kind}`);
  };
  return panel(
    t("docs.panel"),
    "p-documents",
    await documentList(records.filter((r) => r.kind === "attachment"), parentLabel),
    h("p", { class: "muted small-text" }, t("docs.where_to_add")),
    h("h4", {}, t("letters.heading")),
    await letterLinks(caseId),
  );
}

/** "Sperre angedroht" / "Sperre erfolgt": the latest energy letter or event by the day it came (a threat, an
 * announcement, the disconnection done; on one day the disconnection wins), else the assessment's answer. Nothing
 * when no disconnection is in sight. */
function energyChip(events, assessment) {
  const came = (f) => f.served_on || f.dated_on || legal.eventDay(f) || "";
  const energy = events
    .filter((e) => e.fields.type.startsWith("disconnection_"))
    .sort((a, b) => came(a.fields).localeCompare(came(b.fields)) || Number(a.fields.type === "disconnection_done") - Number(b.fields.type === "disconnection_done"));
  const latest = energy[energy.length - 1];
  const state = latest ? (latest.fields.type === "disconnection_done" ? "done" : "threatened") : assessment?.fields.energy?.disconnection;
  if (state !== "threatened" && state !== "done") return null;
  return h("span", { id: "energy-state" }, chip(t(`energy.${state}`), "danger"));
}
