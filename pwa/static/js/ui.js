// Small DOM helpers: every screen is built from these, with no framework and no inline style (the CSP forbids it).
import { now, offsetMs, stamp } from "./clock.js";
import { lang, t } from "./i18n.js";

/** ``h("button", {class: "x", onclick: fn, "aria-label": "..."}, "text", child)``: an element.
 * Event handlers may be async: what they throw or reject with is shown by ``reportError`` instead of becoming an
 * unhandled rejection that the worker never sees. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), guarded(value));
    else if (name === "value") el.value = value;
    else if (name === "checked") el.checked = Boolean(value);
    else if (name === "selected") el.selected = Boolean(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, ...children);
  return el;
}

function guarded(handler) {
  return function (event) {
    try {
      const result = handler.call(this, event);
      if (result && typeof result.then === "function") result.catch(reportError);
    } catch (error) {
      reportError(error);
    }
  };
}

/** A failure the worker should know of, in plain German (or English), without the technical detail;
 * that goes to the console for whoever looks after the device. */
export function errorMessage(error) {
  if (error?.name === "Offline") return t("error.offline");
  if (error?.name === "QuotaExceededError") return t("error.storage_full");
  if (typeof error?.status === "number") {
    if (error.status >= 500) return t("error.server", { status: error.status });
    return error.message || t("error.refused", { status: error.status });
  }
  return t("error.unexpected");
}

export function reportError(error) {
  console.error("doorstep:", error);
  toast(errorMessage(error), { error: true });
}

/** Append children, skipping null/false and flattening arrays (``el.append`` would print "null"). */
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the content of ``el`` with ``children``. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, ...children);
  return el;
}

const locale = () => (lang() === "en" ? "en-GB" : "de-DE");

// Intl formatters are slow to build and fast to use: one per language and style.
const formatters = new Map();
function formatter(kind, make) {
  const name = `${kind}|${locale()}`;
  if (!formatters.has(name)) formatters.set(name, make(locale()));
  return formatters.get(name);
}

export function money(cents) {
  if (cents === null || cents === undefined) return "–";
  return formatter("money", (l) => new Intl.NumberFormat(l, { style: "currency", currency: "EUR" })).format(cents / 100);
}

/** A calendar date (``YYYY-MM-DD``) as the user reads it. */
export function day(value) {
  if (!value) return "–";
  const [y, m, d] = value.slice(0, 10).split("-").map(Number);
  const format = formatter("day", (l) => new Intl.DateTimeFormat(l, { weekday: "short", day: "2-digit", month: "2-digit", year: "numeric" }));
  return format.format(new Date(y, m - 1, d));
}

/** A moment (RFC 3339) as a local date and time. */
export function moment(value) {
  if (!value) return "–";
  return formatter("moment", (l) => new Intl.DateTimeFormat(l, { dateStyle: "medium", timeStyle: "short" })).format(new Date(value));
}

export function time(value) {
  return formatter("time", (l) => new Intl.DateTimeFormat(l, { hour: "2-digit", minute: "2-digit" })).format(new Date(value));
}

/** Today's local date as ``YYYY-MM-DD``. */
export function today(offsetDays = 0) {
  const day = now();
  day.setDate(day.getDate() + offsetDays);
  return localDay(day);
}

export function localDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Whole days from today to ``value`` (negative: in the past). */
function daysUntil(value) {
  const [y, m, d] = value.slice(0, 10).split("-").map(Number);
  const start = now();
  start.setHours(0, 0, 0, 0);
  return Math.round((new Date(y, m - 1, d).getTime() - start.getTime()) / 86_400_000);
}

/** A ``datetime-local`` input value for a moment, and back. */
export function toLocalInput(value) {
  const date = value ? new Date(value) : now();
  const pad = (n) => String(n).padStart(2, "0");
  return `${localDay(date)}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function fromLocalInput(value) {
  return new Date(value).toISOString();
}

/** "3 Tage", "2 Stunden", "12 Minuten": how far a clock is off. */
export function clockDifference(minutes) {
  const m = Math.abs(Math.round(minutes));
  if (m >= 48 * 60) return t("clock.days", { n: Math.round(m / 1440) });
  if (m >= 120) return t("clock.hours", { n: Math.round(m / 60) });
  return t("clock.minutes", { n: m });
}

/** Said beside a form that records a moment, before it is saved: the tablet's clock is off, and which time is
 * saved instead (the server's). Nothing when the clock is right or the difference is not known. */
export function clockWarning() {
  const off = offsetMs();
  if (!off) return null;
  const text = t("clock.saving", { diff: clockDifference(off / 60_000), direction: t(off > 0 ? "clock.fast" : "clock.slow"), now: moment(stamp()) });
  return h("p", { class: "banner-inline warn clock-warning", role: "note" }, text);
}

/** A status chip: ``kind`` picks the colour, the text says it (colour is never the only signal). */
export function chip(text, kind = "neutral") {
  return h("span", { class: `chip chip-${kind}` }, text);
}

export function riskChip(risk) {
  return chip(t(`risk.${risk}`), risk === "acute" || risk === "high" ? "danger" : risk === "medium" ? "warn" : "neutral");
}

/** The sync state of one record: waiting, synced, conflict or rejected (with the server's message). */
export function syncChip(state) {
  if (!state || state.status === "synced") return chip(t("sync.synced"), "ok");
  if (state.status === "conflict") return chip(t("sync.conflict"), "warn");
  if (state.status === "rejected") return chip(`${t("sync.rejected")}: ${refusal(state.error)}`, "danger");
  return chip(t("sync.waiting"), "info");
}

/** Why the server refused a change, in the worker's language; the server's own words stay beside it. */
export function refusal(error) {
  if (!error) return "";
  const field = error.field ? ` (${t(`conflict_field.${error.field}`, {}, error.field)})` : "";
  return `${t(`refusal.${error.code}`, {}, error.code)}${field}`;
}

function hideToast() {
  const box = document.getElementById("toast");
  box.hidden = true;
  document.body.classList.remove("has-toast");
}

/** A message at the bottom of the screen, read out by screen readers. The page makes room for it below its last
 * control, and a passing message lets taps through; an error stays until the worker closes it. */
let toastTimer = null;

export function toast(message, { error = false } = {}) {
  const box = document.getElementById("toast");
  clearTimeout(toastTimer);
  box.classList.toggle("error", error);
  box.setAttribute("role", error ? "alert" : "status");
  box.replaceChildren(h("span", {}, message));
  if (error) box.append(h("button", { type: "button", class: "small secondary", id: "toast-close", onclick: hideToast }, t("common.close")));
  box.hidden = false;
  document.body.classList.add("has-toast");
  if (!error) toastTimer = setTimeout(hideToast, 4000);
}

/** A UUIDv7: a millisecond timestamp then random bits, so ids created on a device sort by creation. */
export function uuid7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Run ``fn`` once input has paused for ``ms`` (autosave on every keystroke pause). */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.flush = (...args) => {
    clearTimeout(timer);
    return fn(...args);
  };
  return wrapped;
}

/** "Schonfrist … in 3 Tagen (Fr., 27.11.2026)": red within a week, and "überfällig" when the day has passed. */
export function deadlineChip(item) {
  const days = daysUntil(item.due_on);
  const when = days < 0 ? t("deadline.overdue") : days === 0 ? t("deadline.today") : t("deadline.in_days", { n: days });
  return chip(`${item.label} ${when} (${day(item.due_on)})`, days <= 7 ? "danger" : "warn");
}
