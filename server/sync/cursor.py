"""Opaque pull cursors: a position in ``(seq, record id)`` order, bound to one user, signed by the server.

Format (opaque to clients): ``base64url(json [2, seq, record id or "", user id, organisation id or ""]) "."
base64url(hmac)``. The HMAC (SHA-256, truncated to 128 bits) uses a server secret kept in the database, so a
forged or edited cursor, and a cursor of another user, are refused with ``400 validation``.

``seq`` counts on the clock of the user's organisation, which the cursor names. Cursors of format 1 (before each
organisation had its own clock) name none; they stay valid, because every organisation's clock started where the
single clock stood. A cursor of another organisation's clock (a user moved between organisations) is the
caller's to treat as expired: the device bootstraps again.

Format 3 adds the user's scope generation, which grows when an administrator changes the user's role or team: a
cursor of an older generation is the caller's to treat as expired too, since the scope it counted in is gone.
Format 2 is a cursor of generation 0, and is still what a user whose role never changed is given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import msgspec

__all__ = ["Cursor", "CursorInvalid", "decode_cursor", "encode_cursor"]

_FORMAT = 2
_FORMATS = (1, 2, 3)


class CursorInvalid(Exception):
    """The cursor is malformed, forged, or belongs to someone else."""


class Cursor(msgspec.Struct, frozen=True):
    """A position: everything up to and including ``(seq, after_id)`` has been delivered."""

    seq: int
    after_id: uuid.UUID | None = None
    # The organisation whose clock ``seq`` counts on; None for a cursor that names none (format 1, or the start).
    organisation: uuid.UUID | None = None
    # The user's scope generation the cursor was issued in (docs/operations.md "Accounts": a role or team change).
    generation: int = 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()[:16]


def encode_cursor(
    secret: bytes, user_id: uuid.UUID, cursor: Cursor, organisation: uuid.UUID | None, generation: int = 0
) -> str:
    """Sign ``cursor`` (a position on ``organisation``'s clock) for ``user_id`` in scope ``generation``."""
    fields: list[int | str] = [_FORMAT, cursor.seq, str(cursor.after_id or ""), str(user_id), str(organisation or "")]
    if generation:
        fields = [3, *fields[1:], generation]
    payload = msgspec.json.encode(fields)
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def decode_cursor(secret: bytes, user_id: uuid.UUID, text: str | None) -> Cursor:
    """Check and read a cursor; an empty or missing one is the start (bootstrap)."""
    if not text:
        return Cursor(0)
    try:
        body, mac = text.split(".", 1)
        payload = _unb64(body)
        if not hmac.compare_digest(_mac(secret, payload), _unb64(mac)):
            raise CursorInvalid("the cursor was not issued by this server")
        fields = msgspec.json.decode(payload, type=list[int | str])
        if len(fields) == 4:
            fields.append("")
        generation = 0
        if len(fields) == 6 and fields[0] == 3:
            generation = msgspec.convert(fields.pop(), type=int)
        version, seq, after, owner, organisation = msgspec.convert(fields, type=tuple[int, int, str, str, str])
        named = uuid.UUID(organisation) if organisation else None
        position = Cursor(seq, uuid.UUID(after) if after else None, named, generation)
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CursorInvalid("the cursor is malformed") from exc
    if version not in _FORMATS or seq < 0 or (version == 1 and organisation) or generation < 0:
        raise CursorInvalid("the cursor is malformed")
    if owner != str(user_id):
        raise CursorInvalid("the cursor belongs to another user")
    return position
