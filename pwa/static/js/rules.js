// Rules the tablet and the server both compute. This module imports nothing and touches no browser API, so the
// test suite runs it in Node with the same table of cases as the Python implementation
// (server/records/standing.py and Assessment.monthly_balance_cents) and compares the answers.

/** ``isoDay`` (YYYY-MM-DD) plus ``days`` calendar days. */
export function addDays(isoDay, days) {
  const [y, m, d] = isoDay.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d + days));
  return date.toISOString().slice(0, 10);
}

/** ``isoDay`` plus ``months`` calendar months, on the month's last day when it is shorter (31.01. + 1 = 28.02.). */
export function addMonths(isoDay, months) {
  const [y, m, d] = isoDay.split("-").map(Number);
  const last = new Date(Date.UTC(y, m - 1 + months + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m - 1 + months, Math.min(d, last))).toISOString().slice(0, 10);
}

/**
 * The expected payments of an installment agreement and how it stands on ``onDay``:
 * "cancelled" (so recorded), "completed" (so recorded, or every payment paid), "broken" (so recorded, or two or
 * more payments recorded as missed), "behind" (one recorded as missed), "unrecorded" (a payment is due and nobody
 * has said yet whether it came) or "kept". A due payment that is not recorded is open, not missed, until marked.
 */
export function installmentState(fields, onDay) {
  const rate = fields.monthly_rate_cents;
  const count = Math.max(1, Math.ceil(fields.total_cents / rate));
  const recorded = new Map((fields.payments || []).map((p) => [p.due_on, p]));
  const expected = [];
  for (let i = 0; i < count; i++) {
    const due_on = addMonths(fields.start_on, i);
    const amount_cents = i === count - 1 ? fields.total_cents - rate * (count - 1) : rate;
    const payment = recorded.get(due_on);
    const paid = Boolean(payment?.paid_on);
    const missed = !paid && Boolean(payment?.missed);
    const unrecorded = !paid && !missed && due_on < onDay;
    expected.push({ due_on, amount_cents, paid, paid_on: payment?.paid_on || null, missed, flagged: missed, unrecorded, due: due_on <= onDay });
  }
  const outstanding = expected.filter((p) => p.missed);
  const paidCents = expected
    .filter((p) => p.paid)
    .reduce((sum, p) => sum + (recorded.get(p.due_on).amount_cents || p.amount_cents), 0);
  let state = outstanding.length === 0 ? (expected.some((p) => p.unrecorded) ? "unrecorded" : "kept") : outstanding.length === 1 ? "behind" : "broken";
  if (fields.status === "broken") state = "broken";
  if (fields.status === "completed" || expected.every((p) => p.paid)) state = "completed";
  if (fields.status === "cancelled") state = "cancelled";
  const next = expected.find((p) => !p.paid && !p.missed && !p.unrecorded) || null;
  return { expected, outstanding, state, paidCents, remainingCents: fields.total_cents - paidCents, next };
}

/** Income minus expenses of an assessment (section 6), in cents. */
export function monthlyBalance(fields) {
  const sum = (items) => (items || []).reduce((total, item) => total + (Number(item.monthly_cents) || 0), 0);
  const income = sum(fields.income?.items) + sum(fields.benefits?.received);
  const expenses = sum(fields.budget?.fixed) + sum(fields.budget?.variable);
  return { income, expenses, balance: income - expenses };
}
