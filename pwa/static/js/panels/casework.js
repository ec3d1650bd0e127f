// The case screen's panels of case work: deadlines and legal events, actions, benefit applications, installment
// agreements, consent and referrals, mediation. Each lists what the case holds and links to its form (screens/work.js).
import { dateField } from "../datefield.js";
import * as data from "../data.js";
import { t } from "../i18n.js";
import { chip, day, h, moment, money, toast, today } from "../ui.js";

export function stateChip(state) {
  const kinds = { kept: "ok", completed: "ok", unrecorded: "info", behind: "warn", broken: "danger", cancelled: "neutral" };
  return chip(t(`installment.${state}`), kinds[state]);
}

function panel(title, id, addHref, ...content) {
  return h(
    "section",
    { class: "card panel", "aria-labelledby": id },
    h("div", { class: "panel-head" }, h("h3", { id }, title), addHref ? h("a", { href: addHref, class: "button small secondary", "aria-label": t("work.add_to", { what: title }) }, "+") : null),
    ...content,
  );
}

const link = (caseId, record, text) => h("a", { href: `#/fall/${caseId}/${record.kind}/${record.id}` }, text);

/** "Fristen und Termine": the case's legal events with their dates, and the deadlines that follow from them
 * (docs/legal.md), each with its legal basis; done ones struck through, unavailable ones with the reason. */
export function legalPanel(caseId, events, deadlines, kase = null, app = null) {
  const dated = (f) =>
    [
      f.dated_on ? t("legal_date.dated_on", { date: day(f.dated_on) }) : null,
      f.served_on ? t("legal_date.served_on", { date: day(f.served_on) }) : null,
      f.scheduled_at ? t("legal_date.scheduled_at", { date: moment(f.scheduled_at) }) : null,
      f.until_on ? t("legal_date.until_on", { date: day(f.until_on) }) : null,
    ]
      .filter(Boolean)
      .join(", ");
  const soon = (d) => d.due_on >= today() && d.due_on <= today(14);
  return panel(
    t("case.deadlines"),
    "p-deadlines",
    `#/fall/${caseId}/legal_event/neu`,
    deadlines.length
      ? h(
          "ul",
          { class: "plain computed-deadlines", id: "case-deadlines" },
          deadlines.map((d) =>
            h(
              "li",
              { class: d.done || d.unavailable ? "muted" : "", "data-rule": d.rule },
              h("strong", {}, d.done ? h("s", {}, d.label) : d.label),
              `: ${day(d.due_on)}`,
              d.done ? [" ", chip(t("deadline.done"), "ok")] : null,
              !d.done && !d.unavailable && d.due_on < today() ? [" ", chip(t("deadline.overdue"), "danger")] : null,
              !d.done && !d.unavailable && soon(d) ? [" ", chip(t("case.within_14"), "danger")] : null,
              d.basis ? h("span", { class: "muted small-text" }, ` · ${d.basis}`) : null,
              d.unavailable ? h("p", { class: "small-text" }, t("deadline.schonfrist_used", { date: day(d.unavailable.split(":")[1]) })) : null,
              (d.provisional || []).map((why) => h("p", { class: "small-text provisional" }, t(`deadline.provisional.${why}`))),
              d.warning ? h("p", { class: "banner-inline warn deadline-warning" }, t(`deadline.warning.${d.warning}`)) : null,
            ),
          ),
        )
      : null,
    events.length
      ? h(
          "ul",
          { class: "plain" },
          events.map((e) => h("li", {}, link(caseId, e, t(`legal.${e.fields.type}`)), e.fields.notice_kind ? ` (${t(`notice_kind.${e.fields.notice_kind}`)})` : "", `: ${dated(e.fields)}`)),
        )
      : h("p", { class: "muted" }, t("case.no_deadlines")),
    kase && app && deadlines.some((d) => d.rule === "de.schonfrist") ? curedNoticeForm(kase, events, app) : null,
    h("p", { class: "muted small-text" }, t("deadline.no_advice")),
  );
}

/** "Frühere, durch Schonfrist geheilte Kündigung zugegangen am": the Schonfrist helps once in two years, counted
 * from that notice's Zugang to this one's (docs/legal.md). An earlier fristlose Kündigung recorded in the case is
 * offered; it counts once saved. */
function curedNoticeForm(kase, events, app) {
  const saved = kase.fields.cured_notice_served_on || "";
  const received = events
    .filter((e) => e.fields.type === "notice_to_quit" && ["extraordinary", "both"].includes(e.fields.notice_kind) && e.fields.served_on)
    .map((e) => e.fields.served_on)
    .sort();
  const offered = !saved && received.length > 1 ? received[received.length - 2] : "";
  const field = dateField({ id: "cured-notice-served-on", value: saved || offered, max: today() });
  return h(
    "form",
    {
      class: "cured-notice",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        if (field.input.getAttribute("aria-invalid") === "true") return;
        const value = field.value || null;
        if (value === (saved || null)) return;
        await data.save("case", kase.id, kase.id, { cured_notice_served_on: value });
        toast(t("work.saved"));
        app.refresh();
      },
    },
    h("label", { for: "cured-notice-served-on" }, t("field.case.cured_notice_served_on")),
    field,
    offered ? h("p", { class: "muted small-text", id: "cured-notice-offered" }, t("deadline.cured_offered", { date: day(offered) })) : null,
    h("button", { type: "submit", class: "secondary small", id: "save-cured-notice" }, t("work.save")),
  );
}

