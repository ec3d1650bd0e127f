"""The German words of the report's lines (channels, outcomes, benefits, legal bases, installment standings, case
types, triggers, and the choices of an anonymous enquiry), read from the tablet's word catalogue
(``pwa/static/js/i18n*.js``), so that the report and the screens never word one value two ways.

A catalogue entry is one line ``"prefix.value": ["German", "English"],``; only the German text is used. The two
"not given" lines exist in the report only (the tablet never shows a missing value as a choice).
"""

from __future__ import annotations

import functools
import json
import re

from server.records.country import profile, word
from server.records.schemas import CaseOutcome
from server.resources import PWA_DIR

__all__ = [
    "BENEFIT_LABELS",
    "CASE_TYPE_LABELS",
    "CHANNEL_LABELS",
    "INSTALLMENT_LABELS",
    "LEGAL_BASIS_LABELS",
    "OUTCOME_LABELS",
    "REFERRAL_LABELS",
    "TOPIC_LABELS",
    "TRIGGER_LABELS",
    "catalogue",
    "term",
]

CATALOGUE_FILES = ("i18n.js", "i18n-legal.js", "i18n-fields.js", "i18n-day.js", "i18n-docs.js")
_ENTRY = re.compile(r'^\s*"([a-z_]+(?:\.[a-z0-9_]+)+)":\s*(\[.*\]),\s*$', re.MULTILINE)


@functools.cache
def catalogue() -> dict[str, str]:
    """Every entry of the tablet's catalogue: key -> German text."""
    found: dict[str, str] = {}
    for name in CATALOGUE_FILES:
        for match in _ENTRY.finditer((PWA_DIR / "static" / "js" / name).read_text(encoding="utf-8")):
            found[match.group(1)] = str(json.loads(match.group(2))[0])
    return found


def term(country: str, key: str, unknown: str | None = None) -> str:
    """The catalogue's German text of ``key`` in the words of an organisation of ``country`` (countries.json);
    ``unknown`` for a value the catalogue does not know (a missing trigger, "unknown")."""
    words = catalogue()
    if unknown is not None and key not in words and key not in profile(country).words:
        return unknown
    return word(country, key, words)


def _labels(prefix: str, values: tuple[str, ...], **extra: str) -> dict[str, str]:
    words = catalogue()
    return {value: words[f"{prefix}.{value}"] for value in values} | extra


CHANNEL_LABELS = _labels("channel", ("phone", "email", "sms", "letter", "in_person", "home_visit"))
OUTCOME_LABELS = _labels("outcome", tuple(outcome.value for outcome in CaseOutcome))
BENEFIT_LABELS = _labels(
    "benefit",
    (
        "wohngeld",
        "wohnbeihilfe",
        "kdu_direct_payment",
        "debt_takeover_loan",
        "debt_takeover_grant",
        "wohnschirm_rent",
        "wohnschirm_energy",
        "other",
    ),
)
INSTALLMENT_LABELS = _labels("installment", ("kept", "unrecorded", "behind", "broken", "completed", "cancelled"))
CASE_TYPE_LABELS = _labels("case_type", ("rent_arrears", "energy_debt", "psychosocial", "neighbour_conflict"))
TRIGGER_LABELS = _labels(
    "trigger",
    ("receivables", "court_notice", "notice", "lawsuit", "neighbour_complaint", "outreach", "self_referral"),
    unknown="ohne Angabe",
)
LEGAL_BASIS_LABELS = _labels(
    "legal_basis",
    ("sgb2_22_8", "sgb12_36", "wogg", "sgb2_22_1", "at_wohnbeihilfe", "at_ma40", "at_wohnschirm", "other"),
    unknown="ohne Angabe der Rechtsgrundlage",
)
TOPIC_LABELS = _labels(
    "enquiry_topic", ("rent_arrears", "notice_or_eviction", "benefits", "energy", "neighbours", "other")
)
REFERRAL_LABELS = _labels(
    "enquiry_referral",
    ("none", "debt_counselling", "jobcenter", "social_services", "housing_office", "legal_advice", "other"),
)
