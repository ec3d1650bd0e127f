// Anonymous enquiries without a case ("Anfrage ohne Fall"): a call or a question at the door, recorded in two taps
// (the topic, then how it came in). Nothing in one names a person. They wait sealed on the device until they are
// sent (PUT /api/enquiries/<id>, the id chosen here, so a resend is recorded once).
import { api } from "./api.js";
import { openJSON, sealJSON } from "./crypto.js";
import * as store from "./storage.js";
import { uuid7 } from "./ui.js";

export const TOPICS = ["rent_arrears", "notice_or_eviction", "benefits", "energy", "neighbours", "other"];
export const REFERRALS = ["none", "debt_counselling", "jobcenter", "social_services", "housing_office", "legal_advice", "other"];
export const CHANNELS = ["phone", "in_person", "email"];

let sending = null;

async function waiting(key) {
  const blob = await store.getMeta("enquiries");
  return blob ? openJSON(key, blob, "enquiries") : [];
}

async function keep(key, list) {
  await store.setMeta("enquiries", await sealJSON(key, list, "enquiries"));
  localStorage.setItem(store.ENQUIRIES_WAITING, String(list.length)); // counted as unsent work (outbox.js outboxCounts)
}

/** Queue an enquiry and send what waits, when there is a network; returns its id (an appointment names it). */
export async function record(key, enquiry) {
  const list = await waiting(key);
  const id = uuid7();
  list.push({ id, ...enquiry });
  await keep(key, list);
  if (navigator.onLine) await send(key).catch(() => {});
  return id;
}

/** How many wait to be sent. */
export async function pending(key) {
  return (await waiting(key)).length;
}

/** Send every waiting enquiry; a refused one (the server says it is wrong) is dropped, a failure keeps the rest. */
export function send(key) {
  sending ||= (async () => {
    try {
      for (const enquiry of await waiting(key)) {
        const { id, ...body } = enquiry;
        try {
          await api("PUT", `/api/enquiries/${id}`, body);
        } catch (error) {
          if (!(typeof error?.status === "number" && error.status >= 400 && error.status < 500)) throw error;
          console.error("doorstep: enquiry refused", error.status);
        }
        await keep(key, (await waiting(key)).filter((e) => e.id !== id));
      }
    } finally {
      sending = null;
    }
  })();
  return sending;
}
