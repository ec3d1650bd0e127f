"""The deadlines that follow from a case's legal events and benefit decisions (docs/legal.md).

The rules are data, ``pwa/static/data/deadlines.json``, read here and by the tablet (``pwa/static/js/deadlines.js``),
so that both compute the same dates; a test runs one table of cases through both. Periods:

* forward (``months``, ``weeks``, ``days``, ``years`` > 0): the day of the event does not count (§ 187 Abs. 1 BGB);
  the period ends on the day of the last week or month that has the event day's name or number, or on the month's
  last day when it has no such day (§ 188 Abs. 2 and 3 BGB); an end on a Saturday, Sunday or public holiday moves
  to the next working day (§ 193 BGB, § 222 Abs. 2 ZPO);
* back from an appointment (``weeks``, ``days`` < 0): that many days before it, on the working day before when that
  is a day off, so that a reminder never comes too late ("two weeks before" is written as 15 days: the earlier of
  the readings, docs/legal.md);
* Austrian appeals (``pause``): the days between 15 July and 17 August and between 24 December and 6 January, both
  ends included, do not count, and a period served within them starts after them (§ 222 Abs. 1 öZPO); the end
  moves past Saturdays, Sundays, holidays and Good Friday (§ 126 Abs. 2 öZPO);
* a day the court set (``court_set``, the event's "Frist bis") that is earlier than the statutory end wins;
* ``working_days`` < 0: the working day(s) before the appointment;
* a preparation is due a week before its appointment, or today when that has passed: never born overdue.

The tool reminds and computes dates from the letters' dates; it gives no legal advice.
"""

from __future__ import annotations

import calendar as months_of
import datetime as dt
import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from server.records.calendar import Calendar
from server.resources import PWA_DIR

__all__ = [
    "RULES_FILE",
    "Deadline",
    "DeadlineOut",
    "action_id",
    "add_period",
    "compute",
    "derived_id",
    "phase_of",
    "rules",
]

RULES_FILE = PWA_DIR / "static" / "data" / "deadlines.json"

# The stage of the procedure each kind of legal event belongs to; the case's phase follows the latest event.
STAGES: dict[str, Literal["pre_court", "court", "enforcement"]] = {
    "reminder": "pre_court",
    "notice_to_quit": "pre_court",
    "termination_notice": "court",  # Austria: an Aufkündigung is filed with the court
    "court_notice_to_agency": "court",
    "eviction_lawsuit": "court",
    "municipality_notice": "court",
    "court_date": "court",
    "default_judgment": "court",
    "judgment": "court",
    "settlement": "court",
    "eviction_period": "enforcement",
    "bailiff_notice": "enforcement",
    "eviction_order": "enforcement",
    "eviction_date": "enforcement",
    "eviction_postponement": "enforcement",
    "eviction_done": "enforcement",
}


@functools.cache
def rules() -> list[dict[str, Any]]:
    """The rules table."""
    table: dict[str, Any] = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = table["rules"]
    return found


class DeadlineOut(msgspec.Struct, kw_only=True, frozen=True):
    """One deadline of a case, as ``GET /api/cases/{id}`` returns it."""

    rule: str
    due_on: dt.date
    basis: str
    record_id: uuid.UUID
    done: bool
    kind: Literal["deadline", "preparation"]
    # Why the rule does not help this time (the Schonfrist already used within two years), else None.
    unavailable: str | None = None
    # Why the date is not yet sure: "notice_kind" (no fristlose or ordentliche Kündigung recorded: check its kind),
    # "lawsuit_served" (counted from another date than the lawsuit's service: record that). Empty when it is sure.
    provisional: tuple[str, ...] = ()
    # What the worker must know beside the date: "ordinary_stays" (the notice was fristlos and hilfsweise
    # ordentlich; paying cures only the fristlose one). None otherwise.
    warning: str | None = None


@dataclass(frozen=True)
class Deadline:
    rule: str
    due_on: dt.date
    basis: str
    record_id: uuid.UUID
    kind: Literal["deadline", "preparation"]
    unavailable: str | None = None
    provisional: tuple[str, ...] = ()
    warning: str | None = None

    def out(self, done: bool) -> DeadlineOut:
        return DeadlineOut(
            rule=self.rule,
            due_on=self.due_on,
            basis=self.basis,
            record_id=self.record_id,
            done=done,
            kind=self.kind,
            unavailable=self.unavailable,
            provisional=self.provisional,
            warning=self.warning,
        )


