"""Runtime settings, read from ``DOORSTEP_*`` environment variables.

Settings are a frozen msgspec struct built once by whoever starts the app (the CLI, a test, a benchmark) and
handed to :func:`server.app.create_app`. Nothing reads the environment at import time, so several apps with
different settings can live in one process, which is how the tests run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import msgspec.inspect
from msgspec import Meta

__all__ = ["NOT_SETTINGS", "Settings", "SettingsError", "settings_table"]

Environment = Literal["production", "development", "test"]

# ``DOORSTEP_*`` variables that the test suite and the benchmarks read, never the server: not an error at start.
NOT_SETTINGS = frozenset({"TEST_DATABASE_URL", "BENCH_DATABASE_URL", "SCREENSHOTS", "KEEP_FUZZ_REPORT"})


class SettingsError(ValueError):
    """A ``DOORSTEP_*`` variable holds a value that cannot be used."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the server needs to know about where it runs.

    Extend it by adding a field with a default and a description; :meth:`from_env` picks it up as
    ``DOORSTEP_<NAME>``, and the settings table of docs/operations.md is made from the descriptions
    (``python -m server.settings``).
    """

    data_dir: Annotated[
        str, Meta(description="where the SQLite database, the keys and the process files live (`keys/` mode 0700)")
    ] = "var"
    database_url: Annotated[str, Meta(description="`postgresql+asyncpg://…`; empty: SQLite in the data directory")] = ""
    database_connections: Annotated[
        int,
        Meta(
            description="PostgreSQL: connections one server process opens at most, and keeps open; processes times "
            "this must stay below the database's `max_connections`"
        ),
    ] = 30
    environment: Annotated[
        Environment, Meta(description="`production`, `development` (plain http on loopback) or `test`")
    ] = "production"
    migrate_on_start: Annotated[
        bool, Meta(description="migrate at start; `false`: refuse to start on an older schema (run `doorstep migrate`)")
    ] = True
    demo: Annotated[bool, Meta(description="seed the invented demo data into an empty database at start")] = False
    demo_password: Annotated[str, Meta(description="the demo logins' password (empty: the built-in one)")] = ""
    # The session cookie's Secure flag. It is left off only for a development or test server on loopback, where
    # the browser talks plain http to 127.0.0.1; never because of what a Host header says.
    secure_cookies: Annotated[
        bool, Meta(description="mark the session cookie `Secure` (off only for development on loopback)")
    ] = True
    allowed_hosts: Annotated[
        str,
        Meta(
            description="host names served, comma-separated; another `Host` gets 400 (empty: any; set it off loopback)"
        ),
    ] = ""
    metrics_token: Annotated[
        str, Meta(description="`/metrics` also answers a scraper elsewhere that sends it as a bearer token")
    ] = ""
    # Sessions: a working day of idleness, and at most one day in all; the tablet asks again next morning.
    session_idle_minutes: Annotated[int, Meta(description="a session unused this long ends")] = 8 * 60
    session_max_hours: Annotated[int, Meta(description="a session ends this long after login, used or not")] = 24
    # Login throttling, counted in the database so that it holds across server processes.
    login_window_minutes: Annotated[int, Meta(description="the window failed logins are counted in")] = 15
    login_max_failures_per_account: Annotated[
        int, Meta(description="more failures for one username in the window are answered 429")
    ] = 5
    login_max_failures_per_address: Annotated[
        int, Meta(description="more failures from one client address in the window are answered 429")
    ] = 30
    # The duplicate check at intake: at most this many per user in the window (a tablet checks once per pause in
    # typing); beyond, 429 until the oldest leaves the window, so that nobody runs a list of names through it.
    duplicate_checks_per_window: Annotated[
        int, Meta(description="more duplicate checks at intake by one user in the window are answered 429")
    ] = 30
    duplicate_check_window_minutes: Annotated[int, Meta(description="the window duplicate checks are counted in")] = 10
    # Unfinished uploads: a tablet sends one file at a time, so a few open at once per device and per user (counted
    # over the last day), and at most this many declared bytes per organisation, whatever their age.
    uploads_open_per_device: Annotated[
        int, Meta(description="unfinished uploads one device may declare within a day; more are answered 429")
    ] = 3
    uploads_open_per_user: Annotated[int, Meta(description="the same for one user across devices")] = 6
    upload_bytes_open_per_organisation: Annotated[
        int, Meta(description="bytes all unfinished uploads of an organisation may declare")
    ] = 2 * 1024**3
    max_body_bytes: Annotated[
        int, Meta(description="larger request bodies are refused with 413 before they are read")
    ] = 256 * 1024
    max_sync_body_bytes: Annotated[int, Meta(description="the same for a sync push")] = 4 * 1024 * 1024
    log_level: Annotated[str, Meta(description="`DEBUG`, `INFO`, `WARNING` or `ERROR`")] = "INFO"
    tombstone_horizon_days: Annotated[
        int,
        Meta(description="deleted records are kept this long for offline devices; an older cursor loads anew (410)"),
    ] = 90
    housekeeping_interval_seconds: Annotated[
        int, Meta(description="how often housekeeping runs (0: never; `doorstep housekeeping` by hand)")
    ] = 3600
    retention_years: Annotated[
        int, Meta(description="closed cases are erased this many years after closing (0 keeps them)")
    ] = 3
    kek: Annotated[
        str,
        Meta(description="the key encryption key instead of `keys/kek.json` (base64 of 32 bytes, or that file's JSON)"),
    ] = ""
    push_enabled: Annotated[bool, Meta(description="send Web Push messages (`false`: they stay queued)")] = True
    push_subject: Annotated[
        str, Meta(description="the operator's contact the push services see: **set a real `mailto:`**")
    ] = "mailto:admin@example.org"
    push_hosts: Annotated[
        str, Meta(description="allow-listed push-service hosts, comma-separated (`*.host` matches subdomains)")
    ] = (
        "fcm.googleapis.com,updates.push.services.mozilla.com,*.push.services.mozilla.com,"
        "*.notify.windows.com,web.push.apple.com,*.push.apple.com"
    )
    push_allow_loopback: Annotated[
        bool, Meta(description="a push service on 127.0.0.1 (honoured only with `environment=test`)")
    ] = False
    push_ttl_seconds: Annotated[
        int, Meta(description="how long a push service keeps a message for an offline tablet")
    ] = 24 * 3600
    push_poll_seconds: Annotated[
        float, Meta(description="how often the dispatcher looks for retries and for jobs of other processes")
    ] = 2.0
    push_batch: Annotated[int, Meta(description="jobs one dispatcher claims at a time")] = 100
    push_lease_seconds: Annotated[
        int, Meta(description="a claimed job is free again after this long (its process died)")
    ] = 60
    push_timeout_seconds: Annotated[float, Meta(description="how long to wait for a push service's answer")] = 10.0
    push_max_attempts: Annotated[int, Meta(description="attempts before a job is given up")] = 8
    push_backoff_seconds: Annotated[
        float, Meta(description="the first wait after 429, 5xx or no answer; it doubles each time")
    ] = 15.0
    push_backoff_cap_seconds: Annotated[float, Meta(description="the longest wait between attempts")] = 3600.0
    report_time_zone: Annotated[str, Meta(description="report periods are calendar days in this time zone")] = (
        "Europe/Berlin"
    )
    service_hours: Annotated[
        str, Meta(description="the service centre's office hours on working days, for appointments")
    ] = "09:00-17:00"
    appointment_minutes: Annotated[int, Meta(description="one appointment's length (10 to 240)")] = 30
    outreach_days: Annotated[
        int, Meta(description="days after the last letter to a household never reached before a home visit is planned")
    ] = 7
    referral_keep_days: Annotated[
        int, Meta(description="days a declined referral's content is kept before it is shredded")
    ] = 90
    worker_start_seconds: Annotated[
        int, Meta(description="with `--workers`, how long a starting process may take before it is restarted")
    ] = 60
    # A test server's clock runs this many seconds off the machine's, so that the tests can try the days that break
    # date code (a Sunday, New Year's Eve, the night the clocks change). Refused outside environment=test.
    clock_shift_seconds: Annotated[
        float, Meta(description="test servers only: the clock runs this many seconds off")
    ] = 0.0

    def __post_init__(self) -> None:
        if self.clock_shift_seconds and self.environment != "test":
            raise ValueError("clock_shift_seconds is for test servers only (environment=test)")
        if self.outreach_days < 1:
            raise ValueError("outreach_days must be a day or more")
        if self.referral_keep_days < 1:
            raise ValueError("referral_keep_days must be a day or more")
        if self.database_connections < 2:
            raise ValueError("database_connections must be 2 or more")

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
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``DOORSTEP_<FIELD>`` variables, then apply ``overrides``.

        A ``DOORSTEP_*`` variable that names no setting is an error (a mistyped name would otherwise leave the
        default in force unseen), and so is a value of the wrong form: both messages name the variable.
        """
        env = os.environ if environ is None else environ
        known = {f"{PREFIX}{name.upper()}": name for name in cls.__struct_fields__}
        unknown = sorted(
            key for key in env if key.startswith(PREFIX) and key not in known and key[len(PREFIX) :] not in NOT_SETTINGS
        )
        if unknown:
            hints = []
            for key in unknown:
                close = get_close_matches(key, list(known), n=1)
                hints.append(f"{key} (did you mean {close[0]}?)" if close else key)
            raise SettingsError(f'unknown setting {", ".join(hints)}: docs/operations.md "Settings" lists them all')
        raw: dict[str, object] = {name: env[key] for key, name in known.items() if key in env}
        raw.update(overrides)
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(_named(str(exc))) from None
        except ValueError as exc:  # __post_init__
            raise SettingsError(_named(str(exc))) from None


PREFIX = "DOORSTEP_"


def _named(message: str) -> str:
    """msgspec's ``… - at `$.retention_years``` as ``DOORSTEP_RETENTION_YEARS: …``."""
    text, _, where = message.rpartition(" - at `$.")
    if text and where.endswith("`"):
        return f"{PREFIX}{where[:-1].upper()}: {text}"
    for name in Settings.__struct_fields__:
        if message.startswith(f"{name} "):
            return f"{PREFIX}{name.upper()}: {message}"
    return message


def settings_table() -> str:
    """The Markdown table of every setting, its default and its meaning (docs/operations.md "Settings")."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        meta = field.type
        schema = meta.extra_json_schema if isinstance(meta, msgspec.inspect.Metadata) else None
        description = str((schema or {}).get("description", ""))
        if isinstance(field.default, bool):
            default = str(field.default).lower()
        else:
            default = "" if field.default in ("", None) else str(field.default)
        shown = f"`{default}`" if default else "(empty)"
        lines.append(f"| `{PREFIX}{field.name.upper()}` | {shown} | {description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
