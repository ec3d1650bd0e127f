"""The country profiles (pwa/static/data/countries.json) against the record schemas, the letters and the deadline
rules, and the promise that matters to a team: an Austrian organisation is offered no German law and a German one
no Austrian law, in every choice, word, letter and deadline it can see."""

from __future__ import annotations

import re
from typing import Any

import pytest

from server.records.calendar import COUNTRIES
from server.records.country import profile, profiles, word
from server.records.deadlines import rules
from server.reports.labels import catalogue
from server.web.letters import DEFAULTS_DIR, LETTER_NAMES
from tests.support.node import module_export

# Words that name the other country's law, courts, agencies or benefits.
GERMAN = (
    "SGB",
    "BGB",
    "Amtsgericht",
    "Jobcenter",
    "StromGVV",
    "GasGVV",
    "Wohngeld",
    "Schonfrist",
    "VwGO",
    "SGG",
    "Bürgergeld",
    "KdU",
    "Sozialgericht",
    "Räumungsfrist",
    "Versäumnisurteil",
    "Kindergeld",
    "Jugendamt",
)
AUSTRIAN = (
    "MRG",
    "öZPO",
    " EO",
    "Delogierung",
    "Wohnbeihilfe",
    "Wohnschirm",
    "MA 40",
    "Bezirksgericht",
    "Aufkündigung",
    "Exekution",
    "Versäumungsurteil",
    "Tagsatzung",
    "Mindestsicherung",
)
FOREIGN = {"AT": GERMAN, "DE": AUSTRIAN}


@pytest.fixture(scope="module")
def enums() -> dict[str, list[str]]:
    found: dict[str, list[str]] = module_export("enums.js", "ENUMS")
    return found


def _title(name: str) -> str:
    text = (DEFAULTS_DIR / f"{name}.html").read_text(encoding="utf-8")
    match = re.match(r"<!--\s*title:\s*(.+?)\s*-->", text)
    assert match, name
    return match.group(1)


def shown(country: str, enums: dict[str, list[str]]) -> dict[str, str]:
    """Everything an organisation of ``country`` can be shown from the shared tables: the label of every enum value
    it is offered (in its words), the names and legal bases of its deadline rules, its letters' titles and texts."""
    own = profile(country)
    words = catalogue()
    texts = {}
    for prefix, values in enums.items():
        for value in own.offered.get(prefix, values):
            texts[f"{prefix}.{value}"] = word(country, f"{prefix}.{value}", words)
    # The forms of the legal steps and benefit applications, and the services a referral suggests.
    for key in words:
        if key.startswith(("field.legal_event.", "field.benefit_application.")) or key == "referral.services":
            texts[key] = word(country, key, words)
    for rule in rules():
        if rule["country"] in (country, "*"):
            texts[f"rule {rule['id']}"] = f"{rule['de']} · {rule['basis']}"
    for name in own.letters:
        texts[f"letter {name}"] = _title(name) + " " + (DEFAULTS_DIR / f"{name}.html").read_text(encoding="utf-8")
    texts |= {f"word {key}": german for key, (german, _) in own.words.items()}
    texts |= {f"agency {kind}": benefit.agency for kind, benefit in own.benefits.items()}
    return texts


def test_every_country_of_the_calendar_has_a_profile() -> None:
    assert sorted(profiles()) == sorted(COUNTRIES)


@pytest.mark.parametrize("country", COUNTRIES)
def test_the_profile_offers_only_values_of_the_schemas(country: str, enums: dict[str, list[str]]) -> None:
    own = profile(country)
    for prefix, values in own.offered.items():
        assert prefix in enums, f"{country}: no enum labelled {prefix}"
        assert not set(values) - set(enums[prefix]), f"{country}.{prefix}: {set(values) - set(enums[prefix])}"
        assert len(values) == len(set(values))
    assert not set(own.letters) - set(LETTER_NAMES)
    for kind, benefit in own.benefits.items():  # a benefit's basis is one the country offers
        assert kind in own.offered["benefit"], kind
        assert benefit.basis in own.offered["legal_basis"], kind
    words = catalogue()
    rule_ids = {rule["id"] for rule in rules()}
    for key, texts in own.words.items():
        assert key in words or key.removeprefix("rule.") in rule_ids, f"{country}: {key} is no key of the catalogue"
        assert len(texts) == 2, key
        assert all(text.strip() for text in texts), key


def test_every_letter_is_offered_somewhere() -> None:
    offered = {name for country in COUNTRIES for name in profile(country).letters}
    assert offered == set(LETTER_NAMES)


@pytest.mark.parametrize("country", COUNTRIES)
def test_every_deadline_rule_of_a_country_follows_a_step_it_is_offered(country: str) -> None:
    legal = set(profile(country).offered["legal"])
    for rule in rules():
        if rule["country"] == country and rule["source"] == "legal_event":
            assert rule["type"] in legal, f"{rule['id']} follows {rule['type']}, which {country} is not offered"


@pytest.mark.parametrize("country", COUNTRIES)
def test_no_organisation_is_shown_the_other_countrys_law(country: str, enums: dict[str, list[str]]) -> None:
    found = [
        f"{where}: {marker.strip()}"
        for where, text in shown(country, enums).items()
        for marker in FOREIGN[country]
        if marker in text
    ]
    assert found == []


def test_the_check_finds_foreign_law_where_there_is_some(enums: dict[str, list[str]]) -> None:
    """The check above can fail: Germany's full catalogue, shown to Vienna, names German law."""
    everything: dict[str, Any] = {key: text for key, text in catalogue().items() if key.startswith("legal.")}
    assert any(marker in text for text in everything.values() for marker in GERMAN)
    assert any(marker in text for text in shown("DE", enums).values() for marker in ("Jobcenter", "SGB"))
