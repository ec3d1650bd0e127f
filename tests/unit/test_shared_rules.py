"""Rules the server and the tablet both compute give the same answers: one table of cases, run through the
Python implementation and through ``pwa/static/js/rules.js`` in Node, compared case by case."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import msgspec

from server.records.schemas import SCHEMA_VERSION, Assessment
from server.records.search import haystack, matches
from server.records.standing import installment_state
from server.resources import PWA_DIR
from tests.support.node import run_js

RULES_JS = PWA_DIR / "static" / "js" / "rules.js"


def agreement(status: str = "active", payments: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    fields = {"total_cents": 60000, "monthly_rate_cents": 10000, "start_on": "2026-01-31", "status": status}
    return fields | {"payments": payments or []} | extra


PAID = {"paid_on": "2026-01-31", "amount_cents": 10000}
DUES = ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30"]
ALL_PAID = [{"due_on": due, **PAID} for due in DUES]

# (name, fields, day) -> both sides must agree on the standing; the expected answer documents the rule.
STANDING_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("nothing due yet", agreement(), "2026-01-15", "kept"),
    ("first payment due today", agreement(), "2026-01-31", "kept"),
    ("first payment a day late, not recorded: open, not missed", agreement(), "2026-02-01", "unrecorded"),
    (
        "end of month carries over to February",
        agreement(payments=[{"due_on": "2026-01-31", **PAID}]),
        "2026-03-01",
        "unrecorded",
    ),
    (
        "one recorded as missed",
        agreement(payments=[{"due_on": "2026-01-31", **PAID}, {"due_on": "2026-02-28", "missed": True}]),
        "2026-03-01",
        "behind",
    ),
    (
        "two recorded as missed",
        agreement(payments=[{"due_on": "2026-01-31", "missed": True}, {"due_on": "2026-02-28", "missed": True}]),
        "2026-04-01",
        "broken",
    ),
    (
        "two unrecorded are not broken",
        agreement(payments=[{"due_on": "2026-01-31", **PAID}]),
        "2026-04-01",
        "unrecorded",
    ),
    (
        "recorded as missed before it is late",
        agreement(payments=[{"due_on": "2026-01-31", "missed": True}]),
        "2026-01-10",
        "behind",
    ),
    ("recorded as broken", agreement(status="broken"), "2026-01-10", "broken"),
    ("recorded as completed", agreement(status="completed"), "2026-03-10", "completed"),
    ("every payment paid", agreement(payments=ALL_PAID), "2026-12-01", "completed"),
    ("cancelled with every payment paid", agreement(status="cancelled", payments=ALL_PAID), "2026-12-01", "cancelled"),
    ("cancelled while behind", agreement(status="cancelled"), "2026-03-01", "cancelled"),
    (
        "a last partial payment",
        agreement(total_cents=25000, payments=[{"due_on": "2026-01-31", **PAID}, {"due_on": "2026-02-28", **PAID}]),
        "2026-03-31",
        "kept",
    ),
    (
        "the partial payment late",
        agreement(total_cents=25000, payments=[{"due_on": "2026-01-31", **PAID}, {"due_on": "2026-02-28", **PAID}]),
        "2026-04-01",
        "unrecorded",
    ),
    ("a single payment", agreement(total_cents=5000), "2026-02-01", "unrecorded"),
]

BALANCE_CASES: list[dict[str, Any]] = [
    {"form_version": 1},
    {
        "form_version": 1,
        "income": {"items": [{"monthly_cents": 180000}, {"monthly_cents": 25000}]},
        "benefits": {"received": [{"kind": "wohngeld", "monthly_cents": 21000}]},
        "budget": {"fixed": [{"monthly_cents": 98000, "priority": True}], "variable": [{"monthly_cents": 40000}]},
    },
    {"form_version": 1, "budget": {"fixed": [{"monthly_cents": 70000}]}},
]


def test_installment_standing_is_the_same_in_python_and_javascript() -> None:
    python = [installment_state(fields, dt.date.fromisoformat(day)) for _, fields, day, _ in STANDING_CASES]
    javascript = run_js(
        "rules.js",
        "([fields, day]) => m.installmentState(fields, day).state",
        [[fields, day] for _, fields, day, _ in STANDING_CASES],
    )
    expected = [state for *_, state in STANDING_CASES]
    names = [name for name, *_ in STANDING_CASES]
    assert dict(zip(names, python, strict=True)) == dict(zip(names, expected, strict=True))
    assert dict(zip(names, javascript, strict=True)) == dict(zip(names, expected, strict=True))


def test_the_monthly_balance_is_the_same_in_python_and_javascript() -> None:
    python = [msgspec.convert(fields, Assessment).monthly_balance_cents() for fields in BALANCE_CASES]
    javascript = run_js("rules.js", "(fields) => m.monthlyBalance(fields).balance", BALANCE_CASES)
    assert python == javascript == [0, 88000, -70000]


def test_the_tablet_loads_the_rules_it_is_tested_with() -> None:
    data_js = (Path(RULES_JS).parent / "data.js").read_text(encoding="utf-8")
    assert 'from "./rules.js"' in data_js


SEARCH_TEXTS = {
    "household": {
        "name": "Ayşe Yılmaz",
        "members": [{"name": "Ayşe Yılmaz"}, {"name": "Łukasz Nowak"}],
        "address": {"street": "Hauptstraße", "house_number": "5", "postcode": "10115", "city": "Berlin"},
        "phone": "+49 30 1234567",
    },
    "legal_event": {"reference": "12 C 345/26"},
}
SEARCH_QUERIES = ["yilmaz", "Hauptstr 5", "030 1234567", "12 C 345", "12 C 999", "lukasz", "Berlin Yil", "Müller", ""]


def test_the_case_search_is_the_same_in_python_and_javascript() -> None:
    texts = [text for kind, fields in SEARCH_TEXTS.items() for text in haystack(kind, fields)]
    python = [matches(query, texts) for query in SEARCH_QUERIES]
    javascript = run_js(
        "search.js",
        "([query, texts]) => m.matches(query, Object.entries(texts).flatMap(([k, f]) => m.haystack(k, f)))",
        [[query, SEARCH_TEXTS] for query in SEARCH_QUERIES],
    )
    assert python == javascript == [True, True, True, True, False, True, True, False, False]


def test_the_tablet_speaks_the_servers_schema_version() -> None:
    # A tablet behind the server would pull every legal event in the version 1 form (server/records/legacy.py).
    sync_js = (Path(RULES_JS).parent / "sync.js").read_text(encoding="utf-8")
    found = re.search(r"export const SCHEMA_VERSION = (\d+);", sync_js)
    assert found is not None
    assert int(found.group(1)) == SCHEMA_VERSION
