// Date and time fields that read and write TT.MM.JJJJ and HH:MM whatever the browser's language, with a month
// calendar that works offline, by touch and by keyboard. The browser's own date inputs follow the browser's locale
// (an English tablet would show 11/29/2026, 10:15 AM), so the app does not use them.
//
// A field is a ``span.datefield`` holding a text input (which carries the id the label points at) and a calendar
// button. Its ``value`` is the machine form the records use: ``YYYY-MM-DD`` for a date, ``YYYY-MM-DDTHH:MM`` (local
// time) for a date with a time, "" when empty or not a valid date. A ``name`` lands on a hidden input with that value,
// so forms that read ``[name]`` elements get the machine form too. The field fires ``change`` when its value changes.

import { now } from "./clock.js";
import { t } from "./i18n.js";
import { h, localDay } from "./ui.js";

const pad = (n) => String(n).padStart(2, "0");

/** ``29.11.2026``, ``29.11.26``, ``29.11.`` (this year), ``29112026`` or ``2026-11-29`` as ``2026-11-29``; anything
 * else, or a day that does not exist (31.02.), gives null. */
function parseDate(text, thisYear = now().getFullYear()) {
  const value = String(text || "").trim();
  let d, m, y;
  let match = value.match(/^(\d{4})-(\d{1,2})-(\d{1,2})$/);
  if (match) [, y, m, d] = match;
  else if ((match = value.match(/^(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4})?)?$/))) [, d, m, y] = match;
  else if ((match = value.match(/^(\d{2})(\d{2})(\d{2}|\d{4})$/))) [, d, m, y] = match;
  else return null;
  let year = y === undefined ? thisYear : Number(y);
  if (y !== undefined && y.length === 2) year += 2000;
  const date = new Date(year, Number(m) - 1, Number(d));
  if (date.getFullYear() !== year || date.getMonth() !== Number(m) - 1 || date.getDate() !== Number(d)) return null;
  return localDay(date);
}

/** ``10:15``, ``10.15``, ``1015``, ``9`` or ``9:5`` is not: minutes have two digits. Gives ``HH:MM`` or null. */
function parseTime(text) {
  const match = String(text || "").trim().match(/^(\d{1,2})(?:[:.h]?(\d{2}))?(?:\s*(?:h|Uhr))?$/i);
  if (!match) return null;
  const [hours, minutes] = [Number(match[1]), Number(match[2] || 0)];
  return hours < 24 && minutes < 60 ? `${pad(hours)}:${pad(minutes)}` : null;
}

/** ``2026-11-29`` as ``29.11.2026``. */
function showDate(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return `${d}.${m}.${y}`;
}