def _add_months(start: dt.date, months: int) -> dt.date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(start.day, months_of.monthrange(year, month)[1]))


def paused(day: dt.date) -> bool:
    """Whether ``day`` lies in the time between 15 July and 17 August or 24 December and 6 January (both ends
    included, OGH 7 Ob 1/12s), in which Austrian appeal periods stand still (§ 222 Abs. 1 öZPO)."""
    summer = (7, 15) <= (day.month, day.day) <= (8, 17)
    winter = (day.month, day.day) >= (12, 24) or (day.month, day.day) <= (1, 6)
    return summer or winter


def add_period(start: dt.date, period: Mapping[str, Any], days_off: Calendar) -> dt.date:
    """The end of ``period`` counted from ``start`` (see the module's description)."""
    if period.get("pause"):
        # Count only the days outside the pause: the 28th counted day ends four weeks.
        remaining, day = period.get("days", 0) + 7 * period.get("weeks", 0), start
        while remaining > 0:
            day += dt.timedelta(days=1)
            remaining -= not paused(day)
        return days_off.next_working_day(day)
    if "working_days" in period:
        day, steps = start, -period["working_days"]
        for _ in range(steps):
            day = days_off.previous_working_day(day - dt.timedelta(days=1))
        return day
    months = period.get("months", 0) + 12 * period.get("years", 0)
    days = period.get("days", 0) + 7 * period.get("weeks", 0)
    end = _add_months(start, months) + dt.timedelta(days=days)
    if period.get("exact"):
        return end  # a day that is not a period's last day to act (the earliest a supplier may act): never moved
    if months > 0 or days > 0:
        return days_off.next_working_day(end)
    return days_off.previous_working_day(end)


def _day(value: Any, local_day: Callable[[str], dt.date]) -> dt.date | None:
    if not value:
        return None
    text = str(value)
    return local_day(text) if "T" in text else dt.date.fromisoformat(text)


def _event_day(fields: Mapping[str, Any], local_day: Callable[[str], dt.date]) -> dt.date | None:
    for name in ("served_on", "dated_on", "scheduled_at", "until_on"):
        found = _day(fields.get(name), local_day)
        if found is not None:
            return found
    return None


def compute(
    country: str,
    days_off: Calendar,
    case: Mapping[str, Any],
    events: Iterable[tuple[uuid.UUID, Mapping[str, Any]]],
    applications: Iterable[tuple[uuid.UUID, Mapping[str, Any]]],
    today: dt.date,
    local_day: Callable[[str], dt.date],
) -> list[Deadline]:
    """Every deadline of one case, by due date. ``local_day`` turns an RFC 3339 moment into the local date."""
    events, applications = list(events), list(applications)
    notices = [fields for _, fields in events if fields.get("type") == "notice_to_quit"]
    found: list[Deadline] = []
    for rule in rules():
        if rule["country"] not in ("*", country):
            continue
        sources = events if rule["source"] == "legal_event" else applications
        for record_id, fields in sources:
            if rule["source"] == "legal_event" and fields.get("type") != rule["type"]:
                continue
            if rule["source"] == "benefit_application" and fields.get("decision") not in rule["decisions"]:
                continue
            if "benefit_kinds" in rule and fields.get("kind") not in rule["benefit_kinds"]:
                continue  # e.g. Wohngeld: the administrative courts' rule, not the social courts'
            if fields.get("kind") in rule.get("except_benefit_kinds", ()):
                continue
            unless = rule.get("unless_field", rule["from"])
            if "unless_type" in rule and any(
                other.get("type") == rule["unless_type"] and other.get(unless) for _, other in events
            ):
                continue  # the court's notice stands in for a lawsuit only until the lawsuit's service is recorded
            provisional: list[str] = list(rule.get("provisional", []))
            start = _day(fields.get(rule["from"]), local_day)
            period = rule["period"]
            if start is None and "from_else" in rule:
                start = _day(fields.get(rule["from_else"]["field"]), local_day)
                if start is not None:
                    provisional.append(rule["from_else"]["provisional"])
            if start is None and "posted_from" in rule:
                posted = _day(fields.get(rule["posted_from"]), local_day)
                start = None if posted is None else posted + dt.timedelta(days=rule["posted_days"])
            if start is None:
                continue
            if fields.get("instructions_missing") and "period_without_instructions" in rule:
                period = rule["period_without_instructions"]
            unavailable = warning = None
            if "notice" in rule:
                test = rule["notice"]
                cured = [n for n in notices if n.get("notice_kind") in test["cured"]]
                if cured:
                    unavailable = _barred(case, cured, start, rule["bar_years"], local_day)
                    if any(n.get("notice_kind") in test["ordinary_stays"] for n in cured):
                        warning = "ordinary_stays"
                elif notices and all(n.get("notice_kind") in test["not_cured"] for n in notices):
                    continue  # only an ordentliche Kündigung is recorded: the Schonfrist does not cure it
                else:
                    # No Kündigung recorded, or none of a known kind: the court acts on arrears, so the Schonfrist
                    # is shown until the notice says otherwise.
                    provisional.insert(0, "notice_kind")
                    unavailable = _barred(case, [], start, rule["bar_years"], local_day)
            if "announce" in rule:
                # Announced too late: fewer Werktage between the letter's Zugang and the day than the rule asks.
                announced = _day(fields.get(rule["announce"]["field"]), local_day)
                if (
                    announced is not None
                    and _werktage_between(announced, start, days_off) < rule["announce"]["werktage"]
                ):
                    warning = "announced_late"
            due = add_period(start, period, days_off)
            court_set = _day(fields.get(rule["court_set"]), local_day) if "court_set" in rule else None
            if court_set is not None and court_set < due:
                due = court_set  # the court's letter names an earlier day than the statute gives: that one counts
            if rule["kind"] == "preparation":
                due = max(due, today)
            found.append(
                Deadline(
                    rule["id"],
                    due,
                    rule["basis"],
                    record_id,
                    rule["kind"],
                    unavailable,
                    tuple(dict.fromkeys(provisional)),
                    warning,
                )
            )
    return sorted(found, key=lambda d: (d.due_on, d.rule))


