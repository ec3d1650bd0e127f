"""Search of the office case list (``GET /api/cases?q=``) over the decrypted data.

Names, addresses and phone numbers are encrypted, so the search decrypts the households and legal events of the
cases in the caller's scope and matches there, in memory: nothing searchable is kept in clear. Every word of the
query must begin a word there, or the whole query occur in one field (case, umlauts and punctuation folded as in
the duplicate check); a phone number matches by its digits, in national or international form.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from server.records.blind import fold
from server.records.models import Record
from server.records.store import RecordStore

__all__ = ["haystack", "matches", "matching", "phone_forms", "words"]

_SPLIT = re.compile(r"[\s/,;:()]+")

SEARCHED_KINDS = ("case", "household", "legal_event")


def words(query: str) -> list[str]:
    """The folded words of a text; empty words (punctuation only) are dropped."""
    return [w for w in (fold(part) for part in _SPLIT.split(query)) if w]


def haystack(kind: str, fields: Mapping[str, Any]) -> Iterable[str]:
    """The searchable texts of one record, as typed."""
    if kind == "case":
        yield str(fields.get("title", ""))
    elif kind == "household":
        address = fields.get("address") or {}
        yield str(fields.get("name", ""))
        yield from (str(m.get("name", "")) for m in fields.get("members") or [])
        yield " ".join(str(address.get(k, "")) for k in ("street", "house_number", "postcode", "city"))
        yield from phone_forms(str(fields.get("phone", "")))
        yield str(fields.get("email", ""))
    elif kind == "legal_event":
        yield str(fields.get("reference", ""))


def phone_forms(phone: str) -> list[str]:
    """The digits of a phone number, and for "+49 30 ..." (or "0049 ...") also the national "030 ..." form."""
    digits = "".join(c for c in phone if c.isdigit())
    forms = [digits] if digits else []
    international = phone.strip().startswith("+") or digits.startswith("00")
    national = digits.removeprefix("00")
    for code in ("49", "43"):
        if international and national.startswith(code):
            forms.append("0" + national[len(code) :])
    return forms


def matches(query: str, texts: Iterable[str]) -> bool:
    """Whether ``texts`` answer ``query``: the whole query in one text ("12 C 345" in "12 C 345/26", a phone
    number typed with spaces), or every word of it at the start of a word of the texts ("Hauptstr 5")."""
    texts = list(texts)
    phrase = fold(query)
    if phrase and any(phrase in fold(text) for text in texts):
        return True
    wanted = words(query)
    have = [word for text in texts for word in words(text)]
    return bool(wanted) and all(any(word.startswith(w) for word in have) for w in wanted)


async def matching(store: RecordStore, case_ids: list[uuid.UUID], query: str) -> set[uuid.UUID]:
    """The cases among ``case_ids`` whose case, household or court references answer ``query``."""
    if not case_ids:
        return set()
    if not fold(query):
        return set(case_ids)  # nothing searchable typed (blanks, punctuation): no filter
    rows = await store.select(Record.case_id.in_(case_ids), Record.kind.in_(SEARCHED_KINDS), Record.deleted.is_(False))
    texts: dict[uuid.UUID, list[str]] = {}
    for record in await store.decrypt(rows):
        if record.fields is not None:
            texts.setdefault(record.case_id, []).extend(haystack(record.kind, record.fields))
    return {case_id for case_id, parts in texts.items() if matches(query, parts)}
