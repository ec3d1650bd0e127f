"""Logging set-up. Every logged value has carriage returns and line feeds escaped, so a crafted input
cannot forge log lines, and the access log names paths without their query strings, which may hold what a person
typed (docs/security.md case 55)."""

from __future__ import annotations

import logging

__all__ = ["EscapingFilter", "WithoutQueryStrings", "configure_logging"]


def _escape(value: object) -> object:
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")
    return value


class EscapingFilter(logging.Filter):
    """Escapes CR and LF in a record's message arguments (and in the message itself when it has none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_escape(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _escape(v) for k, v in record.args.items()}
        if isinstance(record.msg, str) and not record.args:
            record.msg = str(_escape(record.msg))
        return True


class WithoutQueryStrings(logging.Filter):
    """Cuts the query string off every path uvicorn's access log names: ``GET /api/cases`` is logged, whatever
    followed the ``?``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            record.args = tuple(
                a.split("?", 1)[0] if isinstance(a, str) and a.startswith("/") else a for a in record.args
            )
        return True


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr, one escaped line per event, paths without their query strings."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(WithoutQueryStrings())
    handler.addFilter(EscapingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
