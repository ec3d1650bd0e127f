"""Opaque session tokens and the CSRF token derived from them.

A session token is 256 random bits; the database keeps only its SHA-256. The CSRF token is an HMAC of the
session token, so the server can check it without storing it and ``GET /api/me`` can return it again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["csrf_matches", "csrf_token_for", "hash_token", "new_token"]


def new_token() -> str:
    """A fresh session token (43 url-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token bound to ``session_token``."""
    return hmac.new(session_token.encode(), b"doorstep-csrf-v1", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    """Constant-time check of a presented ``X-CSRF-Token``."""
    if not presented:
        return False
    return hmac.compare_digest(csrf_token_for(session_token), presented)
