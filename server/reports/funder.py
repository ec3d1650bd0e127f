"""The figures a funder asks for beyond the board's: intake by case type and by trigger, referrals by service,
counselling time, money mobilised by legal basis (one-off and monthly apart), and sustainability: whether the
households whose tenancy was kept still held it 6 and 12 months after closing."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from server.reports.periods import day_of
from server.reports.schema import FunderFigures
from server.reports.source import Source

__all__ = ["funder_figures"]


def funder_figures(
    source: Source, enquiries: dict[str, dict[str, int]], *, start: dt.date, end: dt.date
) -> FunderFigures:
    """Counted from ``source`` (one team's or several teams' records) for ``start``..``end``, with the period's
    anonymous ``enquiries`` as counted by :func:`server.records.enquiries.count_enquiries`."""
    by_type: Counter[str] = Counter()
    by_trigger: Counter[str] = Counter()
    for case_id, fields in source.cases.items():
        opened = source.course(case_id).opened
        if opened is None or not start <= opened <= end:
            continue
        by_type[str(fields.get("type"))] += 1
        by_trigger[str(fields.get("trigger") or "unknown")] += 1

    minutes = timed = 0
    for counted in source.contacts:
        if start <= counted.day <= end:
            minutes += counted.minutes
            timed += counted.timed

    referrals: Counter[str] = Counter()
    follow_ups: dict[str, Counter[str]] = {"tenancy_6m": Counter(), "tenancy_12m": Counter()}
    one_off: Counter[str] = Counter()
    monthly: Counter[str] = Counter()
    for _, fields in source.kind("action"):
        due = day_of(fields.get("due_on"))
        asked = fields.get("follow_up")
        if asked in follow_ups and due is not None and start <= due <= end and fields.get("status") != "cancelled":
            follow_ups[asked][str(fields.get("tenancy_held") or "open")] += 1
    for _, fields in source.kind("referral"):
        if (sent := day_of(fields.get("sent_on"))) is not None and start <= sent <= end:
            referrals[" ".join(str(fields.get("service") or "").split())] += 1
    for _, fields in source.kind("benefit_application"):
        decided = day_of(fields.get("decided_on"))
        if (
            fields.get("decision") not in ("granted", "partly_granted")
            or decided is None
            or not start <= decided <= end
        ):
            continue
        basis = str(fields.get("legal_basis") or "unknown")
        (monthly if fields.get("period") == "monthly" else one_off)[basis] += int(fields.get("amount_cents") or 0)
    return FunderFigures(
        enquiries=enquiries,
        intake_by_type=dict(by_type.most_common()),
        intake_by_trigger=dict(by_trigger.most_common()),
        referrals_by_service=dict(sorted(referrals.items(), key=lambda item: (-item[1], item[0]))),
        counselling_minutes=minutes,
        timed_contacts=timed,
        one_off_by_basis=dict(one_off.most_common()),
        monthly_by_basis=dict(monthly.most_common()),
        follow_ups={
            asked: {answer: answers[answer] for answer in ("yes", "no", "unknown", "open")}
            for asked, answers in follow_ups.items()
        },
    )
