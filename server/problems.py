"""The domain exception hierarchy and its one mapping to RFC 9457 problem responses.

Services raise a :class:`Problem` subclass; :func:`exception_handlers` turns it, and every exception Litestar
raises itself, into ``application/problem+json`` with a stable ``type``. Nothing else in the server builds
error responses, so no stack trace, secret or personal value can reach a client by accident: the ``detail``
is always written by us, never copied from an exception message of a library.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

__all__ = [
    "PROBLEM_BASE",
    "BatchTooLarge",
    "Conflict",
    "CursorExpired",
    "DeviceRevoked",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "ProblemBody",
    "RateLimited",
    "ResetRequired",
    "RowProblem",
    "RowsInvalid",
    "Unauthenticated",
    "Unprocessable",
    "UpgradeRequired",
    "ValidationFailed",
    "exception_handlers",
    "problem_responses",
    "without_values",
]

PROBLEM_BASE = "https://doorstep.invalid/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

logger = logging.getLogger("doorstep.problems")

# A quoted value inside a library's message: msgspec writes "Invalid enum value 'x'" with the client's text.
_QUOTED = re.compile(r"""\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def without_values(message: str) -> str:
    """A validation message that names the rule but not the value that broke it.

    A value typed into the wrong field can be anything, health data included; it must not come back in an error,
    be stored with a push result or be kept in a tablet's outbox (docs/security.md case 35).
    """
    return _QUOTED.sub("", message).strip()[:300]


class ProblemBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document, with two extension members used by Doorstep."""

    type: str
    title: str
    status: int
    detail: str = ""
    # Which input field was wrong, for validation problems.
    field: str | None = None
    # Extra facts a client can act on, e.g. the minimum protocol version for upgrade-required.
    min_protocol: int | None = None
    # The rows of an uploaded file that are wrong, each with its line number, field and what is wrong.
    rows: list[RowProblem] | None = None


class RowProblem(msgspec.Struct, kw_only=True, frozen=True):
    """One wrong row of an uploaded file: its line (the header is line 1), the column and what is wrong."""

    line: int
    field: str | None
    detail: str


class Problem(Exception):
    """Base of every error a client may see. Subclasses fix the status, the type name and the title."""

    status: ClassVar[int] = 400
    name: ClassVar[str] = "validation"
    title: ClassVar[str] = "The request is not valid"

    def __init__(self, detail: str = "", *, field: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field
        self.headers = dict(headers or {})

    def body(self) -> ProblemBody:
        """The document sent to the client."""
        return ProblemBody(
            type=PROBLEM_BASE + self.name,
            title=self.title,
            status=self.status,
            detail=self.detail,
            field=self.field,
        )


class ValidationFailed(Problem):
    """The input cannot be decoded or breaks a rule of its schema."""


class Unprocessable(ValidationFailed):
    """Well-formed input whose values cannot be accepted (e.g. a push key of the wrong length)."""

    status = 422
    title = "The values are not acceptable"


class UnsupportedMediaType(ValidationFailed):
    """The body is not of the content type the endpoint takes."""

    status = 415
    title = "The body must be JSON"


class Unauthenticated(Problem):
    """No valid session, or wrong credentials."""

    status = 401
    name = "unauthenticated"
    title = "Authentication required"


class DeviceRevoked(Problem):
    """The device was revoked by an administrator; the client must wipe its local data."""

    status = 401
    name = "device-revoked"
    title = "This device has been revoked"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail, headers={"Clear-Site-Data": '"storage"'})


class Forbidden(Problem):
    """Authenticated, but the role does not allow this action."""

    status = 403
    name = "forbidden"
    title = "Not allowed"


class NotFound(Problem):
    """Nothing there, or nothing the caller may know exists."""

    status = 404
    name = "not-found"
    title = "Not found"


class Conflict(Problem):
    """The request clashes with the current state (e.g. a username already taken)."""

    status = 409
    name = "conflict"
    title = "Conflict with the current state"


class ResetRequired(Problem):
    """The device's view of its scope drifted; it must push its outbox and bootstrap again."""

    status = 409
    name = "reset-required"
    title = "The device must re-bootstrap"


class CursorExpired(Problem):
    """The cursor is older than the tombstone horizon."""

    status = 410
    name = "cursor-expired"
    title = "The cursor has expired"


class PayloadTooLarge(Problem):
    """A request body beyond the server's limit."""

    status = 413
    name = "payload-too-large"
    title = "The request body is too large"


class BatchTooLarge(Problem):
    """A sync push beyond 500 mutations or 4 MiB."""

    status = 413
    name = "batch-too-large"
    title = "The batch is too large"


class UpgradeRequired(Problem):
    """The client speaks a protocol version the server no longer serves."""

    status = 426
    name = "upgrade-required"
    title = "The client must be updated"

    def __init__(self, detail: str = "", *, min_protocol: int) -> None:
        super().__init__(detail)
        self.min_protocol = min_protocol

    def body(self) -> ProblemBody:
        body = super().body()
        body.min_protocol = self.min_protocol
        return body


