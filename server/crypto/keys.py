"""Key encryption keys (KEKs): versioned, behind a small :class:`KeyProvider` interface.

The file provider keeps the versions in ``<data dir>/keys/kek.json`` (mode 0600, directory 0700)::

    {"current": 2, "min_decryption_version": 1, "keys": {"1": "<base64>", "2": "<base64>"},
     "audit": {"key": "<base64>", "first_seq": 1}}

``audit`` is the key that signs the audit chain (kept here so that whoever can write the database cannot forge the
chain); ``first_seq`` is the first audit entry signed with it.

``DOORSTEP_KEK`` may hold the same JSON, or a bare base64 key which becomes version 1. A KMS or Vault
transit provider would implement the same three methods; Doorstep only ever asks a provider to give the key
of a version (this follows Vault transit's ``min_decryption_version``: retired versions are refused).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Protocol

from server.crypto.aead import KEY_BYTES

__all__ = ["EnvKeyProvider", "FileKeyProvider", "KeyMaterialError", "KeyProvider", "KeySet", "new_key"]


class KeyMaterialError(Exception):
    """The key material is missing, malformed or retired. The message says what to do."""


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


class KeySet:
    """The KEK versions a provider holds."""

    def __init__(
        self,
        keys: dict[int, bytes],
        current: int,
        min_decryption_version: int = 1,
        audit: tuple[bytes, int] | None = None,
    ) -> None:
        if current not in keys:
            raise KeyMaterialError(f"the current KEK version {current} is not in the key set")
        for version, key in keys.items():
            if len(key) != KEY_BYTES:
                raise KeyMaterialError(f"KEK version {version} is not a 256-bit key")
        if audit is not None and len(audit[0]) != KEY_BYTES:
            raise KeyMaterialError("the audit key is not a 256-bit key")
        self.keys = dict(keys)
        self.current = current
        self.min_decryption_version = min_decryption_version
        self.audit = audit

    @classmethod
    def parse(cls, text: str) -> KeySet:
        """Read the JSON form, or a bare base64 key (version 1)."""
        text = text.strip()
        try:
            if text.startswith("{"):
                raw = json.loads(text)
                keys = {int(v): base64.b64decode(k, validate=True) for v, k in raw["keys"].items()}
                audit = raw.get("audit")
                signing = (base64.b64decode(audit["key"], validate=True), int(audit["first_seq"])) if audit else None
                return cls(keys, int(raw["current"]), int(raw.get("min_decryption_version", 1)), signing)
            return cls({1: base64.b64decode(text, validate=True)}, 1)
        except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
            raise KeyMaterialError(
                "the KEK is not valid (expected base64 of 32 bytes, or the kek.json format)"
            ) from None

    def dump(self) -> str:
        """The JSON form."""
        body: dict[str, object] = {
            "current": self.current,
            "min_decryption_version": self.min_decryption_version,
            "keys": {str(v): base64.b64encode(k).decode() for v, k in sorted(self.keys.items())},
        }
        if self.audit is not None:
            body["audit"] = {"key": base64.b64encode(self.audit[0]).decode(), "first_seq": self.audit[1]}
        return json.dumps(body, indent=2)


class KeyProvider(Protocol):
    """Where KEKs come from. Implementations must never log or return key material elsewhere."""

    def current_version(self) -> int:
        """The version new data keys are wrapped with."""
        ...

    def key(self, version: int) -> bytes:
        """The KEK of ``version``; raises :class:`KeyMaterialError` if unknown or retired."""
        ...

    def versions(self) -> list[int]:
        """Every version still usable for decryption."""
        ...

    def audit_key(self) -> tuple[bytes, int] | None:
        """The audit chain's signing key and the first entry it signs, if the provider holds one."""
        ...


class _KeySetProvider:
    def __init__(self, keyset: KeySet) -> None:
        self.keyset = keyset

    def current_version(self) -> int:
        return self.keyset.current

    def key(self, version: int) -> bytes:
        if version < self.keyset.min_decryption_version:
            raise KeyMaterialError(f"KEK version {version} is retired")
        try:
            return self.keyset.keys[version]
        except KeyError:
            raise KeyMaterialError(f"KEK version {version} is not available") from None

    def versions(self) -> list[int]:
        return sorted(v for v in self.keyset.keys if v >= self.keyset.min_decryption_version)

    def audit_key(self) -> tuple[bytes, int] | None:
        return self.keyset.audit


class EnvKeyProvider(_KeySetProvider):
    """KEKs from the ``DOORSTEP_KEK`` environment variable (read-only: rotate by changing the variable)."""

    def __init__(self, value: str) -> None:
        super().__init__(KeySet.parse(value))


class FileKeyProvider(_KeySetProvider):
    """KEKs from ``kek.json`` in the keys directory; can add versions (rotation) and retire old ones."""

    FILE_NAME = "kek.json"

    def __init__(self, keys_dir: Path) -> None:
        self.path = keys_dir / self.FILE_NAME
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            raise KeyMaterialError(f"the key file {self.path} is missing") from None
        super().__init__(KeySet.parse(text))

    @classmethod
    def exists(cls, keys_dir: Path) -> bool:
        """Whether a key file is there."""
        return (keys_dir / cls.FILE_NAME).exists()

    @classmethod
    def create(cls, keys_dir: Path) -> FileKeyProvider:
        """Create a key file with a fresh version 1 (mode 0600, in a 0700 directory)."""
        keys_dir.mkdir(parents=True, exist_ok=True)
        keys_dir.chmod(0o700)
        _write_private(keys_dir / cls.FILE_NAME, KeySet({1: new_key()}, 1).dump(), exclusive=True)
        return cls(keys_dir)

    def add_version(self) -> int:
        """Add a new current version; the old ones stay for decryption until retired."""
        version = max(self.keyset.keys) + 1
        keys = dict(self.keyset.keys)
        keys[version] = new_key()
        self._save(KeySet(keys, version, self.keyset.min_decryption_version, self.keyset.audit))
        return version

    def retire_below(self, version: int) -> None:
        """Drop every version below ``version`` from the file and refuse them from now on."""
        keys = {v: k for v, k in self.keyset.keys.items() if v >= version}
        self._save(KeySet(keys, self.keyset.current, version, self.keyset.audit))

    def add_audit_key(self, first_seq: int) -> tuple[bytes, int]:
        """Create the audit chain's signing key; entries from ``first_seq`` on are signed with it."""
        keyset = KeySet.parse(self.path.read_text())  # another process may have made it a moment ago
        if keyset.audit is not None:
            self.keyset = keyset
            return keyset.audit
        self._save(KeySet(keyset.keys, keyset.current, keyset.min_decryption_version, (new_key(), first_seq)))
        assert self.keyset.audit is not None
        return self.keyset.audit

    def _save(self, keyset: KeySet) -> None:
        _write_private(self.path, keyset.dump(), exclusive=False)
        self.keyset = keyset


def _write_private(path: Path, text: str, *, exclusive: bool) -> None:
    # Written to a temporary file with mode 0600 from the start, then renamed: never world-readable, and a
    # crash leaves either the old or the new file.
    temporary = path.with_suffix(".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    if exclusive and path.exists():
        raise KeyMaterialError(f"the key file {path} already exists")
    fd = os.open(temporary, flags, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
