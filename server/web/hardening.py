"""HTTP hardening applied to every response: CSP, nosniff, no referrer, HSTS over https, ``no-store`` on the API."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

__all__ = ["CONTENT_SECURITY_POLICY", "security_headers"]

# No inline script or style anywhere; everything comes from our own origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # blob: the tablet shows attachments it decrypted itself (images inline, PDFs in the browser's viewer).
        "img-src 'self' data: blob:",
        "frame-src blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

_STATIC_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


async def security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: add the hardening headers to the start of every HTTP response."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in _STATIC_HEADERS.items():
        headers[name] = value
    if scope.get("scheme") == "https":
        # Served over TLS: browsers keep to https for this host from now on (docs/security.md case 29).
        headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"
    path = str(scope.get("path", ""))
    if path.startswith("/api/") or path in ("/health", "/ready"):
        headers["cache-control"] = "no-store"
        headers["pragma"] = "no-cache"
