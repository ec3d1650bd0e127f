// The deadlines that follow from a case's legal events and benefit decisions, offline: the same rules table and
// the same arithmetic as server/records/deadlines.py (docs/legal.md). tests/unit/test_deadlines.py runs one table of
// cases through both. This module imports nothing, so that Node and the browser load it alike.

/** A calendar of days off: weekends and the public holidays the server listed for the organisation's region. */
export function daysOff(holidays) {
  const set = new Set(holidays || []);
  const working = (day) => {
    const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
    return weekday !== 0 && weekday !== 6 && !set.has(day);
  };
  return {
    working,
    /** Monday to Saturday and not a public holiday (a "Werktag", as the energy supply rules count). */
    werktag: (day) => new Date(`${day}T12:00:00Z`).getUTCDay() !== 0 && !set.has(day),
    next(day) {
      while (!working(day)) day = plusDays(day, 1);
      return day;
    },
    previous(day) {
      while (!working(day)) day = plusDays(day, -1);
      return day;
    },
  };
}

function plusDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

function plusMonths(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  const index = m - 1 + n;
  const year = y + Math.floor(index / 12);
  const month = ((index % 12) + 12) % 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month, Math.min(d, last))).toISOString().slice(0, 10);
}

/** Whether ``day`` lies between 15 July and 17 August or 24 December and 6 January, both included: Austrian appeal
 * periods stand still then (§ 222 Abs. 1 öZPO; the server's ``paused``). */
function paused(day) {
  const monthDay = day.slice(5);
  return (monthDay >= "07-15" && monthDay <= "08-17") || monthDay >= "12-24" || monthDay <= "01-06";
}

/** The end of ``period`` counted from ``start`` (§§ 187, 188, 193 BGB forward; back to a working day backward;
 * Austrian appeals without the days of § 222 öZPO). */
function addPeriod(start, period, off) {
  if (period.pause) {
    let remaining = (period.days || 0) + 7 * (period.weeks || 0);
    let day = start;
    while (remaining > 0) {
      day = plusDays(day, 1);
      if (!paused(day)) remaining -= 1;
    }
    return off.next(day);
  }
  if (period.working_days !== undefined) {
    let day = start;
    for (let i = 0; i < -period.working_days; i += 1) day = off.previous(plusDays(day, -1));
    return day;
  }
  const months = (period.months || 0) + 12 * (period.years || 0);
  const days = (period.days || 0) + 7 * (period.weeks || 0);
  const end = plusDays(plusMonths(start, months), days);
  if (period.exact) return end; // the earliest a supplier may act, not a last day to act: never moved
  return months > 0 || days > 0 ? off.next(end) : off.previous(end);
}

const pad = (n) => String(n).padStart(2, "0");

