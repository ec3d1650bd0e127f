"""Pages and HTTP plumbing: the app shell, static files, health and response hardening."""

from server.web.hardening import security_headers
from server.web.health import health
from server.web.pwa import manifest, service_worker
from server.web.shell import app_shell

__all__ = ["app_shell", "health", "manifest", "security_headers", "service_worker"]
