"""The one plugin that wires Doorstep together: routes, middleware, dependencies, errors and lifespan.

Each area has one small service object (:class:`SyncService`, :class:`CaseReads`, :class:`Reports`,
:class:`PushService`, and :class:`AuthState` for auth). The plugin builds them, keeps each on ``app.state`` under
its class name, and provides it to handlers through Litestar's dependency injection under a short name
(``sync``, ``cases``, ``reports``, ``push``, ``auth``). Services that need what the lifespan loads (the cursor
secret, the VAPID keys) are built there. To add an area: write its service, build it here, add a provider and
its controller.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from litestar import Litestar, Request, Router
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins import InitPluginProtocol
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.auth.admin import AdminController, AdminPage
from server.auth.controller import AuthController, TeamController
from server.auth.middleware import SessionAuthMiddleware
from server.auth.models import Organisation
from server.auth.schemas import Principal
from server.auth.state import AuthState
from server.db import at_head, create_engine, migrate, session_factory
from server.db.locks import exclusive_start
from server.intake.controller import CourtNoticeController, ReferralController, ReferrerPage
from server.intake.service import Intake
from server.jobs.housekeeping import housekeeping_task
from server.jobs.outreach import outreach_task
from server.jobs.reminders import reminder_task
from server.metrics import MetricsMiddleware
from server.problems import exception_handlers
from server.push import Dispatcher, dispatcher_task, load_or_create
from server.push.controller import PushController
from server.push.models import PushJob
from server.push.service import PushService
from server.records import blind
from server.records.appointments import Appointments, ServiceHours
from server.records.controller import (
    AppointmentController,
    AttachmentController,
    CalendarController,
    CaseController,
    DisclosureController,
    EnquiryController,
    RetentionController,
)
from server.records.enquiries import Enquiries
from server.records.keyring import Keyring
from server.records.projection import fill_minutes
from server.records.quota import UploadQuota
from server.records.service import CaseReads
from server.records.upgrade import open_days, upgrade_stored
from server.records.uploads import MAX_CHUNK_BYTES, Uploads
from server.reports.controller import AnnualReportPage, OrganisationReportController, ReportController
from server.reports.service import Reports
from server.resources import PWA_DIR
from server.settings import Settings
from server.sync.controller import ConflictController, SyncController
from server.sync.service import SyncService, load_cursor_secret
from server.text import refuse_bad_text
from server.web import (
    Readiness,
    Scrape,
    app_shell,
    health,
    manifest,
    metrics,
    ready,
    security_headers,
    service_worker,
)
from server.web.letters import Letters, letters_json

__all__ = ["DoorstepPlugin", "service_of"]

logger = logging.getLogger("doorstep")
T = TypeVar("T")


def service_of(app: Litestar, kind: type[T]) -> T:
    """The app's instance of ``kind`` (a service, :class:`AuthState` or the engine), as handlers receive it."""
    value = app.state[kind.__name__]
    assert isinstance(value, kind)
    return value


def _provider(kind: type[Any]) -> Provide:
    def provide(state: State) -> Any:
        value = state[kind.__name__]
        assert isinstance(value, kind)
        return value

    return Provide(provide, sync_to_thread=False)


def _provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)
    return principal


