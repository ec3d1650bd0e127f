// "Heute / Meine Besuche": the worker's planned visits (overdue first), and the legal deadlines that are close.
import * as data from "../data.js";
import * as enquiries from "../enquiries.js";
import { offerFor, todayCard } from "../panels/appointments.js";
import * as legal from "../legal.js";
import * as push from "../push.js";
import { t } from "../i18n.js";
import { append, chip, day, deadlineChip, h, riskChip, syncChip, time, toast, today } from "../ui.js";

const SOON_DAYS = 14;

export async function render(main, _params, app) {
  // Each kind read and decrypted once: on a cold start this screen is what the worker waits for.
  const found = await data.kinds("case", "visit", "legal_event", "household", "benefit_application", "action");
  const { case: cases, visit: visits, legal_event: events, household: households } = found;
  const states = await data.syncStates();
  const caseById = new Map(cases.map((c) => [c.id, c]));
  const householdById = new Map(households.map((x) => [x.id, x]));
  const open = await legal.openItems({
    case: cases,
    legal_event: events,
    benefit_application: found.benefit_application,
    action: found.action,
  });
  const deadlines = data.nextDeadlines(open);
  const startOfToday = new Date(`${today()}T00:00:00`);
  const startOfTomorrow = new Date(`${today(1)}T00:00:00`);
  const mine = visits
    .filter((v) => v.fields.status === "planned" && v.fields.assigned_worker_id === app.owner.id && caseById.has(v.case_id))
    .sort((a, b) => a.fields.planned_at.localeCompare(b.fields.planned_at));
  const overdue = mine.filter((v) => new Date(v.fields.planned_at) < startOfToday);
  const todays = mine.filter((v) => new Date(v.fields.planned_at) >= startOfToday && new Date(v.fields.planned_at) < startOfTomorrow);
  const upcoming = mine.filter((v) => new Date(v.fields.planned_at) >= startOfTomorrow);

  const row = (visit, kind) => {
    const kase = caseById.get(visit.case_id);
    const household = householdById.get(kase.fields.household_id);
    const address = household?.fields.address;
    const deadline = deadlines[visit.case_id];
    const when = kind === "today" ? time(visit.fields.planned_at) : day(visit.fields.planned_at);
    return h(
      "li",
      { class: `visit ${kind === "overdue" ? "visit-overdue" : ""}` },
      h("div", { class: "visit-when" }, when, kind === "overdue" ? chip(t("today.overdue"), "danger") : null),
      h(
        "div",
        { class: "visit-what" },
        h("a", { href: `#/fall/${kase.id}`, class: "visit-title" }, kase.fields.title),
        address && address.street ? h("span", { class: "muted" }, `${address.street} ${address.house_number}, ${address.city}`) : null,
        h(
          "span",
          { class: "chips" },
          riskChip(kase.fields.risk),
          deadline ? deadlineChip(deadline) : null,
          states.has(visit.id) ? syncChip(states.get(visit.id)) : null,
        ),
      ),
      h("a", { href: `#/besuch/${visit.id}`, class: "button", "aria-label": t("today.record_for", { title: kase.fields.title }) }, t("today.record")),
    );
  };
  // Long lists show their first entries; the rest on request (a worker plans days, not months, at the door).
  const list = (title, items, kind, empty, first = Infinity) => {
    const ul = h("ul", { class: "visits", "data-list": kind }, items.slice(0, first).map((v) => row(v, kind)));
    const more =
      items.length > first
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: () => {
                append(ul, items.slice(first).map((v) => row(v, kind)));
                more.remove();
              },
            },
            t("today.show_all", { n: items.length - first }),
          )
        : null;
    return h(
      "section",
      { class: "card", "aria-labelledby": `list-${kind}` },
      h("h3", { id: `list-${kind}` }, title, " ", h("span", { class: "count" }, `(${items.length})`)),
      items.length ? [ul, more] : h("p", { class: "muted" }, empty),
    );
  };

  // Every deadline and appointment of the next 14 days, not only the next one of each case.
  const horizon = today(SOON_DAYS);
  const soon = open.filter((item) => item.due_on <= horizon && caseById.has(item.case_id));

  append(
    main,
    h("h2", {}, t("today.title")),
    h("p", { class: "lead" }, t("today.greeting", { name: app.owner.display_name, date: day(today()) })),
    pushOffer(app),
    overdue.length ? list(t("today.overdue_list"), overdue, "overdue", "") : null,
    list(t("today.today"), todays, "today", t("today.none_today")),
    h(
      "section",
      { class: "card", "aria-labelledby": "list-deadlines" },
      h("h3", { id: "list-deadlines" }, t("today.deadlines", { n: SOON_DAYS })),
      soon.length
        ? h(
            "ul",
            { class: "deadlines" },
            soon.map((item) =>
              h(
                "li",
                { class: "deadline" },
                deadlineChip(item),
                h("a", { href: `#/fall/${item.case_id}` }, caseById.get(item.case_id).fields.title),
              ),
            ),
          )
        : h("p", { class: "muted" }, t("today.no_deadlines")),
    ),
    list(t("today.upcoming"), upcoming, "upcoming", t("today.none_upcoming"), 20),
    todayCard(),
    enquiryCard(app),
  );
}