/** A date field, or the local date of a moment. */
export function dayOf(value) {
  if (!value) return null;
  if (!String(value).includes("T")) return String(value).slice(0, 10);
  const date = new Date(value);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function eventDay(fields) {
  for (const name of ["served_on", "dated_on", "scheduled_at", "until_on"]) {
    const found = dayOf(fields[name]);
    if (found) return found;
  }
  return null;
}

/** Every deadline of one case: [{rule, due_on, basis, record_id, kind, unavailable, provisional, warning}], by due
 * date.
 * @returns {import("./types.js").Deadline[]} */
export function compute(table, country, off, kase, events, applications, today) {
  const notices = events.filter(([, f]) => f.type === "notice_to_quit").map(([, f]) => f);
  const found = [];
  for (const rule of table.rules) {
    if (rule.country !== "*" && rule.country !== country) continue;
    const sources = rule.source === "legal_event" ? events : applications;
    for (const [recordId, fields] of sources) {
      if (rule.source === "legal_event" && fields.type !== rule.type) continue;
      if (rule.source === "benefit_application" && !rule.decisions.includes(fields.decision)) continue;
      if (rule.benefit_kinds && !rule.benefit_kinds.includes(fields.kind)) continue; // Wohngeld: administrative courts
      if ((rule.except_benefit_kinds || []).includes(fields.kind)) continue;
      // The court's notice stands in for a lawsuit only until the lawsuit's service is recorded.
      const unless = rule.unless_field || rule.from;
      if (rule.unless_type && events.some(([, other]) => other.type === rule.unless_type && other[unless])) continue;
      const provisional = [...(rule.provisional || [])];
      let start = dayOf(fields[rule.from]);
      let period = rule.period;
      if (!start && rule.from_else) {
        start = dayOf(fields[rule.from_else.field]);
        if (start) provisional.push(rule.from_else.provisional);
      }
      if (!start && rule.posted_from) {
        const posted = dayOf(fields[rule.posted_from]);
        start = posted ? plusDays(posted, rule.posted_days) : null;
      }
      if (!start) continue;
      if (fields.instructions_missing && rule.period_without_instructions) period = rule.period_without_instructions;
      let unavailable = null;
      let warning = null;
      if (rule.notice) {
        const test = rule.notice;
        const cured = notices.filter((n) => test.cured.includes(n.notice_kind));
        if (cured.length) {
          unavailable = barred(kase, cured, start, rule.bar_years);
          if (cured.some((n) => test.ordinary_stays.includes(n.notice_kind))) warning = "ordinary_stays";
        } else if (notices.length && notices.every((n) => test.not_cured.includes(n.notice_kind))) {
          continue; // only an ordentliche Kündigung: the Schonfrist does not cure it
        } else {
          provisional.unshift("notice_kind"); // none of a known kind recorded: shown until the notice says otherwise
          unavailable = barred(kase, [], start, rule.bar_years);
        }
      }
      if (rule.announce) {
        // Announced too late: fewer Werktage between the letter's Zugang and the day than the rule asks.
        const announced = dayOf(fields[rule.announce.field]);
        if (announced && werktageBetween(announced, start, off) < rule.announce.werktage) warning = "announced_late";
      }
      let due = addPeriod(start, period, off);
      const courtSet = rule.court_set ? dayOf(fields[rule.court_set]) : null;
      if (courtSet && courtSet < due) due = courtSet; // the court's letter names an earlier day than the statute
      if (rule.kind === "preparation" && due < today) due = today;
      found.push({ rule: rule.id, due_on: due, basis: rule.basis, record_id: recordId, kind: rule.kind, unavailable, provisional: [...new Set(provisional)], warning });
    }
  }
  return found.sort((a, b) => a.due_on.localeCompare(b.due_on) || a.rule.localeCompare(b.rule));
}

/** The Werktage (Monday to Saturday, not public holidays) strictly between two days. */
function werktageBetween(first, last, off) {
  let count = 0;
  for (let day = plusDays(first, 1); day < last; day = plusDays(day, 1)) if (off.werktag(day)) count += 1;
  return count;
}

/** An earlier notice, cured by the Schonfrist, reached the tenant less than ``years`` before this one did (the
 * server's ``_barred``): Zugang against Zugang. */
function barred(kase, notices, start, years) {
  const earlier = dayOf(kase.cured_notice_served_on) || dayOf(kase.schonfrist_used_on);
  const days = notices.map(eventDay).filter(Boolean).sort();
  const latest = days.length ? days[days.length - 1] : start;
  if (!earlier) return null;
  return plusMonths(latest, -12 * years) <= earlier && earlier < latest ? `schonfrist_used:${earlier}` : null;
}

const STAGES = {
  reminder: "pre_court",
  notice_to_quit: "pre_court",
  termination_notice: "court",
  court_notice_to_agency: "court",
  eviction_lawsuit: "court",
  municipality_notice: "court",
  court_date: "court",
  default_judgment: "court",
  judgment: "court",
  settlement: "court",
  eviction_period: "enforcement",
  bailiff_notice: "enforcement",
  eviction_order: "enforcement",
  eviction_date: "enforcement",
  eviction_postponement: "enforcement",
  eviction_done: "enforcement",
};

/** The stage of the latest legal event (by its date; the later recorded wins a tie), or null. */
export function phaseOf(events) {
  let latest = null;
  let phase = null;
  events.forEach((fields, index) => {
    const stage = STAGES[fields.type];
    const day = eventDay(fields);
    if (!stage || !day) return;
    if (!latest || day > latest[0] || (day === latest[0] && index >= latest[1])) {
      latest = [day, index];
      phase = stage;
    }
  });
  return phase;
}

/** A UUID derived from a source record and a rule, so every device that derives a follow-up writes one record
 * (the server's ``derived_id``). */
export async function derivedId(sourceId, rule) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${sourceId}|${rule}`)));
  const b = digest.slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80; // version 8: a name-based id of our own
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
