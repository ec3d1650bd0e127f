"""The append-only, hash-chained audit log: every read or change of case data, denials included."""

from server.audit.log import (
    AuditKey,
    ChainReport,
    Entry,
    append,
    append_many,
    append_per_case,
    chain_of,
    chains,
    entry_hash,
    per_case,
    verify_all,
    verify_chain,
)
from server.audit.models import INSTALLATION, AuditEntry, AuditHead

__all__ = [
    "INSTALLATION",
    "AuditEntry",
    "AuditHead",
    "AuditKey",
    "ChainReport",
    "Entry",
    "append",
    "append_many",
    "append_per_case",
    "chain_of",
    "chains",
    "entry_hash",
    "per_case",
    "verify_all",
    "verify_chain",
]