/** Anfrage ohne Fall: the topic, then a tap on how it came in; duration and referral only when wanted. */
function enquiryCard(app) {
  const topic = h("select", { id: "enquiry-topic" }, enquiries.TOPICS.map((x) => h("option", { value: x }, t(`enquiry_topic.${x}`))));
  const minutes = h("input", { id: "enquiry-minutes", inputmode: "numeric", maxlength: 3 });
  const referred = h("select", { id: "enquiry-referred" }, enquiries.REFERRALS.map((x) => h("option", { value: x }, t(`enquiry_referral.${x}`))));
  const save = async (channel) => {
    const duration = minutes.value.trim();
    if (duration && !/^\d{1,3}$/.test(duration)) return toast(t("contact.bad_duration"), { error: true });
    const body = { on: today(), channel, topic: topic.value, duration_minutes: duration ? Number(duration) : null, referred_to: referred.value };
    const id = await enquiries.record(app.key, body);
    minutes.value = "";
    referred.value = "none";
    toast(t("enquiry.saved", { what: t(`enquiry_topic.${body.topic}`) }));
    // A caller who needs more than a short answer is offered a consultation at the service centre.
    follow.replaceChildren(channel === "phone" ? offerFor(id, body.topic) : "");
  };
  const follow = h("div", { id: "enquiry-follow" });
  return h(
    "section",
    { class: "card enquiry", "aria-labelledby": "enquiry-title" },
    h("h3", { id: "enquiry-title" }, t("enquiry.title")),
    h("p", { class: "muted" }, t("enquiry.lead")),
    h("label", { for: "enquiry-topic" }, t("enquiry.topic")),
    topic,
    h(
      "details",
      { class: "technical" },
      h("summary", {}, t("enquiry.more")),
      h("div", { class: "row" }, h("div", {}, h("label", { for: "enquiry-minutes" }, t("contact.duration")), minutes), h("div", {}, h("label", { for: "enquiry-referred" }, t("enquiry.referred")), referred)),
    ),
    h("p", { class: "muted", id: "enquiry-how" }, t("enquiry.how")),
    h(
      "div",
      { class: "actions channels", role: "group", "aria-labelledby": "enquiry-how" },
      enquiries.CHANNELS.map((channel) => h("button", { type: "button", class: "secondary", "data-channel": channel, onclick: () => save(channel) }, t(`channel.${channel}`))),
    ),
    follow,
  );
}

/** Once the device is set up, offer notifications for new visits (the browser asks only when the worker agrees). */
function pushOffer(app) {
  if (!push.supported() || Notification.permission !== "default" || localStorage.getItem("doorstep.push_offer")) return null;
  const box = h(
    "section",
    { class: "card offer", "aria-labelledby": "push-offer" },
    h("h3", { id: "push-offer" }, t("push.offer_title")),
    h("p", {}, t("push.offer_text")),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            localStorage.setItem("doorstep.push_offer", "asked");
            const state = await push.enable();
            box.remove();
            toast(state.active ? t("push.enabled") : t("push.not_enabled"));
            app.refresh();
          },
        },
        t("push.enable"),
      ),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () => {
            localStorage.setItem("doorstep.push_offer", "later");
            box.remove();
          },
        },
        t("push.later"),
      ),
    ),
  );
  return box;
}
