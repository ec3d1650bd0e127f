"""A period's counts for some cases, in a form that adds up: the management's total is the sum of its teams'
counts (:meth:`Counts.add`), not a second pass over every case. Medians and distinct households keep what they
need (every value, every household) so that a sum of counts gives the same figures as counting all at once.

:func:`count` walks one :class:`~server.reports.source.Source` for one period; ``server/reports/service.py`` turns
counts into a report, and ``server/reports/funder.py`` counts the funders' figures into the same object.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from server.reports.periods import day_of
from server.reports.schema import CONSULTING_CHANNELS, KEPT_OUTCOMES, STATISTICS, WRITTEN_CHANNELS
from server.reports.source import TOLD, Reach, Source

__all__ = ["MONEY_COLUMNS", "Counts", "count", "days_band", "how_reached"]

MONEY_COLUMNS = ("applications", "grant", "loan", "unspecified", "monthly", "over_months")


@dataclass
class Counts:
    supported: int = 0
    new: int = 0
    corrections: int = 0
    households: set[object] = field(default_factory=set)  # a household (or a case without one) counts once
    outcomes: Counter[str] = field(default_factory=Counter)
    closed_by_month: Counter[str] = field(default_factory=Counter)
    kept_by_month: Counter[str] = field(default_factory=Counter)
    days: list[int] = field(default_factory=list)  # first contact to closure, per closure
    contacts: Counter[str] = field(default_factory=Counter)
    contacts_by_month: Counter[str] = field(default_factory=Counter)
    # docs/domain.md "Definitions": reached in person or by phone; not reached; written help the team sent.
    consultations: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    first_contacts: int = 0  # cases whose first contact lies in the period
    # The Land's statistics: dimension -> value -> cases (server/reports/statistics.py).
    statistics: dict[str, Counter[str]] = field(default_factory=dict)
    trigger_days: list[int] = field(default_factory=list)  # trigger to first contact, per case
    # The households the team was told about, opened in the period: told, and how (or whether) they were reached.
    outreach: Counter[str] = field(default_factory=Counter)
    money: dict[str, Counter[str]] = field(default_factory=dict)  # benefit kind: MONEY_COLUMNS
    granted_by_case: Counter[uuid.UUID] = field(default_factory=Counter)
    mediations_held: int = 0
    mediations_resolved: int = 0
    mediation_households: int = 0
    installments: Counter[str] = field(default_factory=Counter)
    # The funders' figures (server/reports/funder.py).
    intake_by_type: Counter[str] = field(default_factory=Counter)
    intake_by_trigger: Counter[str] = field(default_factory=Counter)
    referrals: Counter[str] = field(default_factory=Counter)
    minutes: int = 0
    timed: int = 0
    one_off: Counter[str] = field(default_factory=Counter)
    monthly: Counter[str] = field(default_factory=Counter)
    follow_ups: dict[str, Counter[str]] = field(
        default_factory=lambda: {"tenancy_6m": Counter(), "tenancy_12m": Counter()}
    )
    arrears: list[tuple[int, int]] = field(default_factory=list)  # (intake, closing) per closed case

    def add(self, other: Counts) -> Counts:
        """Add ``other``'s counts to these (another team's cases); returns self."""
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, int):
                setattr(self, item.name, mine + theirs)
            elif isinstance(mine, set):
                mine |= theirs
            elif isinstance(mine, list):
                mine.extend(theirs)
            elif isinstance(mine, Counter):
                mine.update(theirs)
            else:  # a dict of counters
                for key, counter in theirs.items():
                    mine.setdefault(key, Counter()).update(counter)
        return self


def count(source: Source, start: dt.date, end: dt.date, until: dt.datetime, today: dt.date) -> Counts:
    """The counts of ``source``'s cases for ``start``..``end`` (``until``: the moment the period ended)."""
    counts = Counts()
    _cases(counts, source, start, end, until)
    for counted in source.contacts:
        if start <= counted.day <= end:
            counts.contacts[counted.channel] += counted.contacts
            counts.contacts_by_month[counted.day.isoformat()[:7]] += counted.contacts
            counts.minutes += counted.minutes
            counts.timed += counted.timed
            if not counted.reached:
                counts.attempts[counted.channel] += counted.contacts
            elif counted.channel in CONSULTING_CHANNELS:
                counts.consultations[counted.channel] += counted.contacts
            elif counted.channel in WRITTEN_CHANNELS and not counted.incoming:
                counts.written[counted.channel] += counted.contacts
    _money(counts, source, start, end)
    for _, record in source.kind("mediation"):
        if any(start <= (day_of(s.get("on")) or dt.date.min) <= end for s in record.get("sessions") or []):
            counts.mediations_held += 1
            counts.mediation_households += len(record.get("party_case_ids") or [])
            if record.get("agreement_reached") is True:
                counts.mediations_resolved += 1
    standing_on = min(end, today)
    for _, record in source.kind("installment_agreement"):
        begins = day_of(record.get("start_on"))
        if begins is not None and begins <= end:
            counts.installments[source.standing(record, standing_on)] += 1
    for _, record in source.kind("action"):
        due, asked = day_of(record.get("due_on")), record.get("follow_up")
        if (
            asked in counts.follow_ups
            and due is not None
            and start <= due <= end
            and record.get("status") != "cancelled"
        ):
            counts.follow_ups[asked][str(record.get("tenancy_held") or "open")] += 1
    for _, record in source.kind("referral"):
        if (sent := day_of(record.get("sent_on"))) is not None and start <= sent <= end:
            counts.referrals[" ".join(str(record.get("service") or "").split())] += 1
    return counts


