"""The app shell at ``/``: the page the tablet loads, with its scripts served from ``/static``."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

__all__ = ["app_shell"]


@get("/", opt={"exclude_from_auth": True}, include_in_schema=False)
async def app_shell() -> Template:
    """Render the shell; everything after this is done by the page's own scripts against ``/api``."""
    return Template(template_name="index.html", context={})
