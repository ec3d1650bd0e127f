"""Properties of the field-level three-way merge (docs/sync-protocol.md, "The merge rule for put")."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.sync.merge import AppendOnlyViolation, merge_put, same_value, settle

NAMES = ["status", "title", "risk", "documents", "text"]
SETS = frozenset({"documents"})
IMMUTABLE = frozenset({"text"})
scalar = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["a", "b", "c"]))
a_set = st.lists(st.sampled_from(["id", "lease", "registration"]), unique=True).map(sorted)


def value_for(name: str) -> st.SearchStrategy[Any]:
    return a_set if name in SETS else scalar


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True))
    return {name: draw(value_for(name)) for name in names}


versions = st.dictionaries(st.sampled_from(NAMES), st.integers(1, 20))
bases = st.one_of(st.none(), st.integers(0, 20))


@st.composite
def mutable_puts(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from([n for n in NAMES if n not in IMMUTABLE]), unique=True))
    return {name: draw(value_for(name)) for name in names}


@given(stored=records(), fv=versions, base=bases, incoming=mutable_puts())
def test_every_named_field_is_applied_kept_as_a_conflict_or_already_equal(
    stored: dict[str, Any], fv: dict[str, int], base: int | None, incoming: dict[str, Any]
) -> None:
    outcome = merge_put(stored, fv, base, incoming, set_fields=SETS, immutable_fields=IMMUTABLE)
    conflicted = {c.field for c in outcome.conflicts}
    assert not conflicted & outcome.changed
    assert conflicted | outcome.changed <= incoming.keys()
    for name, value in stored.items():
        if name not in incoming:
            assert outcome.fields[name] == value  # a field the put does not name keeps its value
    for name, value in incoming.items():
        if name in conflicted:
            assert outcome.fields.get(name) == stored.get(name)  # the first to commit wins
        elif name in SETS:
            concurrent = base is None or fv.get(name, 0) > base
            # Both sides changed the set: the union; otherwise the put replaces it (an item can be removed).
            expected = set(stored.get(name) or []) | set(value) if concurrent else set(value)
            assert set(outcome.fields.get(name) or []) == expected
        else:
            assert outcome.fields.get(name) == value


@given(stored=records(), fv=versions, base=st.integers(0, 20), incoming=mutable_puts())
def test_without_a_concurrent_change_nothing_conflicts(
    stored: dict[str, Any], fv: dict[str, int], base: int, incoming: dict[str, Any]
) -> None:
    untouched = {name: min(version, base) for name, version in fv.items()}
    outcome = merge_put(stored, untouched, base, incoming, set_fields=SETS, immutable_fields=IMMUTABLE)
    assert outcome.conflicts == ()

    def changes(name: str, value: Any) -> bool:
        if name in SETS:
            return sorted(set(value)) != stored.get(name) and stored.get(name) != value
        return stored.get(name) != value

    assert outcome.changed == {name for name, value in incoming.items() if changes(name, value)}


@given(stored=records(), fv=versions, incoming=mutable_puts())
def test_a_concurrent_different_value_is_a_conflict_with_both_values(
    stored: dict[str, Any], fv: dict[str, int], incoming: dict[str, Any]
) -> None:
    later = {name: 10 for name in NAMES}
    outcome = merge_put(stored, later, 5, incoming, set_fields=SETS, immutable_fields=IMMUTABLE)
    expected = {
        (name, stored.get(name), value)
        for name, value in incoming.items()
        if name not in SETS and stored.get(name) != value
    }
    assert {(c.field, c.server_value, c.client_value) for c in outcome.conflicts} == expected


@given(stored=records(), fv=versions, base=bases, incoming=mutable_puts())
def test_sets_never_conflict(
    stored: dict[str, Any], fv: dict[str, int], base: int | None, incoming: dict[str, Any]
) -> None:
    outcome = merge_put(stored, fv, base, incoming, set_fields=SETS, immutable_fields=IMMUTABLE)
    assert all(c.field not in SETS for c in outcome.conflicts)


@given(stored=records(), fv=versions, base=bases, incoming=mutable_puts())
def test_merging_the_same_put_again_changes_nothing(
    stored: dict[str, Any], fv: dict[str, int], base: int | None, incoming: dict[str, Any]
) -> None:
    first = merge_put(stored, fv, base, incoming, set_fields=SETS, immutable_fields=IMMUTABLE)
    settled = {name: value for name, value in incoming.items() if name not in {c.field for c in first.conflicts}}
    again = merge_put(first.fields, fv, base, settled, set_fields=SETS, immutable_fields=IMMUTABLE)
    assert again.changed == frozenset()
    assert again.conflicts == ()


@given(text=st.text(min_size=1, max_size=5), other=st.text(min_size=1, max_size=5), base=bases)
def test_an_append_only_field_never_changes(text: str, other: str, base: int | None) -> None:
    stored = {"text": text}
    assert merge_put(stored, {"text": 1}, base, {"text": text}, immutable_fields=IMMUTABLE).changed == frozenset()
    if other != text:
        with pytest.raises(AppendOnlyViolation) as raised:
            merge_put(stored, {"text": 1}, base, {"text": other}, immutable_fields=IMMUTABLE)
        assert raised.value.field == "text"


def test_an_item_can_be_removed_from_a_set_without_a_concurrent_change() -> None:
    # The documents checklist: "lease" unticked on the current base stays unticked.
    stored = {"documents": ["id", "lease"]}
    outcome = merge_put(stored, {"documents": 5}, 5, {"documents": ["id"]}, set_fields=SETS)
    assert outcome.fields["documents"] == ["id"]
    concurrent = merge_put(stored, {"documents": 7}, 5, {"documents": ["id"]}, set_fields=SETS)
    assert concurrent.fields["documents"] == ["id", "lease"]  # both changed it: nothing is lost


def test_the_same_moment_with_another_offset_is_no_change() -> None:
    stored = {"visited_at": "2026-11-20T10:12:00Z"}
    outcome = merge_put(stored, {"visited_at": 9}, 5, {"visited_at": "2026-11-20T11:12:00+01:00"})
    assert outcome.changed == frozenset()
    assert outcome.conflicts == ()
    assert same_value([{"at": "2026-11-20T10:12:00+00:00"}], [{"at": "2026-11-20T11:12:00+01:00"}])
    assert not same_value("2026-11-20T10:12:00Z", "2026-11-20T10:13:00Z")


def test_a_rule_broken_only_by_a_concurrent_edit_makes_conflicts_not_a_rejection() -> None:
    # Total 1000, rate 100; A set the total to 200 (seq 7); B, on base 5, sets total 5000 and rate 3000.
    stored = {"total_cents": 200, "monthly_rate_cents": 100}
    incoming = {"total_cents": 5000, "monthly_rate_cents": 3000}
    merged = merge_put(stored, {"total_cents": 7, "monthly_rate_cents": 3}, 5, incoming)
    assert merged.fields == {"total_cents": 200, "monthly_rate_cents": 3000}

    def broken(fields: dict[str, Any]) -> str | None:
        return "monthly_rate_cents" if fields["monthly_rate_cents"] > fields["total_cents"] else None

    settled = settle(merged, stored, incoming, broken)
    assert settled.fields == stored
    assert settled.changed == frozenset()
    assert {(c.field, c.server_value, c.client_value) for c in settled.conflicts} == {
        ("total_cents", 200, 5000),
        ("monthly_rate_cents", 100, 3000),
    }
