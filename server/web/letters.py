"""The printable letters' templates: ``GET /letters.json``, part of the offline shell.

The templates are HTML fragments with named placeholders (``{{tenant_name}}``) in ``pwa/templates/letters/``; the
tablet fills them from the case, offline, and prints them with the browser (docs/domain.md "Letters"). An
organisation overrides any of them, the letterhead first, with a file of the same name in ``<data dir>/letters/``.
The answer holds no case data, so it is served without a session and cached by the service worker; its digest
is part of the shell's version, so a changed override reaches every tablet with the next update.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from server.resources import PWA_DIR

__all__ = ["LETTER_NAMES", "Letters", "letters_json"]

DEFAULTS_DIR = PWA_DIR / "templates" / "letters"
# Every letter of every country, in the order they are offered; the country profile (pwa/static/data/countries.json)
# names which of them an organisation's teams see.
LETTER_NAMES = (
    "consent",
    "rent_debt_takeover",
    "rent_debt_takeover_sgb12",
    "installment",
    "continuation",
    "hold_eviction",
    "energy_supplier",
    "objection",
    "consent_at",
    "installment_at",
    "wohnschirm",
    "eviction_stay",
    "objections_support",
    "help_offer",
    "help_offer_at",
)
_TITLE = re.compile(r"^<!--\s*title:\s*(.+?)\s*-->\s*", re.DOTALL)


class Letter(msgspec.Struct, frozen=True):
    """One template: its title (from its first line's comment) and its HTML."""

    name: str
    title: str
    html: str


class LetterSet(msgspec.Struct, frozen=True):
    """What the tablet keeps: the sender's name, the letterhead and the letters, in the order they are offered."""

    organisation: str
    letterhead: str
    letters: list[Letter]


class Letters:
    """Reads the templates, each from the organisation's directory when it has one of that name."""

    def __init__(self, data_dir: str | Path, organisation: Callable[[], Awaitable[str]]) -> None:
        self.override_dir = Path(data_dir) / "letters"
        # The sender's name, from the database (the plugin wires it: the web knows no accounts).
        self.organisation = organisation

    def _read(self, name: str) -> str:
        override = self.override_dir / f"{name}.html"
        return (override if override.is_file() else DEFAULTS_DIR / f"{name}.html").read_text(encoding="utf-8")

    async def load(self) -> LetterSet:
        organisation = await self.organisation()
        letters = []
        for name in LETTER_NAMES:
            text = self._read(name)
            match = _TITLE.match(text)
            letters.append(
                Letter(name=name, title=match.group(1) if match else name, html=text[match.end() if match else 0 :])
            )
        return LetterSet(organisation=organisation or "", letterhead=self._read("letterhead"), letters=letters)

    async def digest(self) -> str:
        """Changes whenever a template, an override or the organisation's name changes."""
        return hashlib.sha256(msgspec.json.encode(await self.load())).hexdigest()[:16]


@get("/letters.json", opt={"exclude_from_auth": True}, include_in_schema=False)
async def letters_json(letters: NamedDependency[Letters]) -> Response[LetterSet]:
    """The letter templates with the organisation's overrides; revalidated on every fetch."""
    return Response(await letters.load(), headers={"Cache-Control": "no-cache"})
