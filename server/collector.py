"""The garbage collector of a server process, tuned once it has started.

A pull page of 2,000 records allocates some hundred thousand short-lived objects (rows, ciphertexts, plaintexts,
changes). With CPython's default thresholds the collector runs every 700 allocations, and every few hundred of
those runs it walks every object the process holds, the app's routes, mappers and compiled statements included.
On a bootstrap of 20,000 records that took 15 to 25 % of the server's time (``docs/benchmarks.md``).

So a server process, once started, moves what it holds into the collector's permanent generation
(:func:`gc.freeze`: those objects live as long as the process anyway) and runs the youngest generation every
``YOUNG_THRESHOLD`` allocations instead of every 700. Reference counting frees almost everything a request
allocates the moment it is done with; the collector is only needed for cycles, and those are still found.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "tune_collector"]

YOUNG_THRESHOLD = 10_000


def tune_collector() -> None:
    """Freeze what the started process holds and collect the youngest generation less often (see above)."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
