"""Text that cannot be stored is refused at the edge, before any handler reads it.

- A body that is not valid UTF-8 is a ``400``, never a decoding error deep inside a handler (a ``500`` that a
  sync client would retry for ever).
- NUL characters are refused in query strings here, and in bodies by the schemas of the fields that reach a text
  column (names, passwords, push endpoints) and per mutation in record fields: PostgreSQL cannot store them in
  text, and no field of Doorstep has a use for them (``docs/security.md`` case 36).
- In a sync push, a lone UTF-16 surrogate (what cutting an emoji in half leaves behind) makes only its own mutation
  fail: it is replaced by :data:`BROKEN_TEXT`, a NUL followed by the noncharacter U+FDD0, and the mutation holding
  it is rejected with the field named (``docs/security.md`` case 37). A noncharacter alone is valid text and is
  kept; the NUL before it cannot come from a record field, as those refuse NUL.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from server.problems import ValidationFailed

__all__ = ["BROKEN_TEXT", "refuse_bad_text"]

BROKEN_TEXT = "\x00\ufdd0"
_ESCAPE = r"(?<!\\)(?:\\\\)*\\"  # a JSON escape: a backslash that is not itself escaped
_HIGH, _LOW = r"u[dD][89abAB][0-9a-fA-F]{2}", r"u[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE_SURROGATE = re.compile(
    (
        "(" + _ESCAPE + ")" + _HIGH + "(?!\\\\" + _LOW + ")"  # a high half with no low half after it
        "|(?<!\\\\" + _HIGH + ")(" + _ESCAPE + ")" + _LOW  # a low half with no high half before it
    ).encode()
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Bodies of bytes, not text: the chunks of an attachment upload.
_BINARY_BODIES = "/api/attachments/"


async def refuse_bad_text(request: Request[Any, Any, Any]) -> None:
    """Before-request hook of the app (see the module's docstring)."""
    query = request.scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        raise ValidationFailed("Text may not contain NUL characters.")
    if request.method not in _BODY_METHODS or request.url.path.startswith(_BINARY_BODIES):
        return
    body = await request.body()
    if not body:
        return
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The request body is not valid UTF-8.") from None
    # Every surrogate escape starts "\ud" or "\uD": a plain substring test spares nearly every body the pattern.
    maybe = b"\\ud" in body or b"\\uD" in body
    if request.url.path == "/api/sync/push" and maybe and _LONE_SURROGATE.search(body):
        repaired = _LONE_SURROGATE.sub(lambda m: (m.group(1) or m.group(2)) + b"u0000\\ufdd0", body)
        # The body as the handler will read it: Litestar keeps the one it read in the connection's state.
        request._body = request._connection_state.body = repaired
