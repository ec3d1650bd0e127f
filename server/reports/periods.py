"""A case's course in time, from its history (server/records/history.py): when it was opened, each closure with its
outcome, and each reopening. A report counts a period from this course, not from the case's state today, so a
closure stays in its period after the case is reopened; a change recorded after the period's end that alters the
period's closures is a correction, and the report says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from server.db import utcnow
from server.records.history import Entry, is_case_state, tracked

__all__ = ["Closure", "Course", "course", "day_of"]


def day_of(value: Any) -> dt.date | None:
    """A stored date (or the date part of a moment) as a date."""
    return None if value is None else dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Closure:
    closed_on: dt.date
    outcome: str | None
    began: dt.date | None  # first contact, else opening, as recorded with the closure


@dataclass(frozen=True)
class Course:
    opened: dt.date | None
    closures: list[Closure] = field(default_factory=list)
    reopened: list[dt.date] = field(default_factory=list)  # local days the case was reopened

    def supported(self, start: dt.date, end: dt.date) -> bool:
        """Open on some day of ``start``..``end``: opened by its end, and not closed for the whole of it."""
        if self.opened is not None and self.opened > end:
            return False
        spans: list[tuple[dt.date | None, dt.date | None]] = []
        begin: dt.date | None = self.opened
        for index, closure in enumerate(self.closures):
            spans.append((begin, closure.closed_on))
            begin = self.reopened[index] if index < len(self.reopened) else None
            if begin is None:
                break
        else:
            spans.append((begin, None))
        return any((a is None or a <= end) and (b is None or b >= start) for a, b in spans)

    def closed_in(self, start: dt.date, end: dt.date) -> list[Closure]:
        return [c for c in self.closures if start <= c.closed_on <= end]


def course(
    entries: Sequence[Entry], current: Mapping[str, Any], zone: ZoneInfo, *, until: dt.datetime | None = None
) -> Course:
    """The course of one case from its history entries recorded before ``until`` (all when None). A case without
    entries (older than its history) reads as its ``current`` fields."""
    entries = [e for e in entries if is_case_state(e.state)]  # the assessment's arrears have entries of their own
    states: list[tuple[dt.datetime | None, dict[str, Any]]] = [
        (e.recorded_at, e.state) for e in entries if until is None or e.recorded_at < until
    ]
    if not entries:
        states = [(None, tracked(current))]
    if not states:
        return Course(opened=None)
    latest = states[-1][1]
    opened = day_of(latest.get("opened_on")) or day_of(latest.get("first_contact_on"))
    closures: list[Closure] = []
    reopened: list[dt.date] = []
    closing: Closure | None = None
    for recorded_at, state in states:
        closed_on = day_of(state.get("closed_on")) if state.get("status") == "closed" else None
        if closed_on is not None:
            # A closure, or a later change of the same closure (its date or outcome corrected): the last one counts.
            began = day_of(state.get("first_contact_on")) or day_of(state.get("opened_on"))
            closing = Closure(closed_on=closed_on, outcome=state.get("outcome"), began=began)
        elif closing is not None:
            closures.append(closing)
            closing = None
            moment = recorded_at or utcnow()
            reopened.append(moment.astimezone(zone).date())
    if closing is not None:
        closures.append(closing)
    return Course(opened=opened, closures=closures, reopened=reopened)
