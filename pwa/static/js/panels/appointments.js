// Appointments at the service centre (docs/domain.md "Appointments"): after a telephone enquiry, a consultation is
// offered and booked in two taps (offer, then the slot), and the caller is told the booking number; "Heute" lists
// the team's appointments of the day, whose outcome is recorded with a tap. Like an enquiry, an appointment names
// nobody. Slots are the team's, so booking needs the server: offline, the worker is told so.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { day, h, time, toast, today, uuid7 } from "../ui.js";

/** @typedef {{id: string, starts_at: string, ends_at: string, topic: string, status: string, number: string, enquiry_id?: string | null}} Appointment */

/** "Termin im Servicecenter anbieten" for the enquiry just recorded: the next free slots, one tap books one. */
export function offerFor(enquiryId, topic) {
  const box = h("div", { class: "appointment-offer", id: "appointment-offer" });
  const offer = h(
    "button",
    {
      type: "button",
      class: "secondary",
      id: "offer-appointment",
      onclick: async () => {
        if (!navigator.onLine) return toast(t("appointment.offline"), { error: true });
        const free = await api("GET", "/api/appointments/free");
        box.replaceChildren(
          free.length
            ? h(
                "div",
                { role: "group", "aria-labelledby": "free-slots" },
                h("p", { id: "free-slots" }, t("appointment.choose")),
                h(
                  "div",
                  { class: "actions slots" },
                  free.map((slot) =>
                    h("button", { type: "button", class: "secondary", "data-starts": slot.starts_at, onclick: () => book(box, slot.starts_at, topic, enquiryId) }, `${day(slot.starts_at)} ${time(slot.starts_at)}`),
                  ),
                ),
              )
            : h("p", { class: "muted" }, t("appointment.none_free")),
        );
      },
    },
    t("appointment.offer"),
  );
  box.append(offer);
  return box;
}

async function book(box, startsAt, topic, enquiryId) {
  try {
    /** @type {Appointment} */
    const booked = await api("PUT", `/api/appointments/${uuid7()}`, { starts_at: startsAt, topic, enquiry_id: enquiryId });
    const said = t("appointment.booked", { when: `${day(booked.starts_at)} ${time(booked.starts_at)}`, number: booked.number });
    box.replaceChildren(h("p", { class: "banner-inline ok", id: "appointment-booked", role: "status" }, said));
  } catch (error) {
    if (/** @type {any} */ (error)?.status === 409) return toast(t("appointment.taken"), { error: true });
    throw error;
  }
}

/** The team's appointments today, with their outcome: a card that fills itself when the server answers. */
export function todayCard() {
  const list = h("div", { id: "appointments-today" }, h("p", { class: "muted" }, navigator.onLine ? t("appointment.loading") : t("appointment.offline")));
  const card = h("section", { class: "card", "aria-labelledby": "appointments-title" }, h("h3", { id: "appointments-title" }, t("appointment.today")), list);
  if (navigator.onLine) fill(list).catch(() => list.replaceChildren(h("p", { class: "muted" }, t("appointment.offline"))));
  return card;
}

async function fill(list) {
  const listing = await api("GET", `/api/appointments?day=${today()}`);
  /** @type {Appointment[]} */
  const booked = listing.slots.map((slot) => slot.appointment).filter((a) => a && a.status !== "cancelled");
  if (!booked.length) return list.replaceChildren(h("p", { class: "muted" }, listing.open ? t("appointment.none_today") : t("appointment.closed_today")));
  list.replaceChildren(
    h(
      "ul",
      { class: "plain appointments" },
      booked.map((appointment) =>
        h(
          "li",
          { "data-appointment": appointment.id },
          h("strong", {}, time(appointment.starts_at)),
          ` · ${t(`enquiry_topic.${appointment.topic}`)} · ${t("appointment.number", { number: appointment.number })} · `,
          h("span", { class: "status" }, t(`appointment.status.${appointment.status}`)),
          appointment.status === "booked"
            ? h(
                "span",
                { class: "actions" },
                ["held", "missed"].map((status) =>
                  h("button", { type: "button", class: "secondary small", onclick: () => outcome(list, appointment, status) }, t(`appointment.mark.${status}`)),
                ),
              )
            : null,
        ),
      ),
    ),
  );
}

async function outcome(list, appointment, status) {
  await api("PUT", `/api/appointments/${appointment.id}`, { starts_at: appointment.starts_at, topic: appointment.topic, enquiry_id: appointment.enquiry_id || null, status });
  toast(t(`appointment.status.${status}`));
  await fill(list);
}
