"""The installable app's plumbing: ``/manifest.webmanifest`` and ``/sw.js``.

The service worker is rendered from ``pwa/templates/sw.js`` with the list of static files and a version that is
a hash of their contents, computed once at start. Any change to a file therefore makes a new service worker with
a new cache name; the old cache is deleted when the new worker activates. There is no build step.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from server.resources import PWA_DIR
from server.web.letters import Letters

__all__ = ["PRECACHE_EXTRA", "asset_manifest", "manifest", "service_worker"]

STATIC_ROOT = PWA_DIR / "static"
# Templates whose output is cached too: a change to them must also make a new version.
SHELL_TEMPLATES = tuple(PWA_DIR / "templates" / n for n in ("index.html", "sw.js"))
# Pages that are not static files but belong to the offline shell.
PRECACHE_EXTRA = ("/",)


@cache
def asset_manifest(
    root: Path = STATIC_ROOT, templates: tuple[Path, ...] = SHELL_TEMPLATES
) -> tuple[str, tuple[str, ...]]:
    """The shell's version (a hash of every static file, its path, and the shell's templates) and the URLs to
    precache."""
    digest = hashlib.sha256()
    for template in templates:
        digest.update(template.read_bytes())
    urls = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes())
        urls.append(f"/static/{relative}")
    return digest.hexdigest()[:16], (*PRECACHE_EXTRA, *urls)


@get("/sw.js", opt={"exclude_from_auth": True}, include_in_schema=False)
async def service_worker(letters: NamedDependency[Letters]) -> Template:
    """The service worker, at the root so that its scope is the whole app; never cached by HTTP. The letters'
    templates (the organisation's own included) belong to the shell, so their digest is part of its version."""
    version, urls = asset_manifest()
    version = f"{version}-{(await letters.digest())[:8]}"
    return Template(
        template_name="sw.js",
        context={"version": version, "precache": json.dumps([*urls, "/letters.json"])},
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@get("/manifest.webmanifest", opt={"exclude_from_auth": True}, include_in_schema=False)
async def manifest() -> Response[dict[str, object]]:
    """The web app manifest: name, icons, tablet-friendly display."""
    return Response(
        {
            "name": "Doorstep – Sozialmanagement",
            "short_name": "Doorstep",
            "lang": "de",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "orientation": "any",
            "background_color": "#f3f5f7",
            "theme_color": "#14213d",
            "icons": [
                {"src": "/static/icons/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
                {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
                {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            ],
        },
        media_type="application/manifest+json",
    )
