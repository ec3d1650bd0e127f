"""What the auth area needs of a running app: its engine, session factory and settings.

The plugin puts one :class:`AuthState` on ``app.state`` when the app is built; the session middleware reads it
with :func:`auth_state` and the auth controllers receive it through dependency injection. It holds nothing of
records, sync, push or reports: auth knows users, sessions and devices, never case data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.audit import AuditKey
from server.settings import Settings

__all__ = ["AuthState", "auth_state"]


@dataclass(frozen=True, slots=True)
class AuthState:
    """The database and settings that login, sessions and device administration work with."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    # The audit chain's signing key once the keys are loaded (administrators' changes are audited).
    audit_key: Callable[[], AuditKey | None] = lambda: None


def auth_state(app: Litestar) -> AuthState:
    """The :class:`AuthState` of ``app``."""
    state = app.state[AuthState.__name__]
    assert isinstance(state, AuthState)
    return state
