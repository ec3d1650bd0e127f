"""Argon2id password hashing with at least the OWASP parameters (19 MiB, t=2, p=1).

Hashing takes tens of milliseconds of CPU on purpose, so the async callers run it in a worker thread.
"""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "hash_password_sync", "needs_rehash", "verify_password"]

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Verified against when the username is unknown, so that both failures cost the same time.
_DUMMY_HASH = _hasher.hash("doorstep-timing-equaliser")


def hash_password_sync(password: str) -> str:
    """Hash ``password`` (blocking; for the CLI and demo seeding)."""
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    """Hash ``password`` in a worker thread."""
    return await anyio.to_thread.run_sync(_hasher.hash, password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``stored_hash``; with no hash (unknown user) take as long, then fail."""
    return await anyio.to_thread.run_sync(_verify, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)
