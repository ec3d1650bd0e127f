"""What a running app holds: its settings, engine and session factory.

Stored on ``app.state`` by the app factory and read back with :func:`runtime_of`; there is no module-level
global, so several apps can run in one process (the tests do).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.push import Dispatcher, VapidKeys
from server.records.keyring import Keyring
from server.settings import Settings

__all__ = ["PushRuntime", "Runtime", "runtime_of"]

STATE_KEY = "doorstep_runtime"


@dataclass(slots=True)
class Runtime:
    """The long-lived objects of one app instance."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring
    # Values that never change once created (e.g. the cursor-signing secret), read once per app.
    secrets: dict[str, bytes] = field(default_factory=dict)
    # Web Push, set up in the lifespan: the VAPID keys and the dispatcher (None when push is disabled).
    push: PushRuntime | None = None


@dataclass(slots=True)
class PushRuntime:
    keys: VapidKeys
    dispatcher: Dispatcher | None

    def wake(self) -> None:
        """Tell the dispatcher that jobs were queued, so it sends now instead of at its next poll."""
        if self.dispatcher is not None:
            self.dispatcher.wake()


def runtime_of(app: Litestar) -> Runtime:
    """The :class:`Runtime` of ``app``."""
    runtime = app.state[STATE_KEY]
    assert isinstance(runtime, Runtime)
    return runtime
