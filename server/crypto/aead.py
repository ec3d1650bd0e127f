"""AES-256-GCM with explicit associated data, in a versioned blob layout.

Blob layout (all integers big-endian)::

    format version (1 byte) | kek version (4 bytes) | dek id (16 bytes) | nonce (12 bytes) | ciphertext + tag

The associated data is never stored: the caller rebuilds it from where the blob sits (kind, record id, case
id, column, schema version, dek id; see :func:`associated_data`). A blob copied to another row or column
therefore fails to open. The header itself is authenticated too, because it is part of the associated data.
"""

from __future__ import annotations

import os
import struct
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "FORMAT_VERSION",
    "BlobHeader",
    "DecryptionError",
    "associated_data",
    "open_blob",
    "read_header",
    "seal",
    "unwrap_key",
    "wrap_key",
]

FORMAT_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
_HEADER = struct.Struct(">BI16s12s")


class DecryptionError(Exception):
    """A blob could not be opened: wrong key, wrong place, tampered or truncated. Never carries plaintext."""


class BlobHeader:
    """The clear header of a blob."""

    __slots__ = ("dek_id", "format_version", "kek_version", "nonce")

    def __init__(self, format_version: int, kek_version: int, dek_id: uuid.UUID, nonce: bytes) -> None:
        self.format_version = format_version
        self.kek_version = kek_version
        self.dek_id = dek_id
        self.nonce = nonce


def associated_data(
    kind: str, record_id: uuid.UUID, case_id: uuid.UUID, column: str, schema_version: int, dek_id: uuid.UUID | str
) -> bytes:
    """``kind|record id|case id|column|schema version|dek id``: the place a ciphertext is bound to (the dek id
    may be given already as text)."""
    return f"{kind}|{record_id}|{case_id}|{column}|{schema_version}|{dek_id}".encode()


def _cipher(key: bytes | AESGCM) -> AESGCM:
    return key if isinstance(key, AESGCM) else AESGCM(key)


def seal(key: bytes | AESGCM, plaintext: bytes, aad: bytes, *, kek_version: int, dek_id: uuid.UUID) -> bytes:
    """Encrypt ``plaintext`` under ``key`` (raw, or a prepared ``AESGCM``) with a fresh random 96-bit nonce."""
    nonce = os.urandom(NONCE_BYTES)
    header = _HEADER.pack(FORMAT_VERSION, kek_version, dek_id.bytes, nonce)
    return header + _cipher(key).encrypt(nonce, plaintext, header + aad)


def read_header(blob: bytes) -> BlobHeader:
    """Parse a blob's header, or raise :class:`DecryptionError` if it is not one of ours."""
    if len(blob) < _HEADER.size + 16:
        raise DecryptionError("blob too short")
    version, kek_version, dek_id, nonce = _HEADER.unpack_from(blob)
    if version != FORMAT_VERSION:
        raise DecryptionError(f"unknown blob format {version}")
    return BlobHeader(version, kek_version, uuid.UUID(bytes=dek_id), nonce)


def open_blob(key: bytes | AESGCM, blob: bytes, aad: bytes) -> bytes:
    """Decrypt and authenticate ``blob``; any mismatch raises :class:`DecryptionError`."""
    if len(blob) < _HEADER.size + 16 or blob[0] != FORMAT_VERSION:
        raise DecryptionError("not a blob of a known format")
    nonce = blob[_HEADER.size - NONCE_BYTES : _HEADER.size]
    try:
        return _cipher(key).decrypt(nonce, blob[_HEADER.size :], blob[: _HEADER.size] + aad)
    except (InvalidTag, ValueError):
        raise DecryptionError("authentication failed") from None


def wrap_key(kek: bytes, dek: bytes, *, kek_version: int, dek_id: uuid.UUID) -> bytes:
    """Wrap a data key under a key encryption key, bound to the data key's id."""
    return seal(kek, dek, b"dek|" + dek_id.bytes, kek_version=kek_version, dek_id=dek_id)


def unwrap_key(kek: bytes | AESGCM, wrapped: bytes, dek_id: uuid.UUID) -> bytes:
    """Unwrap a data key (``kek`` raw, or prepared); fails if it was wrapped for another id or under another key."""
    dek = open_blob(kek, wrapped, b"dek|" + dek_id.bytes)
    if len(dek) != KEY_BYTES:
        raise DecryptionError("wrapped key has the wrong length")
    return dek