export function actionsPanel(caseId, actions, app) {
  const open = actions.filter((a) => (a.fields.status || "open") === "open").sort((a, b) => a.fields.due_on.localeCompare(b.fields.due_on));
  return panel(
    t("case.actions"),
    "p-actions",
    `#/fall/${caseId}/action/neu`,
    open.length
      ? h(
          "ul",
          { class: "plain actions-list" },
          open.map((a) =>
            h(
              "li",
              {},
              a.fields.due_on < today() ? [chip(t("today.overdue"), "danger"), " "] : null,
              link(caseId, a, a.fields.title),
              ` – ${day(a.fields.due_on)}`,
              a.fields.source_kind ? [" ", chip(t(`action.from.${a.fields.source_kind}`), "info")] : null,
              " ",
              h(
                "button",
                {
                  type: "button",
                  class: "small secondary",
                  "aria-label": t("action.done_for", { what: a.fields.title }),
                  onclick: async () => {
                    await data.save("action", a.id, caseId, { status: "done", done_on: today() });
                    app.refresh();
                  },
                },
                t("action.done"),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("case.no_actions")),
  );
}

export function applicationsPanel(caseId, applications) {
  return panel(
    t("work.panel.benefit_application"),
    "p-applications",
    `#/fall/${caseId}/benefit_application/neu`,
    applications.length
      ? h(
          "ul",
          { class: "plain" },
          applications.map((a) => {
            const f = a.fields;
            const late = f.decision === "pending" && f.expected_decision_on && f.expected_decision_on < today();
            return h(
              "li",
              {},
              link(caseId, a, t(`benefit.${f.kind}`)),
              ` · ${t(`decision.${f.decision}`)}`,
              f.amount_cents != null ? ` · ${money(f.amount_cents)}${f.form ? ` (${t(`benefit_form.${f.form}`)})` : ""}` : "",
              late ? [" ", chip(t("benefit.decision_overdue"), "warn")] : null,
            );
          }),
        )
      : h("p", { class: "muted" }, t("work.none")),
  );
}

export function agreementsPanel(caseId, agreements) {
  return panel(
    t("work.panel.installment_agreement"),
    "p-agreements",
    `#/fall/${caseId}/installment_agreement/neu`,
    agreements.length
      ? h(
          "ul",
          { class: "plain" },
          agreements.map((a) => {
            const standing = data.installmentState(a.fields);
            return h(
              "li",
              { "data-agreement": a.id },
              link(caseId, a, `${a.fields.creditor_name || t(`creditor_ia.${a.fields.creditor}`)}: ${money(a.fields.monthly_rate_cents)} / ${t("installment.month")}`),
              " ",
              stateChip(standing.state),
            );
          }),
        )
      : h("p", { class: "muted" }, t("work.none")),
  );
}

export function consentPanel(caseId, consents, referrals) {
  return panel(
    t("work.panel.consent_referral"),
    "p-consent",
    null,
    h("h4", {}, t("work.panel.consent"), " ", h("a", { href: `#/fall/${caseId}/consent/neu`, class: "button small secondary", "aria-label": t("work.new.consent") }, "+")),
    consents.length
      ? h(
          "ul",
          { class: "plain" },
          consents.map((c) =>
            h("li", {}, link(caseId, c, c.fields.purpose), ` · ${day(c.fields.given_on)}`, c.fields.withdrawn_on ? [" ", chip(t("consent.withdrawn_on", { date: day(c.fields.withdrawn_on) }), "warn")] : null),
          ),
        )
      : h("p", { class: "muted" }, t("consent.none")),
    h("h4", {}, t("work.panel.referral"), " ", h("a", { href: `#/fall/${caseId}/referral/neu`, class: "button small secondary", "aria-label": t("work.new.referral") }, "+")),
    referrals.length
      ? h(
          "ul",
          { class: "plain" },
          referrals.map((r) =>
            h("li", {}, link(caseId, r, r.fields.service), ` · ${t(`referral_status.${r.fields.status}`)}`, r.fields.consent_withdrawn ? [" ", chip(t("referral.consent_withdrawn"), "danger")] : null),
          ),
        )
      : h("p", { class: "muted" }, t("work.none")),
  );
}

export function mediationPanel(caseId, mediations, titles) {
  return panel(
    t("work.panel.mediation"),
    "p-mediation",
    `#/fall/${caseId}/mediation/neu`,
    mediations.length
      ? h(
          "ul",
          { class: "plain" },
          mediations.map((m) => {
            const f = m.fields;
            const parties = f.party_case_ids.map((id) => titles.get(id) || t("mediation.other_party")).join(" · ");
            const text = `${f.topic || t("work.panel.mediation")}: ${t("mediation.sessions", { n: (f.sessions || []).length })}`;
            return h(
              "li",
              {},
              m.case_id === caseId ? link(m.case_id, m, text) : h("a", { href: `#/fall/${m.case_id}/mediation/${m.id}` }, text),
              h("br"),
              h("span", { class: "muted" }, parties),
              " ",
              f.agreement_reached === true ? chip(t("mediation.agreement"), "ok") : null,
              f.status === "closed" ? chip(t("mediation.closed"), "neutral") : null,
            );
          }),
        )
      : h("p", { class: "muted" }, t("work.none")),
  );
}
