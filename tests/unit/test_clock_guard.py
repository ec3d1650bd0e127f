"""No test and no server module reads the machine's clock directly.

Dates in the tests come from the ``clock`` fixture (tests/support/clock.py), which pins the server and the tablets
to one instant in Berlin; the server reads time through ``server.db.utcnow`` alone. A test that read the machine's
date would pass on a Wednesday and fail on a Sunday, which is how the suite once failed on weekends. A line that must
read the machine's clock says why with the marker ``machine's clock:`` in a comment.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS = re.compile(
    r"\b(?:date|datetime)\s*\.\s*(?:today|now|utcnow)\s*\("
    r"|\btime\s*\.\s*(?:time|time_ns|localtime|gmtime|ctime)\s*\("
    r"|\b(?:date|datetime)\s*\.\s*fromtimestamp\s*\(\s*time\b"
)
# In a test, the server's clock is read through the fixture too (``clock.now()``), so that the test says which
# clock it means; tests/support may read the pinned server clock for the helpers.
SERVER_CLOCK = re.compile(r"\butcnow\s*\(")
# The two places that read the machine's clock on purpose: the test clock itself, and the server's one clock.
HOMES = {"tests/support/clock.py", "server/db/base.py", "tests/unit/test_clock_guard.py"}  # and the guard's samples
MARKER = "machine's clock:"


def reads_of_the_machine_clock(path: str, text: str, *, in_a_test: bool = False) -> list[str]:
    """Each line of ``text`` that reads the machine's clock without saying why, as ``path:line: code`` (in a test,
    also each that reads the server's clock directly)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        if (READS.search(code) or (in_a_test and SERVER_CLOCK.search(code))) and MARKER not in line:
            found.append(f"{path}:{number}: {line.strip()}")
    return found


def test_no_test_and_no_server_module_reads_the_machine_clock() -> None:
    found: list[str] = []
    for folder in ("tests", "server"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name not in HOMES:
                in_a_test = folder == "tests" and not name.startswith("tests/support/")
                found += reads_of_the_machine_clock(name, path.read_text(encoding="utf-8"), in_a_test=in_a_test)
    assert found == [], "read the day from the clock fixture (tests) or server.db.utcnow (server):\n" + "\n".join(found)


def test_the_guard_finds_each_way_of_reading_the_date() -> None:
    sample = "\n".join(
        [
            "today = dt.date.today()",
            "now = datetime.now(dt.UTC)",
            "stamp = dt.datetime.utcnow()",
            "seconds = time.time()",
            "local = datetime.datetime.today()",
            "later = clock.now()",  # the fixture: fine
            "elapsed = time.monotonic()",  # a duration, not a date: fine
            "exp = int(time.time()) + 60  # machine's clock: the push service checks against its own",
            "# dt.date.today() in a comment is no read",
        ]
    )
    assert reads_of_the_machine_clock("sample.py", "due = utcnow() + week", in_a_test=True)
    assert not reads_of_the_machine_clock("sample.py", "due = utcnow() + week")  # the server's own code
    assert [line.split(": ", 1)[1] for line in reads_of_the_machine_clock("sample.py", sample)] == [
        "today = dt.date.today()",
        "now = datetime.now(dt.UTC)",
        "stamp = dt.datetime.utcnow()",
        "seconds = time.time()",
        "local = datetime.datetime.today()",
    ]
