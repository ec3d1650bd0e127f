"""Pages and HTTP plumbing: the app shell, static files, health and response hardening."""

from server.web.hardening import security_headers
from server.web.health import Readiness, health, ready
from server.web.metrics import Scrape, metrics
from server.web.pwa import manifest, service_worker
from server.web.shell import app_shell

__all__ = [
    "Readiness",
    "Scrape",
    "app_shell",
    "health",
    "manifest",
    "metrics",
    "ready",
    "security_headers",
    "service_worker",
]
