"""Doorstep: an offline-first case-work server for social management teams that prevent evictions."""

__all__: list[str] = []
