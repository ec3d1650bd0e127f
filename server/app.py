"""The app factory: ``create_app(settings)`` returns a ready Litestar app (see :mod:`server.plugin`)."""

from __future__ import annotations

from email.utils import format_datetime

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

from server.collector import tune_collector
from server.db import shift_clock, utcnow
from server.logs import configure_logging
from server.plugin import DoorstepPlugin
from server.problems import problem_responses
from server.settings import Settings

__all__ = ["create_app", "create_app_from_env"]


def create_app(settings: Settings) -> Litestar:
    """Build the app for ``settings``. Nothing is read from the environment here."""
    # The body limit of every route but sync and attachments: Litestar takes the app's only from its constructor.
    app = Litestar(plugins=[DoorstepPlugin(settings)], request_max_body_size=settings.max_body_bytes)
    _declare_problems(app)
    _answer_options_fully(app)
    if settings.clock_shift_seconds:
        _date_from_the_shifted_clock(app)
    return app


def _date_from_the_shifted_clock(app: Litestar) -> None:
    """A test server whose clock is shifted says its own time in ``Date``, which the tablet compares with its clock
    to warn of a wrong one (uvicorn, which would send the machine's, is started without its own)."""

    async def stamp(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message)["date"] = format_datetime(utcnow(), usegmt=True)

    app.before_send.append(stamp)


def _declare_problems(app: Litestar) -> None:
    """Every API route's OpenAPI entry lists the problem answers it can give besides its success."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            declared = dict(handler.responses or {})
            handler.responses = {**problem_responses(route.path), **declared}


def create_app_from_env() -> Litestar:
    """Factory for uvicorn (``--factory``): settings from the ``DOORSTEP_*`` environment. Logging is set up here
    too, for the worker processes ``doorstep serve --workers`` starts, and so is the garbage collector, once the
    process has started (:mod:`server.collector`)."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    if settings.clock_shift_seconds:  # a test server's pinned clock
        shift_clock(settings.clock_shift_seconds)
    app = create_app(settings)
    app.on_startup.append(tune_collector)
    return app


def _answer_options_fully(app: Litestar) -> None:
    """``OPTIONS`` lists every method of the path in ``Allow``.

    Litestar builds the ``OPTIONS`` answer of a path when the path's first handler is registered, so a path whose
    methods come from several handlers (``GET``, ``POST`` and ``DELETE`` of one controller) would list only the
    first; the answer is corrected on its way out from the finished routing table.
    """
    methods = {route.path: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)}

    async def correct_allow(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        handler = scope.get("route_handler")
        paths = getattr(handler, "paths", ()) or ()
        allow = next((methods[path] for path in paths if path in methods), None)
        if allow is not None:
            MutableScopeHeaders.from_message(message)["allow"] = allow

    app.before_send.append(correct_allow)
