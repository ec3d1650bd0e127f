"""Password hashing parameters, token entropy, CSRF binding, and log-line escaping."""

from __future__ import annotations

import logging

from argon2 import extract_parameters

from server.auth.passwords import hash_password, verify_password
from server.auth.tokens import csrf_matches, csrf_token_for, hash_token, new_token
from server.logs import EscapingFilter
from server.settings import Settings


async def test_passwords_use_argon2id_with_at_least_the_owasp_parameters() -> None:
    stored = await hash_password("Sommer 2026 im Hof")
    assert stored.startswith("$argon2id$")
    params = extract_parameters(stored)
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism == 1
    assert await verify_password(stored, "Sommer 2026 im Hof")
    assert not await verify_password(stored, "sommer 2026 im hof")
    assert not await verify_password(None, "anything")
    assert not await verify_password("not a hash", "anything")


def test_tokens_are_long_random_and_stored_as_hashes() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    token = tokens.pop()
    assert len(token) >= 43
    assert hash_token(token) != token
    assert len(hash_token(token)) == 64


def test_csrf_token_is_bound_to_its_session() -> None:
    a, b = new_token(), new_token()
    assert csrf_matches(a, csrf_token_for(a))
    assert not csrf_matches(a, csrf_token_for(b))
    assert not csrf_matches(a, None)
    assert not csrf_matches(a, "")


def test_log_values_cannot_forge_lines() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "login for %s", ("eve\r\nINFO admin logged in",), None)
    EscapingFilter().filter(record)
    line = record.getMessage()
    assert "\n" not in line
    assert "\r" not in line
    assert line == "login for eve\\r\\nINFO admin logged in"


async def test_the_app_keeps_the_escaping_log_handlers(settings: Settings) -> None:
    from server.app import create_app
    from server.logs import configure_logging
    from tests.support.app import running

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        handlers = root.handlers[:]
        async with running(create_app(settings)):
            assert root.handlers == handlers
            assert any(isinstance(f, EscapingFilter) for h in root.handlers for f in h.filters)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
