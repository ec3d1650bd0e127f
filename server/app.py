"""The app factory: ``create_app(settings)`` returns a ready Litestar app (see :mod:`server.plugin`)."""

from __future__ import annotations

from litestar import Litestar

from server.plugin import DoorstepPlugin
from server.settings import Settings

__all__ = ["create_app", "create_app_from_env"]


def create_app(settings: Settings) -> Litestar:
    """Build the app for ``settings``. Nothing is read from the environment here."""
    return Litestar(plugins=[DoorstepPlugin(settings)])


def create_app_from_env() -> Litestar:
    """Factory for uvicorn (``--factory``): settings from the ``DOORSTEP_*`` environment."""
    return create_app(Settings.from_env())
