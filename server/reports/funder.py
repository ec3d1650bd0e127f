"""The figures a funder asks for beyond the board's, from a period's counts (server/reports/counts.py): intake by
case type and by trigger, referrals by service, counselling time, money mobilised by legal basis (one-off and
monthly apart), arrears at intake and at closing, and sustainability: whether the households whose tenancy was kept
still held it 6 and 12 months after closing."""

from __future__ import annotations

import statistics

from server.reports.counts import Counts
from server.reports.schema import FunderFigures

__all__ = ["funder_figures"]


def funder_figures(counts: Counts, enquiries: dict[str, dict[str, int]]) -> FunderFigures:
    """The funders' figures of ``counts``, with the period's anonymous ``enquiries`` as counted by
    :func:`server.records.enquiries.count_enquiries`."""
    intake = [at_intake for at_intake, _ in counts.arrears]
    closing = [at_closing for _, at_closing in counts.arrears]
    return FunderFigures(
        enquiries=enquiries,
        intake_by_type=dict(counts.intake_by_type.most_common()),
        intake_by_trigger=dict(counts.intake_by_trigger.most_common()),
        referrals_by_service=dict(sorted(counts.referrals.items(), key=lambda item: (-item[1], item[0]))),
        counselling_minutes=counts.minutes,
        timed_contacts=counts.timed,
        one_off_by_basis=dict(counts.one_off.most_common()),
        monthly_by_basis=dict(counts.monthly.most_common()),
        follow_ups={
            asked: {answer: answers[answer] for answer in ("yes", "no", "unknown", "open")}
            for asked, answers in counts.follow_ups.items()
        },
        arrears_cases=len(counts.arrears),
        arrears_intake_cents=sum(intake),
        arrears_closing_cents=sum(closing),
        arrears_intake_median_cents=_median(intake),
        arrears_closing_median_cents=_median(closing),
    )


def _median(values: list[int]) -> int | None:
    return round(statistics.median(values)) if values else None
