"""The duplicate check at intake: a keyed blind index over addresses and tenants' surnames.

Addresses and names are encrypted with each case's key, so the server cannot compare them. Instead every household
gets tokens: an HMAC under the index key (:attr:`server.records.keyring.Keyring.index`) of

* its address: normalised street, house number and postcode;
* each tenant's surname with the postcode.

Two spellings of one address give one token ("Hauptstr. 5", "Hauptstraße 5", "HAUPTSTRASSE 5"); without the key a
token says nothing (docs/security.md case 42). The check answers only within the caller's team and only for open
cases; a worker learns who is responsible, not what the case holds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import begin_write
from server.records.keyring import Keyring
from server.records.models import BlindIndex, BlindIndexState, Record
from server.records.store import RecordStore

__all__ = ["Match", "find", "fold", "key_id", "rebuild_if_stale", "reindex", "surname", "tokens"]

# Spellings of one street word, longest first: "Hauptstraße", "Hauptstrasse", "Hauptstr." all end as "hauptstr".
_STREET_WORDS = (("strasse", "str"), ("platz", "pl"), ("gasse", "g"), ("weg", "w"))
_OPEN = ("open", "closing_requested")
# Letters without a decomposition that people type plainly: Yılmaz as Yilmaz, Łukasz as Lukasz.
_LETTERS = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ð": "d", "þ": "th"})


def fold(text: str) -> str:
    """Lower case, umlauts spelled out, ß as ss, accents dropped, only letters and digits kept."""
    value = unicodedata.normalize("NFKC", text).casefold()
    value = value.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").translate(_LETTERS)
    value = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]", "", value)


def _street(text: str) -> str:
    value = fold(text.replace(".", " "))
    for long, short in _STREET_WORDS:
        if value.endswith(long):
            value = value[: -len(long)] + short
    return value


def surname(name: str) -> str:
    """The surname of "Ayşe Yılmaz" or "Yılmaz, Ayşe", folded."""
    text = name.strip()
    if "," in text:
        return fold(text.split(",", 1)[0])
    parts = text.split()
    return fold(parts[-1]) if parts else ""


def _mac(key: bytes, *parts: str) -> bytes:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).digest()


def key_id(key: bytes) -> bytes:
    """A fingerprint of the index key: the index is rebuilt when the key differs from the one it was built with."""
    return _mac(key, "doorstep blind index key id")[:16]


def tokens(key: bytes, street: str, house_number: str, postcode: str, names: Iterable[str]) -> dict[bytes, str]:
    """The tokens of an address and the tenants' surnames, each with what it stands for ("address" or "tenant")."""
    found: dict[bytes, str] = {}
    place = fold(postcode)
    street_part, number = _street(street), fold(house_number)
    if street_part and number:
        found[_mac(key, "address", street_part, number, place)] = "address"
    for name in names:
        last = surname(name)
        if last:
            found[_mac(key, "tenant", last, place)] = "tenant"
    return found


def household_tokens(key: bytes, fields: Mapping[str, Any]) -> dict[bytes, str]:
    """The tokens of a household record's fields: its address and the surnames of the tenants (or its name)."""
    address = fields.get("address") or {}
    tenants = [str(m.get("name", "")) for m in fields.get("members") or [] if m.get("relation") == "tenant"]
    return tokens(
        key,
        str(address.get("street", "")),
        str(address.get("house_number", "")),
        str(address.get("postcode", "")),
        tenants or [str(fields.get("name", ""))],
    )


async def reindex(
    db: AsyncSession, key: bytes, households: Mapping[uuid.UUID, tuple[uuid.UUID, Mapping[str, Any]]]
) -> None:
    """Replace the tokens of ``households`` (record id -> case id and fields) in the caller's transaction."""
    if not households:
        return
    await db.execute(delete(BlindIndex).where(BlindIndex.record_id.in_(households)))
    db.add_all(
        BlindIndex(record_id=record_id, token=token, case_id=case_id)
        for record_id, (case_id, fields) in households.items()
        for token in household_tokens(key, fields)
    )


@dataclass(frozen=True)
class Match:
    """An open case of the team that may be the same household."""

    case_id: uuid.UUID
    assigned_worker_id: uuid.UUID | None
    reason: str  # "address" or "tenant"


async def find(db: AsyncSession, team_id: uuid.UUID, asked: dict[bytes, str]) -> list[Match]:
    """The team's open cases whose households share a token with ``asked``, address matches first."""
    if not asked:
        return []
    case = Record.__table__.alias("kase")
    household = Record.__table__.alias("household")
    rows = (
        await db.execute(
            select(BlindIndex.case_id, BlindIndex.token, case.c.assigned_worker_id)
            .join(household, household.c.id == BlindIndex.record_id)
            .join(case, case.c.id == BlindIndex.case_id)
            .where(
                BlindIndex.token.in_(asked),
                household.c.deleted.is_(False),
                case.c.kind == "case",
                case.c.deleted.is_(False),
                case.c.team_id == team_id,
                case.c.status.in_(_OPEN),
            )
        )
    ).all()
    matches: dict[uuid.UUID, Match] = {}
    for case_id, token, worker in rows:
        reason = asked[token]
        if case_id not in matches or reason == "address":
            matches[case_id] = Match(case_id=case_id, assigned_worker_id=worker, reason=reason)
    return sorted(matches.values(), key=lambda m: (m.reason != "address", str(m.case_id)))


async def rebuild_if_stale(sessions: async_sessionmaker[AsyncSession], keyring: Keyring, *, force: bool = False) -> int:
    """Build the index when it was built with another key or never (a new installation, an upgrade), or when
    ``force``d after records were written around sync (the demo seed). Returns the number of households indexed."""
    fingerprint = key_id(keyring.index)
    async with sessions() as db:
        await begin_write(db)
        state = await db.get(BlindIndexState, 1)
        if state is not None and state.key_id == fingerprint and not force:
            return 0
        await db.execute(delete(BlindIndex))
        store = RecordStore(db, keyring)
        rows = await store.select(Record.kind == "household", Record.deleted.is_(False))
        households = {
            record.id: (record.case_id, record.fields or {})
            for record in await store.decrypt(rows)
            if record.id not in store.damaged and record.fields is not None
        }
        await reindex(db, keyring.index, households)
        if state is None:
            db.add(BlindIndexState(id=1, key_id=fingerprint))
        else:
            state.key_id = fingerprint
        try:
            await db.commit()
        except IntegrityError:
            return 0  # another process built it at the same moment
    return len(households)