async def _organisation_name(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions() as db:
        name = await db.scalar(select(Organisation.name).order_by(Organisation.created_at).limit(1))
    return name or ""


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    auth = service_of(app, AuthState)
    settings, engine, sessions = auth.settings, auth.engine, auth.sessions
    keyring = service_of(app, Keyring)
    # One process at a time (several may start at once on one database): the others wait, then find it done.
    async with exclusive_start(engine, Path(settings.data_dir)):
        if settings.migrate_on_start:
            await migrate(engine)
        await keyring.load(engine)
        await upgrade_stored(sessions, keyring)
        await fill_minutes(sessions, keyring)
        await open_days(sessions, keyring)
        await blind.rebuild_if_stale(sessions, keyring)
        keys = load_or_create(settings.keys_dir)
        cursor_secret = await load_cursor_secret(sessions)
    dispatcher = Dispatcher(sessions, settings, keys) if settings.push_enabled else None
    push = PushService(sessions=sessions, settings=settings, keys=keys, dispatcher=dispatcher)
    app.state[PushService.__name__] = push

    async def database() -> bool:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def keys_loaded() -> bool:
        return keyring.loaded and keys.public_key != "" and keyring.key_file_readable()

    async def push_jobs() -> list[tuple[str, str, float]]:
        async with sessions() as db:
            counted = dict((await db.execute(select(PushJob.state, func.count()).group_by(PushJob.state))).all())
        return [
            ("doorstep_push_jobs_queued", "Web Push jobs waiting to be sent.", float(counted.get("pending", 0))),
            ("doorstep_push_jobs_failed", "Web Push jobs given up (kept a week).", float(counted.get("failed", 0))),
        ]

    app.state[Scrape.__name__] = Scrape(token=settings.metrics_token, gauges=push_jobs)
    app.state[Readiness.__name__] = Readiness(
        {"database": database, "migrations": lambda: at_head(engine), "keys": keys_loaded}
    )
    app.state[Intake.__name__] = Intake(
        sessions=sessions, keyring=keyring, time_zone=settings.report_time_zone, on_queued=push.wake
    )
    app.state[SyncService.__name__] = SyncService(
        sessions=sessions,
        engine=engine,
        keyring=keyring,
        cursor_secret=cursor_secret,
        on_queued=push.wake,
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(housekeeping_task(engine, settings, keyring))
            await stack.enter_async_context(
                outreach_task(engine, keyring, ZoneInfo(settings.report_time_zone), settings.outreach_days, push.wake)
            )
            if dispatcher is not None:
                await stack.enter_async_context(dispatcher_task(dispatcher))
                zone = ZoneInfo(settings.report_time_zone)
                await stack.enter_async_context(reminder_task(engine, keyring, zone, push.wake))
            yield
    finally:
        await engine.dispose()


class DoorstepPlugin(InitPluginProtocol):
    """Configures a Litestar app for the given :class:`Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        settings = self.settings
        engine = create_engine(settings.resolved_database_url, connections=settings.database_connections)
        sessions = session_factory(engine)
        keyring = Keyring(settings)
        for value in (
            engine,
            keyring,
            AuthState(engine=engine, sessions=sessions, settings=settings, audit_key=lambda: keyring.audit),
            CaseReads(
                sessions=sessions,
                keyring=keyring,
                time_zone=settings.report_time_zone,
                duplicate_checks=settings.duplicate_checks_per_window,
                duplicate_window=dt.timedelta(minutes=settings.duplicate_check_window_minutes),
            ),
            Reports(sessions=sessions, keyring=keyring, time_zone=settings.report_time_zone),
            Uploads(
                sessions=sessions,
                keyring=keyring,
                quota=UploadQuota(
                    per_device=settings.uploads_open_per_device,
                    per_user=settings.uploads_open_per_user,
                    bytes_per_organisation=settings.upload_bytes_open_per_organisation,
                ),
            ),
            Enquiries(sessions=sessions),
            Appointments(
                sessions=sessions,
                hours=ServiceHours.parse(settings.service_hours, settings.appointment_minutes),
                time_zone=settings.report_time_zone,
            ),
            Letters(settings.data_dir, lambda: _organisation_name(sessions)),
        ):
            app_config.state[type(value).__name__] = value
        # The handlers go to the app itself: wrapped in a router of their own, every one of them was built, copied
        # and built again in each app. The app-wide body limit is the app constructor's (create_app passes it:
        # Litestar reads it only from there); the sync and the attachments routers set their own.
        app_config.route_handlers.extend(
            [
                AuthController,
                AdminController,
                TeamController,
                CaseController,
                EnquiryController,
                AppointmentController,
                RetentionController,
                DisclosureController,
                CalendarController,
                ConflictController,
                PushController,
                ReportController,
                OrganisationReportController,
                ReferralController,
                CourtNoticeController,
                ReferrerPage,
                AdminPage,
                AnnualReportPage,
                health,
                ready,
                metrics,
                app_shell,
                manifest,
                service_worker,
                letters_json,
                Router(
                    path="/",
                    request_max_body_size=self.settings.max_sync_body_bytes,
                    route_handlers=[SyncController],
                ),
                Router(
                    path="/",
                    request_max_body_size=MAX_CHUNK_BYTES + 64 * 1024,
                    route_handlers=[AttachmentController],
                ),
                create_static_files_router(
                    path="/static", directories=[PWA_DIR / "static"], opt={"exclude_from_auth": True}
                ),
            ]
        )
        app_config.dependencies.update(
            {
                "engine": _provider(AsyncEngine),
                "readiness": _provider(Readiness),
                "scrape": _provider(Scrape),
                "auth": _provider(AuthState),
                "cases": _provider(CaseReads),
                "reports": _provider(Reports),
                "sync": _provider(SyncService),
                "push": _provider(PushService),
                "uploads": _provider(Uploads),
                "enquiries": _provider(Enquiries),
                "intake": _provider(Intake),
                "appointments": _provider(Appointments),
                "letters": _provider(Letters),
                "principal": Provide(_provide_principal, sync_to_thread=False),
            }
        )
        # Every route needs a session unless it opts out (login, health, the app shell); the API's OpenAPI document
        # included, since it maps the whole attack surface.
        app_config.middleware.insert(0, MetricsMiddleware)  # outermost: the refused requests are timed too
        app_config.middleware.append(DefineMiddleware(SessionAuthMiddleware))
        app_config.exception_handlers.update(exception_handlers())
        app_config.before_send.append(security_headers)
        app_config.before_request = refuse_bad_text
        app_config.lifespan.append(_lifespan)
        app_config.template_config = TemplateConfig(directory=PWA_DIR / "templates", engine=JinjaTemplateEngine)
        app_config.openapi_config = OpenAPIConfig(
            title="Doorstep", version="1", description="Doorstep server API and sync protocol version 1."
        )
        app_config.debug = False
        hosts = [host.strip() for host in self.settings.allowed_hosts.split(",") if host.strip()]
        if hosts:
            # /health, /ready and /metrics stay reachable for a balancer or scraper that asks by address.
            app_config.allowed_hosts = AllowedHostsConfig(
                allowed_hosts=hosts, exclude=["/health", "/ready", "/metrics"]
            )
        # Logging is set up once by the process (``server.logs.configure_logging``, with CR/LF escaping);
        # Litestar's own configuration would replace those handlers.
        app_config.logging_config = None
        return app_config
