"""The one plugin that wires Doorstep together: routes, middleware, dependencies, errors and lifespan.

To add an area, add its controller to ``ROUTE_HANDLERS`` and, if it needs long-lived objects, put them on
:class:`~server.runtime.Runtime`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins import InitPluginProtocol
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from server.auth.admin import AdminController
from server.auth.controller import AuthController
from server.auth.middleware import SessionAuthMiddleware
from server.auth.schemas import Principal
from server.db import create_engine, migrate, session_factory
from server.housekeeping import housekeeping_task
from server.problems import exception_handlers
from server.push import Dispatcher, dispatcher_task, load_or_create
from server.push.controller import PushController
from server.records.controller import CaseController
from server.records.keyring import Keyring
from server.reports.controller import AnnualReportPage, ReportController
from server.runtime import STATE_KEY, PushRuntime, Runtime, runtime_of
from server.settings import Settings
from server.sync.controller import ConflictController, SyncController
from server.web import app_shell, health, manifest, security_headers, service_worker

__all__ = ["PWA_DIR", "DoorstepPlugin"]

PWA_DIR = Path(__file__).resolve().parents[1] / "pwa"
logger = logging.getLogger("doorstep")


def _provide_runtime(state: State) -> Runtime:
    runtime = state[STATE_KEY]
    assert isinstance(runtime, Runtime)
    return runtime


def _provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)
    return principal


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    runtime = runtime_of(app)
    if runtime.settings.migrate_on_start:
        await migrate(runtime.engine)
    await runtime.keyring.load(runtime.engine)
    keys = load_or_create(runtime.settings.keys_dir)
    dispatcher = Dispatcher(runtime.sessions, runtime.settings, keys) if runtime.settings.push_enabled else None
    runtime.push = PushRuntime(keys=keys, dispatcher=dispatcher)
    try:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(housekeeping_task(runtime.sessions, runtime.settings))
            if dispatcher is not None:
                await stack.enter_async_context(dispatcher_task(dispatcher))
            yield
    finally:
        await runtime.engine.dispose()


class DoorstepPlugin(InitPluginProtocol):
    """Configures a Litestar app for the given :class:`Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        engine = create_engine(self.settings.resolved_database_url)
        runtime = Runtime(
            settings=self.settings,
            engine=engine,
            sessions=session_factory(engine),
            keyring=Keyring(self.settings),
        )
        app_config.state[STATE_KEY] = runtime
        # The body limit sits on a router because Litestar reads the app-level limit only from its
        # constructor, not from a plugin's config.
        app_config.route_handlers.append(
            Router(
                path="/",
                request_max_body_size=self.settings.max_body_bytes,
                route_handlers=[
                    AuthController,
                    AdminController,
                    CaseController,
                    ConflictController,
                    PushController,
                    ReportController,
                    AnnualReportPage,
                    health,
                    app_shell,
                    manifest,
                    service_worker,
                    Router(
                        path="/",
                        request_max_body_size=self.settings.max_sync_body_bytes,
                        route_handlers=[SyncController],
                    ),
                    create_static_files_router(
                        path="/static", directories=[PWA_DIR / "static"], opt={"exclude_from_auth": True}
                    ),
                ],
            )
        )
        app_config.dependencies.update(
            {
                "runtime": Provide(_provide_runtime, sync_to_thread=False),
                "principal": Provide(_provide_principal, sync_to_thread=False),
            }
        )
        app_config.middleware.append(DefineMiddleware(SessionAuthMiddleware, exclude=["^/schema"]))
        app_config.exception_handlers.update(exception_handlers())
        app_config.before_send.append(security_headers)
        app_config.lifespan.append(_lifespan)
        app_config.template_config = TemplateConfig(directory=PWA_DIR / "templates", engine=JinjaTemplateEngine)
        app_config.openapi_config = OpenAPIConfig(
            title="Doorstep", version="1", description="Doorstep server API and sync protocol version 1."
        )
        app_config.debug = False
        # Logging is set up once by the process (``server.logs.configure_logging``, with CR/LF escaping);
        # Litestar's own configuration would replace those handlers.
        app_config.logging_config = None
        return app_config
