"""Users, teams, devices and sessions: who is calling, from which tablet, and what their role allows.

This area never touches case data.
"""

from server.auth.controller import AuthController
from server.auth.middleware import SESSION_COOKIE, SessionAuthMiddleware
from server.auth.models import Device, LoginFailure, Organisation, Role, Session, Team, User
from server.auth.schemas import Principal

__all__ = [
    "SESSION_COOKIE",
    "AuthController",
    "Device",
    "LoginFailure",
    "Organisation",
    "Principal",
    "Role",
    "Session",
    "SessionAuthMiddleware",
    "Team",
    "User",
]
