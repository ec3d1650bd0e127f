"""The append-only, hash-chained audit log: every read or change of case data, denials included."""

from server.audit.log import (
    AuditKey,
    ChainReport,
    Entry,
    append,
    append_many,
    append_per_case,
    entry_hash,
    verify_chain,
)
from server.audit.models import AuditEntry, AuditHead

__all__ = [
    "AuditEntry",
    "AuditHead",
    "AuditKey",
    "ChainReport",
    "Entry",
    "append",
    "append_many",
    "append_per_case",
    "entry_hash",
    "verify_chain",
]