def _werktage_between(first: dt.date, last: dt.date, days_off: Calendar) -> int:
    """The Werktage (Monday to Saturday, not public holidays) strictly between two days."""
    count, day = 0, first + dt.timedelta(days=1)
    while day < last:
        count += days_off.is_werktag(day)
        day += dt.timedelta(days=1)
    return count


def _barred(
    case: Mapping[str, Any],
    notices: list[Mapping[str, Any]],
    start: dt.date,
    years: int,
    local_day: Callable[[str], dt.date],
) -> str | None:
    """Why the Schonfrist does not help: an earlier notice, cured this way, reached the tenant less than ``years``
    before this one did (§ 569 Abs. 3 Nr. 2 Satz 2 BGB compares the two notices, each effective on its Zugang).
    The earlier Zugang is the case's ``cured_notice_served_on``; an older case may only know the day of the cure
    (``schonfrist_used_on``), which is used in its place. This notice's Zugang is the latest recorded notice's, or,
    with none recorded, the day the deadline counts from (the notice came before it)."""
    earlier = _day(case.get("cured_notice_served_on"), local_day) or _day(case.get("schonfrist_used_on"), local_day)
    latest = max((d for n in notices if (d := _event_day(n, local_day)) is not None), default=start)
    if earlier is None:
        return None
    if _add_months(latest, -12 * years) <= earlier < latest:
        return f"schonfrist_used:{earlier.isoformat()}"
    return None


def phase_of(events: Iterable[Mapping[str, Any]], local_day: Callable[[str], dt.date]) -> str | None:
    """The stage of the latest legal event (by its date; the later recorded wins a tie), or None."""
    latest: tuple[dt.date, int] | None = None
    phase = None
    for index, fields in enumerate(events):
        stage = STAGES.get(str(fields.get("type")))
        day = _event_day(fields, local_day)
        if stage is None or day is None:
            continue
        if latest is None or (day, index) >= latest:
            latest, phase = (day, index), stage
    return phase


def derived_id(source_id: uuid.UUID | str, rule: str) -> uuid.UUID:
    """The id every device gives the action a rule generates from a record (the tablet's ``derivedId``)."""
    raw = bytearray(hashlib.sha256(f"{source_id}|{rule}".encode()).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80
    raw[8] = (raw[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(raw))


def action_id(deadline: Deadline) -> uuid.UUID:
    """The id of the action a deadline generates on the tablets. A preparation keeps the id the earlier single
    "prepare a week before" action had, so that an action already made is moved, never doubled."""
    return derived_id(deadline.record_id, "deadline" if deadline.kind == "preparation" else deadline.rule)
