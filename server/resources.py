"""Where the files that ship beside the code are: the PWA (``pwa/``) and the migration scripts (``migrations/``).

In a checkout (and an editable install) they sit at the project root, next to ``server/``. An installed wheel
carries them inside the package as ``server/pwa`` and ``server/migrations`` (see ``pyproject.toml``). This module
is the one place that knows both layouts; everything else imports :data:`PWA_DIR` and :data:`MIGRATIONS_DIR`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MIGRATIONS_DIR", "PWA_DIR"]

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"The {name}/ directory is missing from this installation of Doorstep.")


PWA_DIR = _shipped("pwa")
MIGRATIONS_DIR = _shipped("migrations")
