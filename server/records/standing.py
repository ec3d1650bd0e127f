"""How an installment agreement stands on a day: one rule, computed by the server (reports) and the tablet.

The tablet's twin is ``installmentState`` in ``pwa/static/js/rules.js``; ``tests/unit/test_shared_rules.py`` runs
one table of cases through both and compares, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["add_months", "installment_state"]


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, on the month's last day when it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def installment_state(fields: dict[str, Any], on: dt.date) -> str:
    """``cancelled`` or ``completed`` (so recorded, or every payment paid), ``broken`` (so recorded, or two or more
    payments recorded as missed), ``behind`` (one recorded as missed), ``unrecorded`` (a payment is due and nobody
    has said yet whether it came) or ``kept``.

    A due payment that is not recorded is open, not missed: the worker marks it paid (with the day) or missed.
    """
    if fields.get("status") == "cancelled":
        return "cancelled"
    rate, total = int(fields["monthly_rate_cents"]), int(fields["total_cents"])
    count = max(1, -(-total // rate))
    start = dt.date.fromisoformat(fields["start_on"])
    recorded = {p["due_on"]: p for p in fields.get("payments") or []}
    paid_all, missed, unrecorded = True, 0, 0
    for i in range(count):
        due = add_months(start, i)
        payment = recorded.get(due.isoformat()) or {}
        paid = bool(payment.get("paid_on"))
        paid_all = paid_all and paid
        if not paid and payment.get("missed"):
            missed += 1
        elif not paid and due < on:
            unrecorded += 1
    if fields.get("status") == "completed" or paid_all:
        return "completed"
    if fields.get("status") == "broken" or missed >= 2:
        return "broken"
    if missed == 1:
        return "behind"
    return "unrecorded" if unrecorded else "kept"
