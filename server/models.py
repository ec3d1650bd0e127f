"""Imports every area's tables so that the metadata is complete (for Alembic and for tests)."""

from server.audit import models as audit_models
from server.auth import models as auth_models
from server.intake import models as intake_models
from server.push import models as push_models
from server.records import models as record_models
from server.sync import models as sync_models

__all__ = ["audit_models", "auth_models", "intake_models", "push_models", "record_models", "sync_models"]
