"""Case records: the schema of every kind, the encrypted store, the key hierarchy and the scope rules.

This area knows nothing of sync, push, reports or the web layer; they build on it.
"""

from server.records.keyring import CaseShredded, Keyring, KeyringError
from server.records.models import CaseKey, KeyCheck, Record, ShreddedCase, SyncClock
from server.records.schemas import KINDS, SCHEMA_VERSION
from server.records.scope import in_scope, scope_case_ids
from server.records.store import RecordStore, StoredRecord
from server.records.validation import ValidationIssue, validate_fields

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "CaseKey",
    "CaseShredded",
    "KeyCheck",
    "Keyring",
    "KeyringError",
    "Record",
    "RecordStore",
    "ShreddedCase",
    "StoredRecord",
    "SyncClock",
    "ValidationIssue",
    "in_scope",
    "scope_case_ids",
    "validate_fields",
]