/** A small calendar drawn as SVG (an emoji would need a font the tablet may lack). */
function calendarIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [name, value] of Object.entries({ viewBox: "0 0 24 24", width: "24", height: "24", "aria-hidden": "true", focusable: "false" })) svg.setAttribute(name, value);
  const shapes = [
    ["rect", { x: "3", y: "5", width: "18", height: "16", rx: "2" }],
    ["path", { d: "M3 10h18M8 3v4M16 3v4M7 14h2M11 14h2M15 14h2M7 17h2M11 17h2" }],
  ];
  for (const [tag, attrs] of /** @type {Array<[string, Record<string, string>]>} */ (shapes)) {
    const shape = document.createElementNS(ns, tag);
    for (const [name, value] of Object.entries({ ...attrs, fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round" })) shape.setAttribute(name, value);
    svg.append(shape);
  }
  return svg;
}

/** A date field. ``value`` and ``min``/``max`` are ``YYYY-MM-DD``.
 * @param {import("./types.js").FieldOptions} [options]
 * @returns {any} the field (a span with ``value``, ``min``, ``max`` and ``input``) */
export function dateField({ id, value = "", min, max, required = false, name, onchange } = {}) {
  return field({ id, value, min, max, required, name, onchange, withTime: false });
}

/** A date and time field: the date as above and HH:MM beside it. ``value``/``min``/``max`` are ``YYYY-MM-DDTHH:MM``.
 * @param {import("./types.js").FieldOptions} [options]
 * @returns {any} the field, as ``dateField`` */
export function momentField({ id, value = "", min, max, required = false, name, onchange } = {}) {
  return field({ id, value, min, max, required, name, onchange, withTime: true });
}

function field({ id, value, min, max, required, name, onchange, withTime }) {
  const dateInput = h("input", {
    id,
    type: "text",
    inputmode: "numeric",
    autocomplete: "off",
    placeholder: t("date.placeholder"),
    class: "date-text",
    required,
    "aria-describedby": `${id}-hint`,
  });
  const timeInput = withTime
    ? h("input", { id: `${id}-time`, type: "text", inputmode: "numeric", autocomplete: "off", placeholder: t("time.placeholder"), class: "time-text", required, "aria-label": t("time.label") })
    : null;
  const hidden = name ? h("input", { type: "hidden", name }) : null;
  const button = h("button", { type: "button", class: "date-pick", "aria-label": t("date.pick"), "aria-haspopup": "dialog", "aria-expanded": "false" }, calendarIcon());
  const hint = h("span", { id: `${id}-hint`, class: "visually-hidden" }, t(withTime ? "date.hint_time" : "date.hint"));
  const wrapper = h("span", { class: withTime ? "datefield with-time" : "datefield" }, dateInput, button, timeInput ? h("span", { class: "time-at", "aria-hidden": "true" }, t("time.at")) : null, timeInput, hint, hidden);

  let current = "";
  const bounds = { min: min || "", max: max || "" };
  // What is typed, as the machine form: "" when empty, null when not a date (or time).
  const typed = () => {
    const pasted = withTime && dateInput.value.trim().match(/^(\d{4}-\d{1,2}-\d{1,2})[T ](\d{1,2}:\d{2})/);
    if (pasted) [dateInput.value, timeInput.value] = [pasted[1], pasted[2]]; // a whole moment pasted into the date
    const [dateText, timeText] = [dateInput.value.trim(), timeInput ? timeInput.value.trim() : ""];
    if (!dateText && !timeText) return "";
    const date = parseDate(dateText);
    if (!withTime) return date;
    const time = parseTime(timeText);
    return date && time ? `${date}T${time}` : null;
  };
  const check = () => {
    const value = typed();
    let problem = "";
    if (value === null) problem = t(withTime ? "date.invalid_time" : "date.invalid");
    else if (value && bounds.min && value < bounds.min) problem = t("date.too_early", { date: shown(bounds.min) });
    else if (value && bounds.max && value > bounds.max) problem = t("date.too_late", { date: shown(bounds.max) });
    dateInput.setCustomValidity(problem);
    dateInput.setAttribute("aria-invalid", String(Boolean(problem)));
    if (hidden) hidden.value = problem ? "" : value;
    return problem ? "" : value;
  };
  const shown = (iso) => (withTime && iso.length > 10 ? `${showDate(iso)} ${iso.slice(11, 16)}` : showDate(iso));
  const display = (iso) => {
    dateInput.value = showDate(iso);
    if (timeInput) timeInput.value = iso && iso.length > 10 ? iso.slice(11, 16) : "";
  };
  const settle = () => {
    const value = check();
    if (value) display(value); // typed forms become the one written form
    if (value !== current) {
      current = value;
      wrapper.dispatchEvent(new Event("change", { bubbles: true }));
    }
  };
  // The inputs' own change events stop here; the wrapper's says the value changed (typing still bubbles as input).
  for (const input of [dateInput, timeInput].filter(Boolean)) {
    input.addEventListener("change", (event) => {
      event.stopPropagation();
      settle();
    });
    input.addEventListener("input", check);
  }
  if (onchange) wrapper.addEventListener("change", onchange);

  Object.defineProperties(wrapper, {
    value: {
      get: () => check(),
      set: (iso) => {
        display(iso || "");
        current = check();
      },
    },
    min: {
      set: (iso) => {
        bounds.min = iso || "";
        check();
      },
    },
    max: {
      set: (iso) => {
        bounds.max = iso || "";
        check();
      },
    },
    input: { value: dateInput },
  });
  wrapper.value = value;

  button.addEventListener("click", () => {
    const start = (check() || "").slice(0, 10) || localDay(now());
    openCalendar({
      button,
      selected: start,
      min: bounds.min.slice(0, 10),
      max: bounds.max.slice(0, 10),
      pick: (iso) => {
        dateInput.value = showDate(iso);
        if (timeInput && !timeInput.value.trim()) timeInput.value = "09:00";
        settle();
        (timeInput || dateInput).focus();
      },
    });
  });
  return wrapper;
}

/** The month calendar: a modal dialog over the page. Arrow keys move by a day or a week, Page Up/Down by a month,
 * Home/End to the week's ends, Enter picks, Escape closes; Tab stays inside; a tap outside closes. */
function openCalendar({ button, selected, min, max, pick }) {
  const [sy, sm] = selected.split("-").map(Number);
  let month = new Date(sy, sm - 1, 1);
  let focusDay = selected;
  const title = h("h2", { class: "picker-title", id: "picker-title", "aria-live": "polite" });
  const grid = h("table", { class: "picker-grid", role: "grid", "aria-labelledby": "picker-title" });
  const prev = h("button", { type: "button", class: "picker-step", "aria-label": t("date.prev_month") }, "‹");
  const next = h("button", { type: "button", class: "picker-step", "aria-label": t("date.next_month") }, "›");
  const todayButton = h("button", { type: "button", class: "secondary" }, t("date.today"));
  const close = h("button", { type: "button", class: "secondary" }, t("common.close"));
  const dialog = h(
    "div",
    { class: "picker", role: "dialog", "aria-modal": "true", "aria-labelledby": "picker-title" },
    h("div", { class: "picker-head" }, prev, title, next),
    grid,
    h("div", { class: "picker-foot" }, todayButton, close),
  );
  const backdrop = h("div", { class: "picker-backdrop" }, dialog);
  const allowed = (iso) => (!min || iso >= min) && (!max || iso <= max);

  const draw = () => {
    const locale = document.documentElement.lang === "en" ? "en-GB" : "de-DE";
    title.textContent = new Intl.DateTimeFormat(locale, { month: "long", year: "numeric" }).format(month);
    const weekday = new Intl.DateTimeFormat(locale, { weekday: "short" });
    const long = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    const first = new Date(month);
    first.setDate(1 - ((first.getDay() + 6) % 7)); // the Monday on or before the 1st
    const head = h("tr", {}, [...Array(7)].map((_, i) => h("th", { scope: "col", abbr: new Intl.DateTimeFormat(locale, { weekday: "long" }).format(new Date(2024, 0, 1 + i)) }, weekday.format(new Date(2024, 0, 1 + i)))));
    const rows = [];
    const cursor = new Date(first);
    const todayIso = localDay(now());
    for (let week = 0; week < 6; week++) {
      const cells = [];
      for (let i = 0; i < 7; i++) {
        const iso = localDay(cursor);
        const inMonth = cursor.getMonth() === month.getMonth();
        const attrs = {
          type: "button",
          class: ["picker-day", inMonth ? "" : "other-month", iso === selected ? "selected" : ""].join(" ").trim(),
          "data-day": iso,
          tabindex: iso === focusDay ? "0" : "-1",
          "aria-label": long.format(cursor),
          "aria-pressed": String(iso === selected),
          "aria-current": iso === todayIso ? "date" : null,
          disabled: !allowed(iso),
        };
        cells.push(h("td", { role: "gridcell" }, h("button", attrs, String(cursor.getDate()))));
        cursor.setDate(cursor.getDate() + 1);
      }
      rows.push(h("tr", {}, cells));
    }
    grid.replaceChildren(h("thead", {}, head), h("tbody", {}, rows));
  };
  const moveTo = (iso) => {
    const [y, m] = iso.split("-").map(Number);
    focusDay = iso;
    if (y !== month.getFullYear() || m - 1 !== month.getMonth()) month = new Date(y, m - 1, 1);
    draw();
    grid.querySelector(`[data-day="${iso}"]`)?.focus();
  };
  const shift = (days, months = 0) => {
    const [y, m, d] = focusDay.split("-").map(Number);
    const date = months ? new Date(y, m - 1 + months, Math.min(d, new Date(y, m + months, 0).getDate())) : new Date(y, m - 1, d + days);
    moveTo(localDay(date));
  };
  const finish = () => {
    backdrop.remove();
    document.removeEventListener("keydown", keys, true);
    button.setAttribute("aria-expanded", "false");
    button.focus();
  };
  const keys = (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      finish();
      return;
    }
    if (event.key === "Tab") {
      const focusable = [...dialog.querySelectorAll("button:not([disabled])")].filter((el) => el.tabIndex >= 0);
      const [first, last] = [focusable[0], focusable[focusable.length - 1]];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
      return;
    }
    if (!event.target.classList?.contains("picker-day")) return;
    const moves = { ArrowLeft: [-1], ArrowRight: [1], ArrowUp: [-7], ArrowDown: [7], PageUp: [0, -1], PageDown: [0, 1] };
    const [y, m, d] = focusDay.split("-").map(Number);
    const weekday = (new Date(y, m - 1, d).getDay() + 6) % 7;
    if (event.key === "Home") moves.Home = [-weekday];
    if (event.key === "End") moves.End = [6 - weekday];
    if (!moves[event.key]) return;
    event.preventDefault();
    shift(...moves[event.key]);
  };
  grid.addEventListener("click", (event) => {
    const day = event.target.closest(".picker-day");
    if (!day || day.disabled) return;
    finish();
    pick(day.dataset.day);
  });
  prev.addEventListener("click", () => {
    month = new Date(month.getFullYear(), month.getMonth() - 1, 1);
    draw();
  });
  next.addEventListener("click", () => {
    month = new Date(month.getFullYear(), month.getMonth() + 1, 1);
    draw();
  });
  todayButton.addEventListener("click", () => moveTo(localDay(now())));
  close.addEventListener("click", finish);
  backdrop.addEventListener("click", (event) => {
    if (event.target === backdrop) finish();
  });
  document.addEventListener("keydown", keys, true);
  document.body.append(backdrop);
  button.setAttribute("aria-expanded", "true");
  draw();
  grid.querySelector(`[data-day="${focusDay}"]`)?.focus();
}
