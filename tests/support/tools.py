"""Programs from Debian that some checks run (nginx, caddy, promtool, psql): installed by scripts/system-deps.sh
under CI=true, where a missing one fails the test; elsewhere it is skipped with the package to install."""

from __future__ import annotations

import os
import shutil
from glob import glob

import pytest

__all__ = ["needs_root", "system_tool"]


def system_tool(name: str, package: str) -> str:
    """The path of ``name`` (on the PATH, or in Debian's versioned PostgreSQL directory)."""
    found = shutil.which(name) or next(iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required under CI=true (apt-get install {package})")
        pytest.skip(f"{name} is not installed (apt-get install {package})")
    return found


def needs_root(why: str) -> None:
    """Skip a test that must act as root (CI runs as root, so there a missing root is a failure, not a skip)."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"runs as root under CI=true: {why}")
    pytest.skip(f"needs root: {why}")
