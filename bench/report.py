"""Shared output of the benchmarks: a printed table and a section of docs/benchmarks.md."""

from __future__ import annotations

import platform
import re
from pathlib import Path

__all__ = ["print_table", "write_section"]

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\nEach section is written by the benchmark named in its heading, run on this project's "
    "2-core machine.\n"
)


def print_table(headers: list[str], rows: list[list[str]]) -> str:
    """Print a Markdown table and return it."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    table = "\n".join(lines)
    print(table)
    return table


def write_section(name: str, body: str) -> None:
    """Replace (or add) the section ``name`` in docs/benchmarks.md."""
    text = DOC.read_text() if DOC.exists() else HEADER
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    machine = f"Machine: {platform.machine()}, Python {platform.python_version()}."
    section = f"{start}\n## {name}\n\n{body.strip()}\n\n{machine}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
