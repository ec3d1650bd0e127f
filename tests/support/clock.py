"""The one clock of the tests: every test runs at a chosen instant in Berlin, on the server and on the tablet.

A test never reads the machine's date (``tests/unit/test_clock_guard.py`` keeps it that way): the ``clock`` fixture
moves the server's clock (:func:`server.db.shift_clock` in this process, ``DOORSTEP_CLOCK_SHIFT_SECONDS`` for a
served process) and every tablet's clock (Playwright's clock API on each browser context) to the same instant, and
time flows on from there. Without a parameter the instant is :data:`ORDINARY_DAY`, a Wednesday morning; a test of
date code runs at every instant of :data:`CALENDAR` with ``@calendar_matrix``, the days that break date code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.db import shift_clock, utcnow

__all__ = [
    "BERLIN",
    "CALENDAR",
    "ORDINARY_DAY",
    "Instant",
    "TestClock",
    "calendar_matrix",
    "current_shift",
    "day",
    "local",
    "now",
    "today",
]

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Instant:
    """A pinned instant with the name it has in the test report."""

    id: str
    at: dt.datetime  # aware, in Berlin


def _berlin(year: int, month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


ORDINARY_DAY = Instant("wednesday-2026-12-09", _berlin(2026, 12, 9, 9, 30))

# The days that break date code. Each is a parameter id in the test report.
CALENDAR = [
    Instant("saturday-2026-12-05", _berlin(2026, 12, 5, 10)),
    Instant("sunday-2026-12-06", _berlin(2026, 12, 6, 10)),
    # Internationaler Frauentag (8 March) is a holiday in Berlin alone.
    Instant("eve-of-berlin-holiday-2028-03-07", _berlin(2028, 3, 7, 10)),
    # Heilige Drei Könige (6 January) is a holiday in Bavaria, not in Berlin.
    Instant("eve-of-bavarian-holiday-2027-01-05", _berlin(2027, 1, 5, 10)),
    Instant("christmas-eve-2026-12-24", _berlin(2026, 12, 24, 10)),
    Instant("new-years-eve-2026-12-31", _berlin(2026, 12, 31, 10)),
    Instant("leap-year-2028-02-28", _berlin(2028, 2, 28, 10)),
    Instant("leap-day-2028-02-29", _berlin(2028, 2, 29, 10)),
    # 02:00 CET becomes 03:00 CEST half an hour later; the night of 25 October 02:00-03:00 comes twice.
    Instant("spring-forward-night-2027-03-28", _berlin(2027, 3, 28, 1, 30)),
    Instant("fall-back-night-2026-10-25", _berlin(2026, 10, 25, 2, 30, fold=0)),
    # 22:30 UTC, the same day in UTC and Berlin, already the next day east of Berlin (UTC+14: 12:30 on Saturday).
    Instant("friday-2330-2026-12-04", _berlin(2026, 12, 4, 23, 30)),
]

calendar_matrix = pytest.mark.parametrize("clock", CALENDAR, indirect=True, ids=[i.id for i in CALENDAR])
"""Run a test at every instant of :data:`CALENDAR`."""

_current = 0.0


def current_shift() -> float:
    """Seconds between the pinned clock and the machine's, for a served process (``DOORSTEP_CLOCK_SHIFT_SECONDS``)."""
    return _current


def _machine_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)  # the one place that reads the machine's clock


class TestClock:
    """The test's clock: it started at the pinned instant and runs at the machine's pace."""

    __test__ = False  # not a test class

    def __init__(self, instant: Instant) -> None:
        self.instant = instant
        self.shift = (instant.at - _machine_now()).total_seconds()

    def now(self) -> dt.datetime:
        """Now, in UTC."""
        return _machine_now() + dt.timedelta(seconds=self.shift)

    def local(self) -> dt.datetime:
        """Now, in Berlin."""
        return self.now().astimezone(BERLIN)

    def today(self) -> dt.date:
        """Today in Berlin."""
        return self.local().date()

    def day(self, offset: int = 0) -> str:
        """Today in Berlin plus ``offset`` days, as ISO text."""
        return (self.today() + dt.timedelta(days=offset)).isoformat()

    def at(self, offset_days: int, hour: int, minute: int = 0) -> dt.datetime:
        """A wall-clock time in Berlin ``offset_days`` from today (aware)."""
        day = self.today() + dt.timedelta(days=offset_days)
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)

    def travel(self, to: dt.datetime) -> None:
        """Move this clock, and the server's in this process, to ``to`` (aware); time flows on from there. Server
        processes started later start from it too; tablets already open keep their own clocks."""
        global _current
        self.shift = (to - _machine_now()).total_seconds()
        _current = self.shift
        shift_clock(self.shift)

    async def install(self, context: Any) -> None:
        """Set a browser context's clock (every page and frame of it) to this clock's now; it runs on from there."""
        await context.clock.install(time=self.now())


def pin(instant: Instant) -> TestClock:
    """Pin this process's server clock (and what a served process will be given) to ``instant``."""
    global _current
    clock = TestClock(instant)
    _current = clock.shift
    shift_clock(clock.shift)
    return clock


def now() -> dt.datetime:
    """Now on the pinned clock, in UTC: for helpers that are not handed the ``clock`` fixture."""
    return utcnow()


def local() -> dt.datetime:
    """Now on the pinned clock, in Berlin."""
    return utcnow().astimezone(BERLIN)


def today() -> dt.date:
    """Today in Berlin on the pinned clock."""
    return utcnow().astimezone(BERLIN).date()


def day(offset: int = 0) -> str:
    """Today in Berlin on the pinned clock plus ``offset`` days, as ISO text."""
    return (today() + dt.timedelta(days=offset)).isoformat()


def unpin() -> None:
    """Back to the machine's clock."""
    global _current
    _current = 0.0
    shift_clock(0)