class RowsInvalid(ValidationFailed):
    """Rows of an uploaded file break their schema; nothing of the file was taken."""

    def __init__(self, detail: str, *, rows: list[RowProblem]) -> None:
        super().__init__(detail)
        self.rows = rows

    def body(self) -> ProblemBody:
        body = super().body()
        body.rows = self.rows
        return body


class RateLimited(Problem):
    """Too many attempts; ``Retry-After`` says when to try again."""

    status = 429
    name = "rate-limited"
    title = "Too many attempts"

    def __init__(self, detail: str = "", *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def _problem_response(body: ProblemBody, headers: Mapping[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(body),
        status_code=body.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _handle_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    return _problem_response(exc.body(), exc.headers)


# Litestar's own HTTP errors, by status, mapped onto our problem types.
_HTTP_NAMES: dict[int, tuple[str, str]] = {
    400: ("validation", "The request is not valid"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def _field_of(exc: ValidationException) -> str | None:
    # Litestar turns msgspec's "... - at `$.field`" into a key; keep only that path, never the value. A
    # missing field is reported on the whole body ("data"), so its name is read from the message instead.
    extra = exc.extra
    if not isinstance(extra, list):
        return None
    for item in extra:
        if not isinstance(item, dict):
            continue
        missing = _MISSING_FIELD.search(str(item.get("message", "")))
        if missing:
            return missing.group(1)
        key = item.get("key")
        if isinstance(key, str) and key != "data":
            return key
    return None


def _validation_detail(exc: ValidationException) -> str:
    extra = exc.extra
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict) and isinstance(item.get("message"), str):
                # The rule ("Expected `int`, got `str`"), without a value msgspec may have quoted.
                return without_values(str(item["message"]))
    return "The request body or parameters could not be read"


def _handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status == 413 and request.url.path == "/api/sync/push":
        name, title = "batch-too-large", "The batch is too large"
    else:
        name, title = _HTTP_NAMES.get(status, ("error", "The request failed"))
    body = ProblemBody(type=PROBLEM_BASE + name, title=title, status=status, detail=title)
    if isinstance(exc, ValidationException):
        body.detail = _validation_detail(exc)
        body.field = _field_of(exc)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in {"allow", "retry-after"}}
    return _problem_response(body, headers)


def _handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[bytes]:
    # The JSON decoder gives up on absurdly deep nesting with a RecursionError; that is bad input, not a
    # server fault.
    return _problem_response(
        ProblemBody(
            type=PROBLEM_BASE + "validation",
            title="The request is not valid",
            status=400,
            detail="The request body is nested too deeply.",
        )
    )


def _where(exc: BaseException) -> str:
    # The innermost frames as file:line, without the exception message (drivers put bound values there).
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    logger.error("unhandled %s on %s %s at %s", type(exc).__name__, request.method, request.url.path, _where(exc))
    body = ProblemBody(
        type=PROBLEM_BASE + "internal",
        title="Temporary server error",
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        detail="The server could not complete the request. It is safe to retry.",
    )
    return _problem_response(body)


def exception_handlers() -> dict[type[Exception] | int, Callable[..., Response[Any]]]:
    """The handlers to give to the Litestar app."""
    return {
        Problem: _handle_problem,
        HTTPException: _handle_http,
        RecursionError: _handle_recursion,
        Exception: _handle_unexpected,
    }


# What the OpenAPI document says each route may answer besides its success: every route can meet bad input, a
# missing session, a refusal, something unknown, a rate limit or a passing fault. Routes that can answer more
# (a push's 413, a pull's 410 and 426, a subscription's 409) add those.
_COMMON = {
    400: "The request is not valid (problem type validation; field names the culprit)",
    401: "No valid session (unauthenticated), or the device was revoked (device-revoked)",
    403: "Not allowed for this user, or a missing CSRF header (forbidden)",
    404: "Nothing there, or nothing the caller may know exists (not-found)",
    405: "The method is not allowed here",
    413: "The request body is too large",
    415: "The body must be JSON",
    422: "Well-formed values that cannot be accepted",
    429: "Too many attempts; see Retry-After (rate-limited)",
    500: "A passing fault; it is safe to retry",
}
_EXTRA = {
    "/api/sync/push": {413: "At most 500 mutations and 4 MiB per push (batch-too-large)"},
    "/api/sync/pull": {
        410: "The cursor is older than the tombstone horizon: push, then bootstrap (cursor-expired)",
        426: "The client must update (upgrade-required; min_protocol says to which)",
    },
    "/api/push/subscriptions": {409: "The endpoint belongs to another user"},
    "/api/enquiries/{enquiry_id:uuid}": {409: "Another enquiry was recorded under this id (conflict)"},
    "/api/referrals": {409: "This tenancy was handed over before and is still being dealt with (conflict)"},
    "/api/referrals/{referral_id:uuid}/accept": {409: "The referral was decided already (conflict)"},
    "/api/referrals/{referral_id:uuid}/decline": {409: "The referral was decided already (conflict)"},
}


def problem_responses(path: str) -> dict[int, ResponseSpec]:
    """The problem answers to declare in the OpenAPI document for the route at ``path``."""
    described = {**_COMMON, **_EXTRA.get(path, {})}
    return {
        status: ResponseSpec(
            data_container=ProblemBody,
            description=description,
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status, description in described.items()
    }
