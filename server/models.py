"""Imports every area's tables so that the metadata is complete (for Alembic and for tests)."""

from server.auth import models as auth_models

__all__ = ["auth_models"]
