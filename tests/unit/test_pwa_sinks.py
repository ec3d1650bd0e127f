"""No script of the tablet hands text to an HTML parser (docs/security.md case 54): the DOM is built from data
(``ui.js`` ``h()``, ``letters.js`` ``buildLetter``), so no value and no template can become markup that runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SINKS = re.compile(r"\.(?:innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|createContextualFragment")


def test_no_script_of_the_tablet_parses_html() -> None:
    scripts = sorted([*(ROOT / "pwa" / "static" / "js").rglob("*.js"), *(ROOT / "pwa" / "templates").glob("*.js")])
    assert scripts
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in scripts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SINKS.search(line)
    ]
    assert found == []


def test_the_check_sees_a_sink() -> None:
    assert SINKS.search("page.innerHTML = fillTemplate(letter.html, values);")
    assert SINKS.search("el.insertAdjacentHTML('beforeend', html)")
    assert not SINKS.search("el.textContent = text;")
