"""The import directions of docs/architecture.md, read from the modules' own imports.

Dependencies point inward, toward the data: ``crypto`` is pure, ``db`` knows no domain, ``auth`` knows users,
sessions and devices but never case data, ``records`` knows nothing of sync, push, reports or the web, and
nothing but the app factory's plugin (and the CLI) reaches every area. A new import that points the wrong way
fails here, naming the module and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "server"

# What each area may import besides itself. Modules at the top of server/ that hold no domain (settings,
# problems, resources, logs, text, periodic, metrics) are shared by all; they themselves may import none of the areas.
FOUNDATION = {"settings", "problems", "resources", "logs", "text", "periodic", "metrics", "launch", "ownership"}
ALLOWED: dict[str, set[str]] = {
    "crypto": set(),
    "db": set(),
    "audit": {"db"},
    "auth": {"audit", "db"},
    "records": {"auth", "crypto", "db", "audit"},
    "push": {"auth", "db"},
    "sync": {"auth", "db", "audit", "records", "push"},
    "reports": {"auth", "db", "audit", "records"},
    "web": set(),
    "demo": {"auth", "db", "intake", "records"},
    # The front door: referrals become cases through the records' writer; a push tells the worker.
    "intake": {"auth", "audit", "crypto", "db", "push", "records"},
    # Jobs that span areas (housekeeping, deadline reminders): they use the areas; no area calls into them.
    "jobs": {"audit", "auth", "db", "intake", "push", "records", "sync"},
}


def imported_areas(path: Path) -> set[str]:
    """The first component under ``server`` of everything ``path`` imports (``from server import audit``
    counts as ``audit``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "server" else [f"server.{a.name}" for a in node.names]
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith("server.")}
    return found


def area_modules() -> list[tuple[str, Path]]:
    return [(path.parent.name, path) for path in sorted(SERVER.glob("*/*.py"))]


def test_every_area_is_listed() -> None:
    areas = {path.name for path in SERVER.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert areas == ALLOWED.keys()


@pytest.mark.parametrize(("area", "path"), area_modules(), ids=lambda value: str(value).rsplit("server/", 1)[-1])
def test_imports_point_inward(area: str, path: Path) -> None:
    wrong = imported_areas(path) - ALLOWED[area] - FOUNDATION - {area}
    assert not wrong, f"server/{area}/{path.name} imports {sorted(wrong)}, against the architecture"


@pytest.mark.parametrize("name", sorted(FOUNDATION))
def test_foundation_modules_import_no_area(name: str) -> None:
    assert not imported_areas(SERVER / f"{name}.py") & ALLOWED.keys()


# The modules at the top of server/ that are neither foundation nor an area: what each may reach. The composition
# roots (app, plugin, cli) see everything; the tools that span areas see the areas they work on; a new
# module at the top must be listed here.
EVERYTHING = set(ALLOWED) | FOUNDATION | {"admin", "backup", "collector", "models", "people", "plugin", "recovery"}
TOP_LEVEL: dict[str, set[str]] = {
    "app": EVERYTHING,
    "plugin": EVERYTHING,
    "cli": EVERYTHING,
    "people": {"admin", "audit", "auth", "db"},
    "collector": set(),
    "models": {"audit", "auth", "intake", "push", "records", "sync"},  # every table, for the migrations
    "admin": {"audit", "crypto", "db", "push", "records"},
    "backup": {"audit", "crypto", "db", "records", "recovery"},
    "recovery": {"crypto", "records"},
}


def test_every_module_at_the_top_is_foundation_or_listed() -> None:
    modules = {path.stem for path in SERVER.glob("*.py")} - {"__init__"}
    assert modules == FOUNDATION | TOP_LEVEL.keys()
    assert not [p for p in SERVER.glob("*/*/*.py")], "the areas have no sub-packages this test would not read"


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_modules_at_the_top_reach_only_what_they_are_listed_for(name: str) -> None:
    wrong = imported_areas(SERVER / f"{name}.py") - TOP_LEVEL[name] - FOUNDATION
    assert not wrong, f"server/{name}.py imports {sorted(wrong)}, against the architecture"


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "x.py"
    module.write_text("from server.sync.service import SyncService\nfrom server import reports\n", encoding="utf-8")
    assert imported_areas(module) == {"sync", "reports"}


def test_no_module_is_much_longer_than_400_lines() -> None:
    long = {str(p.relative_to(SERVER)): n for p in SERVER.rglob("*.py") if (n := len(p.read_text().splitlines())) > 440}
    assert not long, f"split these by job: {long}"
