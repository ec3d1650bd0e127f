"""The append-only, hash-chained audit log: every read or change of case data, denials included."""

from server.audit.log import ChainReport, append, verify_chain
from server.audit.models import AuditEntry, AuditHead

__all__ = ["AuditEntry", "AuditHead", "ChainReport", "append", "verify_chain"]
