"""What every ``doorstep`` command checks before it acts (docs/operations.md "Day one").

An administrator's command acts on the data directory and database the environment names, and says which it
used. Run without them (a bare ``doorstep create-team`` in a shell that has not loaded ``/etc/doorstep/doorstep.env``)
it would act on a fresh SQLite file in ``./var`` and report success: so it refuses instead, before it opens or
creates anything. ``doorstep serve`` alone may start on the default directory, which is what ``make run`` does.

A database that cannot be reached is one line naming the database (never its password) and the reason, not a
traceback.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from server.settings import PREFIX, Settings

__all__ = ["NotConfigured", "describe", "refuse_unconfigured", "unreachable"]

# Commands that may bring a database into being: the others refuse an SQLite file that is not there.
CREATE_DATABASE = frozenset({"serve", "migrate", "seed-demo", "restore"})


class NotConfigured(Exception):
    """The command would act on a data directory or database nobody configured."""


def _database(settings: Settings) -> str:
    """The database as a URL without its password."""
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def describe(settings: Settings, env: Mapping[str, str]) -> str:
    """One line: the data directory and database in use, and where each came from."""
    data_from = f"{PREFIX}DATA_DIR" if f"{PREFIX}DATA_DIR" in env else "default"
    db_from = f"{PREFIX}DATABASE_URL" if settings.database_url else "SQLite in the data directory"
    return (
        f"Using data directory {Path(settings.data_dir).resolve()} ({data_from}) "
        f"and database {_database(settings)} ({db_from})."
    )


def refuse_unconfigured(command: str, settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Raise :class:`NotConfigured` when ``command`` would act on a data directory the environment does not name,
    or on an SQLite database that does not exist yet (for a command that does not create one)."""
    env = os.environ if env is None else env
    if command == "serve":
        return
    if f"{PREFIX}DATA_DIR" not in env and f"{PREFIX}DATABASE_URL" not in env:
        raise NotConfigured(
            f"neither {PREFIX}DATA_DIR nor {PREFIX}DATABASE_URL is set, so this would act on "
            f"{Path(settings.data_dir).resolve()}, which nobody configured. Run it as `doorstep-admin …` (as "
            "root: it loads the server's settings file and acts as the server's user), or set the server's "
            'settings first (docs/operations.md "Day one")'
        )
    if settings.is_sqlite and command not in CREATE_DATABASE:
        database = Path(make_url(settings.resolved_database_url).database or "")
        if not database.exists():
            raise NotConfigured(
                f"there is no database at {database}: is {PREFIX}DATA_DIR the server's? (`doorstep migrate` "
                "creates a new one)"
            )


def unreachable(exc: BaseException, settings: Settings) -> str | None:
    """The one-line message for a database that cannot be reached or refuses a statement, or None if ``exc`` is
    something else."""
    if isinstance(exc, OperationalError | DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        if not isinstance(exc.orig, OSError) and "connect" not in reason.lower():
            return f"error: the database {_database(settings)} refused: {reason}"
    elif isinstance(exc, ConnectionError | socket.gaierror | TimeoutError):
        reason = exc.strerror or str(exc) or type(exc).__name__
    else:
        return None
    return f"error: cannot reach the database {_database(settings)}: {reason}"
