"""Every document the code and tests cite is in the repository, and every numbered case, part or guarantee they
cite exists in it: someone with only the repository can follow each citation."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    path
    for folder in ("server", "tests", "pwa", "bench", "migrations", "scripts")
    for path in (ROOT / folder).rglob("*")
    # Hidden folders hold what tools installed there (the benchmark's peer, caches), not the project's own files.
    if path.suffix in {".py", ".js", ".html", ".sh", ".md"}
    and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
]
CITATION = re.compile(r"docs/([\w-]+\.md)")
NUMBERED = re.compile(r"docs/(security|sync-protocol)\.md,? (case|cases|part|guarantee) (\d+)")


def numbered_items(document: str) -> set[int]:
    return {int(m) for m in re.findall(r"^(\d+)\. ", document, flags=re.M)}


def part_headings(document: str) -> set[int]:
    return {int(m) for m in re.findall(r"^## (\d+)\. ", document, flags=re.M)}


def test_every_cited_document_exists() -> None:
    cited = {(name, path.relative_to(ROOT)) for path in SOURCES for name in CITATION.findall(path.read_text())}
    missing = sorted(f"{where} cites docs/{name}" for name, where in cited if not (ROOT / "docs" / name).exists())
    assert not missing
    assert {name for name, _ in cited} >= {"security.md", "sync-protocol.md", "domain.md"}


def test_every_cited_case_part_and_guarantee_exists() -> None:
    security = (ROOT / "docs" / "security.md").read_text()
    protocol = (ROOT / "docs" / "sync-protocol.md").read_text()
    cases = numbered_items(security.split("## Tested cases", 1)[1])
    parts = part_headings(security)
    guarantees = numbered_items(protocol.split("## Guarantees", 1)[1].split("\n## ", 1)[0])
    known = {"case": cases, "cases": cases, "part": parts, "guarantee": guarantees}
    wrong = sorted(
        f"{path.relative_to(ROOT)}: docs/{document}.md {what} {number}"
        for path in SOURCES
        for document, what, number in NUMBERED.findall(path.read_text())
        if int(number) not in known[what]
    )
    assert not wrong
    assert len(cases) >= 24
    assert parts == set(range(1, 8))
    assert guarantees == set(range(1, 9))


def test_no_citation_of_documents_outside_the_repository() -> None:
    outside = re.compile(r"(?<![\w/])(SECURITY|SYNC-PROTOCOL|DOMAIN|ARCHITECTURE|STYLE)\.md")
    found = sorted(str(p.relative_to(ROOT)) for p in [*SOURCES, ROOT / "README.md"] if outside.search(p.read_text()))
    assert not found
