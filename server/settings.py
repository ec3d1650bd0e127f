"""Runtime settings, read from ``DOORSTEP_*`` environment variables.

Settings are a frozen msgspec struct built once by whoever starts the app (the CLI, a test, a benchmark) and
handed to :func:`server.app.create_app`. Nothing reads the environment at import time, so several apps with
different settings can live in one process, which is how the tests run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import msgspec

__all__ = ["Settings", "SettingsError"]

Environment = Literal["production", "development", "test"]


class SettingsError(ValueError):
    """A ``DOORSTEP_*`` variable holds a value that cannot be used."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the server needs to know about where it runs.

    Extend it by adding a field with a default; :meth:`from_env` picks it up as ``DOORSTEP_<NAME>``.
    """

    data_dir: str = "var"
    database_url: str = ""
    environment: Environment = "production"
    migrate_on_start: bool = True
    demo: bool = False
    demo_password: str = ""
    # The session cookie's Secure flag. It is left off only for a development or test server on loopback, where
    # the browser talks plain http to 127.0.0.1; never because of what a Host header says.
    secure_cookies: bool = True
    # Host names the server answers to, comma-separated ("doorstep.example.org"); empty answers to any. Off
    # loopback, set it: a request for another host is refused with 400 before it reaches any route.
    allowed_hosts: str = ""
    # GET /metrics answers a scraper on loopback; with a token, any scraper that sends it as a bearer token.
    metrics_token: str = ""
    # Sessions: a working day of idleness, and at most one day in all; the tablet asks again next morning.
    session_idle_minutes: int = 8 * 60
    session_max_hours: int = 24
    # Login throttling, counted in the database so that it holds across server processes.
    login_window_minutes: int = 15
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 30
    # The duplicate check at intake: at most this many per user in the window (a tablet checks once per pause in
    # typing); beyond, 429 until the oldest leaves the window, so that nobody runs a list of names through it.
    duplicate_checks_per_window: int = 30
    duplicate_check_window_minutes: int = 10
    # Unfinished uploads: a tablet sends one file at a time, so a few open at once per device and per user (counted
    # over the last day), and at most this many declared bytes per organisation, whatever their age.
    uploads_open_per_device: int = 3
    uploads_open_per_user: int = 6
    upload_bytes_open_per_organisation: int = 2 * 1024**3
    # Bodies beyond these sizes are refused with 413 before they are decoded.
    max_body_bytes: int = 256 * 1024
    max_sync_body_bytes: int = 4 * 1024 * 1024
    log_level: str = "INFO"
    # Deleted records are kept this long for devices that were offline; older cursors must re-bootstrap.
    tombstone_horizon_days: int = 90
    housekeeping_interval_seconds: int = 3600
    # Closed cases are erased (crypto-shredded) this many years after closing (GDPR storage limitation); 0 keeps
    # them. A month ahead the supervisor's dashboard announces it.
    retention_years: int = 3
    # The key encryption key may come from the environment instead of the key file (base64, 32 bytes).
    kek: str = ""
    # Web Push (docs/security.md part 5). The subject is the operator's contact for push services: set a real mailto.
    push_enabled: bool = True
    push_subject: str = "mailto:admin@example.org"
    push_hosts: str = (
        "fcm.googleapis.com,updates.push.services.mozilla.com,*.push.services.mozilla.com,"
        "*.notify.windows.com,web.push.apple.com,*.push.apple.com"
    )
    push_allow_loopback: bool = False  # a local push service on 127.0.0.1; honoured only with environment=test
    push_ttl_seconds: int = 24 * 3600
    push_poll_seconds: float = 2.0
    push_batch: int = 100
    push_lease_seconds: int = 60
    push_timeout_seconds: float = 10.0
    push_max_attempts: int = 8
    push_backoff_seconds: float = 15.0
    push_backoff_cap_seconds: float = 3600.0
    # Report periods are calendar days in the organisation's time zone.
    report_time_zone: str = "Europe/Berlin"
    # The service centre's office hours on working days, and the length of one appointment (docs/domain.md).
    service_hours: str = "09:00-17:00"
    appointment_minutes: int = 30
    # Days after the team's last letter to a household it never reached before a home visit is planned (outreach).
    outreach_days: int = 7
    # Days a declined referral's content is kept before it is shredded (docs/operations.md "Retention").
    referral_keep_days: int = 90
    # A test server's clock runs this many seconds off the machine's, so that the tests can try the days that break
    # date code (a Sunday, New Year's Eve, the night the clocks change). Refused outside environment=test.
    clock_shift_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.clock_shift_seconds and self.environment != "test":
            raise ValueError("clock_shift_seconds is for test servers only (environment=test)")
        if self.outreach_days < 1:
            raise ValueError("outreach_days must be a day or more")
        if self.referral_keep_days < 1:
            raise ValueError("referral_keep_days must be a day or more")

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or an SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{Path(self.data_dir).resolve() / 'doorstep.db'}"

    def cookie_secure(self, server_host: str) -> bool:
        """Whether the session cookie carries ``Secure`` for a server listening on ``server_host``."""
        loopback = server_host in ("127.0.0.1", "::1", "localhost")
        return self.secure_cookies and not (self.environment != "production" and loopback)

    @property
    def push_host_list(self) -> list[str]:
        """The allow-listed push-service hosts (``*.example.com`` matches subdomains)."""
        return [host.strip().lower() for host in self.push_hosts.split(",") if host.strip()]

    @property
    def keys_dir(self) -> Path:
        """Where the key files live (mode 0700 directory, 0600 files)."""
        return Path(self.data_dir) / "keys"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite, which needs its own pragmas and single-writer care."""
        return self.resolved_database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``DOORSTEP_<FIELD>`` variables, then apply ``overrides``.

        Values are converted by msgspec from their string form, so a wrong type is reported with the name of
        the variable instead of failing later.
        """
        env = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        for name in cls.__struct_fields__:
            value = env.get(f"DOORSTEP_{name.upper()}")
            if value is not None:
                raw[name] = value
        raw.update(overrides)
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(f"invalid DOORSTEP_* setting: {exc}") from None
