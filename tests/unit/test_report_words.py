"""How a report names its period and which statistics cells it withholds."""

from __future__ import annotations

import datetime as dt

from server.reports.statistics import suppressed
from server.reports.words import period_words


def test_a_period_is_named_as_a_funder_writes_it() -> None:
    assert period_words(dt.date(2026, 1, 1), dt.date(2026, 11, 30), "AT") == "1. Jänner bis 30. November 2026"
    assert period_words(dt.date(2026, 1, 1), dt.date(2026, 11, 30), "DE") == "1. Januar bis 30. November 2026"
    assert period_words(dt.date(2025, 7, 1), dt.date(2026, 6, 30)) == "1. Juli 2025 bis 30. Juni 2026"
    assert period_words(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == "2026"


def test_small_cells_are_withheld_and_never_given_away_by_the_total() -> None:
    assert suppressed({"a": 0, "b": 5, "c": 12}) == {}  # nothing small; an empty cell tells nothing about anyone
    # One small cell: the next smallest is withheld too, else total minus the rest gives it.
    assert suppressed({"a": 3, "b": 6, "c": 12, "d": 0}) == {"a": "< 5", "b": "x"}
    # Two small cells hide each other.
    assert suppressed({"a": 1, "b": 4, "c": 12}) == {"a": "< 5", "b": "< 5"}
    # The only cell is small: nothing else to withhold (the total is withheld on its own).
    assert suppressed({"a": 2, "b": 0}) == {"a": "< 5"}
