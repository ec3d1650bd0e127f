"""Key encryption keys (KEKs): versioned, behind a small :class:`KeyProvider` interface.

The file provider keeps the versions in ``<data dir>/keys/kek.json`` (mode 0600, directory 0700)::

    {"current": 2, "min_decryption_version": 1, "keys": {"1": "<base64>", "2": "<base64>"},
     "audit": {"key": "<base64>", "first_seq": 1}, "index": "<base64>"}

``audit`` is the key that signs the audit chain (kept here so that whoever can write the database cannot forge the
chain); ``first_seq`` is the first audit entry signed with it. ``index`` keys the blind index of the duplicate check
(docs/security.md case 42): the database holds keyed hashes of addresses and surnames, never the values.

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
from server.ownership import keep_owner

__all__ = [
    "EnvKeyProvider",
    "FileKeyProvider",
    "KeyMaterialError",
    "KeyProvider",
    "KeySet",
    "new_key",
]


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
        index: bytes | None = None,
    ) -> None:
        if current not in keys:
            raise KeyMaterialError(f"the current KEK version {current} is not in the key set")
        for version, key in keys.items():
            if len(key) != KEY_BYTES:
                raise KeyMaterialError(f"KEK version {version} is not a 256-bit key")
        if audit is not None and len(audit[0]) != KEY_BYTES:
            raise KeyMaterialError("the audit key is not a 256-bit key")
        if index is not None and len(index) != KEY_BYTES:
            raise KeyMaterialError("the index key is not a 256-bit key")
        self.keys = dict(keys)
        self.index = index
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
                index = base64.b64decode(raw["index"], validate=True) if raw.get("index") else None
                return cls(keys, int(raw["current"]), int(raw.get("min_decryption_version", 1)), signing, index)
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
        if self.index is not None:
            body["index"] = base64.b64encode(self.index).decode()
        return json.dumps(body, indent=2)

    def but(
        self,
        *,
        keys: dict[int, bytes] | None = None,
        current: int | None = None,
        min_decryption_version: int | None = None,
        audit: tuple[bytes, int] | None = None,
        index: bytes | None = None,
    ) -> KeySet:
        """A copy with the parts given replaced."""
        return KeySet(
            self.keys if keys is None else keys,
            self.current if current is None else current,
            self.min_decryption_version if min_decryption_version is None else min_decryption_version,
            self.audit if audit is None else audit,
            self.index if index is None else index,
        )


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

    def index_key(self) -> bytes | None:
        """The key of the duplicate check's blind index, if the provider holds one."""
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

    def index_key(self) -> bytes | None:
        return self.keyset.index


class EnvKeyProvider(_KeySetProvider):
    """KEKs from the ``DOORSTEP_KEK`` environment variable (read-only: rotate by changing the variable)."""

    def __init__(self, value: str) -> None:
        super().__init__(KeySet.parse(value))


class FileKeyProvider(_KeySetProvider):
    """KEKs from ``kek.json`` in the keys directory; can add versions (rotation) and retire old ones."""

    FILE_NAME = "kek.json"
    ARCHIVE_NAME = "kek-retired.json"

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
        self._save(self.keyset.but(keys=keys, current=version))
        return version

    def retire_below(self, version: int) -> list[int]:
        """Drop every version below ``version`` from the file and refuse them from now on; returns the versions
        retired. They are kept in ``kek-retired.json`` beside it first: backups made while they were current need
        them to be restored (``doorstep restore`` takes them from there)."""
        retired = {v: k for v, k in self.keyset.keys.items() if v < version}
        if retired:
            archive = self.retired(self.path.parent) | retired
            body = {"retired": {str(v): base64.b64encode(k).decode() for v, k in sorted(archive.items())}}
            _write_private(self.path.parent / self.ARCHIVE_NAME, json.dumps(body, indent=2), exclusive=False)
        keys = {v: k for v, k in self.keyset.keys.items() if v >= version}
        self._save(self.keyset.but(keys=keys, min_decryption_version=version))
        return sorted(retired)

    @classmethod
    def retired(cls, keys_dir: Path) -> dict[int, bytes]:
        """The versions ``retire_below`` took out of use, from ``kek-retired.json`` (none if there is no archive)."""
        try:
            raw = json.loads((keys_dir / cls.ARCHIVE_NAME).read_text())
            return {int(v): base64.b64decode(k, validate=True) for v, k in raw["retired"].items()}
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise KeyMaterialError(f"{keys_dir / cls.ARCHIVE_NAME} is not valid") from None

    def bring_back(self, versions: dict[int, bytes]) -> None:
        """Put retired versions back into use (a backup made under them is being restored)."""
        keys = dict(self.keyset.keys) | versions
        lowest = min([self.keyset.min_decryption_version, *versions])
        self._save(self.keyset.but(keys=keys, min_decryption_version=lowest))

    def add_audit_key(self, first_seq: int) -> tuple[bytes, int]:
        """Create the audit chain's signing key; entries from ``first_seq`` on are signed with it."""
        keyset = KeySet.parse(self.path.read_text())  # another process may have made it a moment ago
        if keyset.audit is not None:
            self.keyset = keyset
            return keyset.audit
        self._save(keyset.but(audit=(new_key(), first_seq)))
        assert self.keyset.audit is not None
        return self.keyset.audit

    def add_index_key(self) -> bytes:
        """Create the blind index key (once; a key made by another process a moment ago is kept)."""
        keyset = KeySet.parse(self.path.read_text())
        if keyset.index is not None:
            self.keyset = keyset
            return keyset.index
        self._save(keyset.but(index=new_key()))
        assert self.keyset.index is not None
        return self.keyset.index

    def _save(self, keyset: KeySet) -> None:
        _write_private(self.path, keyset.dump(), exclusive=False)
        self.keyset = keyset


def _write_private(path: Path, text: str, *, exclusive: bool) -> None:
    # Written to a temporary file with mode 0600 from the start, then renamed: never world-readable, and a
    # crash leaves either the old or the new file. The file keeps its owner (keep_owner).
    temporary = path.with_suffix(".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    if exclusive and path.exists():
        raise KeyMaterialError(f"the key file {path} already exists")
    fd = os.open(temporary, flags, 0o600)
    try:
        keep_owner(fd, path)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
