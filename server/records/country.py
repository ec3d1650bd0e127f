"""The country profiles: what an organisation of each country is offered, and its words.

One table, ``pwa/static/data/countries.json``, read here and by the tablet (``pwa/static/js/country.js``): the legal
steps, benefits and legal bases offered (by catalogue prefix), the letters, and the words where the country's usage
differs from the German catalogue (an Austrian team reads "Delogierungstermin" and "Mietzinsrückstand"). The
deadline rules of each country are in ``deadlines.json``; the holidays follow the organisation's region
(:mod:`server.records.calendar`). ``tests/unit/test_country.py`` holds the table to the record schemas.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import msgspec

from server.resources import PWA_DIR

__all__ = ["COUNTRIES_FILE", "Benefit", "CountryProfile", "profile", "profiles", "word"]

COUNTRIES_FILE = PWA_DIR / "static" / "data" / "countries.json"


class Benefit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A benefit's legal basis (``legal_basis``) and the agency that decides it, filled into a new application."""

    basis: str
    agency: str


class CountryProfile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One country's profile: the enum values offered by catalogue prefix (a prefix not named offers all), the
    benefits' legal bases and agencies, the letters offered, and the words ({catalogue key: [German, English]})
    used before the catalogue's."""

    offered: dict[str, list[str]]
    benefits: dict[str, Benefit]
    letters: list[str]
    words: dict[str, list[str]]


class _Table(msgspec.Struct, frozen=True):
    about: str
    version: int
    countries: dict[str, CountryProfile]


@functools.cache
def profiles() -> dict[str, CountryProfile]:
    """Every country's profile, by country code."""
    return msgspec.json.decode(COUNTRIES_FILE.read_bytes(), type=_Table).countries


def profile(country: str) -> CountryProfile:
    """The profile of ``country`` (Germany's for a country without one)."""
    return profiles().get(country) or profiles()["DE"]


def word(country: str, key: str, catalogue: Mapping[str, str]) -> str:
    """The German text of ``key`` for an organisation of ``country``: the country's own word, else the
    catalogue's (else the key)."""
    own = profile(country).words.get(key)
    return own[0] if own else catalogue.get(key, key)