def _cases(counts: Counts, source: Source, start: dt.date, end: dt.date, until: dt.datetime) -> None:
    """Supported, new, closed, outcomes and time to closure, from each case's course as recorded, so a reopening
    does not take a closure out of its period. Closures recorded or changed after the period's end are counted as
    they stand now, and named as corrections."""
    for case_id, case in source.cases.items():
        known = source.course(case_id)
        if known.supported(start, end):
            counts.supported += 1
            counts.households.add(case.get("household_id") or case_id)
            _statistics(counts, case)
        first = source.first_contact(case_id)
        if first is not None and start <= first <= end:
            counts.first_contacts += 1
            if (told := day_of(case.get("trigger_on"))) is not None and told <= first:
                counts.trigger_days.append((first - told).days)
            counts.statistics.setdefault("trigger_days", Counter())[days_band(case, first)] += 1
        if known.opened is not None and start <= known.opened <= end:
            counts.new += 1
            counts.intake_by_type[str(case.get("type"))] += 1
            counts.intake_by_trigger[str(case.get("trigger") or "unknown")] += 1
            if case.get("trigger") in TOLD:
                counts.outreach["told"] += 1
                counts.outreach[how_reached(source.reach.get(case_id, []))] += 1
        closures = [c for c in known.closed_in(start, end) if c.outcome]
        recorded = source.course_until(case_id, until)
        if recorded is not known:  # something was recorded after the period's end: did it change the period?
            then = [(c.closed_on, c.outcome) for c in recorded.closed_in(start, end) if c.outcome]
            if [(c.closed_on, c.outcome) for c in closures] != then:
                counts.corrections += 1
        if closures:
            housing = str(case.get("housing_at_end") or "unknown")
            counts.statistics.setdefault("housing_at_end", Counter())[housing] += 1
        for closure in closures:
            outcome = str(closure.outcome)
            counts.outcomes[outcome] += 1
            month = closure.closed_on.isoformat()[:7]
            counts.closed_by_month[month] += 1
            if outcome in KEPT_OUTCOMES:
                counts.kept_by_month[month] += 1
            if closure.began is not None and closure.began <= closure.closed_on:
                counts.days.append((closure.closed_on - closure.began).days)
        if closures and (amounts := _arrears(source, case_id, closures[-1].closed_on)) is not None:
            counts.arrears.append(amounts)


def _statistics(counts: Counts, case: dict[str, Any]) -> None:
    """Count a supported case into each dimension of the Land's statistics ("unknown" when not recorded)."""
    for name in STATISTICS:
        value = case.get(name)
        if name == "children":
            value = None if value is None else ("3_plus" if int(value) >= 3 else str(int(value)))
        counts.statistics.setdefault(name, Counter())[str(value or "unknown")] += 1


def days_band(case: dict[str, Any], first: dt.date) -> str:
    """The time from a case's trigger to its first contact, as the statistics band it: within a week, two weeks, a
    month, three months, or longer; "unknown" without the trigger's day."""
    told = day_of(case.get("trigger_on"))
    if told is None or told > first:
        return "unknown"
    days = (first - told).days
    for band, most in (("up_to_7", 7), ("up_to_14", 14), ("up_to_30", 30), ("up_to_90", 90)):
        if days <= most:
            return band
    return "over_90"


def how_reached(contacts: list[Reach]) -> str:
    """How a household the team was told about was first reached (docs/domain.md "Definitions"): it got in touch
    itself, by phone, in person, at the door after letters went unanswered, or not (yet) at all."""
    letters = False
    for contact in contacts:
        if contact.reached and contact.incoming:
            return "reached_incoming"
        if contact.reached and contact.channel == "home_visit":
            return "reached_visit_after_letters" if letters else "reached_visit"
        if contact.reached and contact.channel in CONSULTING_CHANNELS:
            return "reached_contact"
        if contact.channel == "letter" and not contact.incoming:
            letters = True
    return "not_reached"


def _arrears(source: Source, case_id: uuid.UUID, closed_on: dt.date) -> tuple[int, int] | None:
    """The rent arrears the case's assessment recorded first (at intake) and last by the end of its closing day (at
    closing); None when none was recorded by then."""
    recorded = source.arrears(case_id)
    by_then = dt.datetime.combine(closed_on + dt.timedelta(days=1), dt.time(), tzinfo=source.zone)
    known = [cents for at, cents in recorded if at < by_then]
    return (recorded[0][1], known[-1]) if known else None


def _money(counts: Counts, source: Source, start: dt.date, end: dt.date) -> None:
    """Granted applications decided in the period: by benefit kind (one-off as grant, loan or not marked; monthly
    per month and over the granted months) and by legal basis."""
    for case_id, record in source.kind("benefit_application"):
        decided = day_of(record.get("decided_on"))
        if decided is None or not start <= decided <= end:
            continue
        amount = int(record.get("amount_cents") or 0)
        monthly = record.get("period") == "monthly"
        entry = counts.money.setdefault(str(record["kind"]), Counter(dict.fromkeys(MONEY_COLUMNS, 0)))
        entry["applications"] += 1
        entry["monthly" if monthly else str(record.get("form") or "unspecified")] += amount
        if monthly:
            entry["over_months"] += amount * int(record.get("months") or 1)  # a duration not recorded: one month
        counts.granted_by_case[case_id] += amount
        basis = str(record.get("legal_basis") or "unknown")
        (counts.monthly if monthly else counts.one_off)[basis] += amount
