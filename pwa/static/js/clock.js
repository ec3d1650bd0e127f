// The tablet's "now", in the server's time. A tablet whose clock runs wrong (three days ahead, say) would record a
// visit "now" that the server refuses as lying in the future, and would count "today" wrongly. Every answer of the
// server carries its time (the Date header, api.js); when the two differ by more than five minutes, moments this
// tablet records and the day it calls today are taken from the server's time instead, offline too (the offset
// measured last is kept). The banner says the clock is wrong, so that the worker can have it set right.

const KEY = "doorstep.clock_offset_ms";
const TOLERANCE_MS = 5 * 60_000;
let offset = Number(localStorage.getItem(KEY)) || 0;

/** Note how far this device's clock runs ahead of the server's (``ms`` negative: behind). */
export function measured(ms) {
  offset = Math.abs(ms) > TOLERANCE_MS ? ms : 0;
  if (offset) localStorage.setItem(KEY, String(offset));
  else localStorage.removeItem(KEY);
}

/** How far this device's clock runs ahead of the server's, in ms (0 when within five minutes or not known). */
export function offsetMs() {
  return offset;
}

/** Now, as milliseconds since the epoch, in the server's time. */
export function nowMs() {
  return Date.now() - offset;
}

/** Now, as a Date, in the server's time. */
export function now() {
  return new Date(nowMs());
}

/** Now as RFC 3339 text, for a moment the tablet records. */
export function stamp() {
  return now().toISOString();
}
