"""The duplicate check's normalisation and tokens, and the office search's matching (server/records/blind.py,
server/records/search.py)."""

from __future__ import annotations

import pytest

from server.records.blind import household_tokens, surname, tokens
from server.records.search import matches

KEY = bytes(32)


@pytest.mark.parametrize(
    ("street", "number"),
    [("Hauptstraße", "5"), ("Hauptstr.", "5"), ("HAUPTSTRASSE", "5"), ("Haupt-Straße", " 5 "), ("hauptstr", "5")],
)
def test_spellings_of_one_address_give_one_token(street: str, number: str) -> None:
    assert tokens(KEY, street, number, "10115", []) == tokens(KEY, "Hauptstraße", "5", "10115", [])


@pytest.mark.parametrize(
    ("street", "number", "postcode"),
    [
        ("Hauptstraße", "7", "10115"),
        ("Hauptstraße", "5", "10117"),
        ("Hauptweg", "5", "10115"),
        ("Haupt", "5a", "10115"),
    ],
)
def test_another_address_gives_another_token(street: str, number: str, postcode: str) -> None:
    assert tokens(KEY, street, number, postcode, []) != tokens(KEY, "Hauptstraße", "5", "10115", [])


def test_a_token_depends_on_the_key() -> None:
    assert tokens(KEY, "Hauptstraße", "5", "10115", []) != tokens(b"\1" * 32, "Hauptstraße", "5", "10115", [])


@pytest.mark.parametrize("name", ["Ayşe Yılmaz", "Yilmaz, Ayse", "  AYSE   YILMAZ "])
def test_surnames_fold_to_one_form(name: str) -> None:
    assert surname(name) == "yilmaz"


def test_a_household_without_tenants_is_found_by_its_name_and_holds_no_clear_value() -> None:
    found = household_tokens(KEY, {"name": "Familie Berg", "address": {"street": "Lindenweg", "postcode": "10115"}})
    assert list(found.values()) == ["tenant"]  # no house number: no address token
    assert all(b"berg" not in token.lower() for token in found)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("yilmaz", True),
        ("Hauptstr 5", True),
        ("030 1234567", True),
        ("+49 30 1234567", True),
        ("12 C 345", True),
        ("12 C 999", False),
        ("Berlin Yil", True),
        ("Müller", False),
    ],
)
def test_the_search_matches_words_or_the_whole_query(query: str, expected: bool) -> None:
    texts = ["Ayşe Yılmaz", "Hauptstraße 5 10115 Berlin", "49301234567", "0301234567", "12 C 345/26"]
    assert matches(query, texts) is expected
