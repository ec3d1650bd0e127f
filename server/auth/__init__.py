"""Users, teams, devices and sessions: who is calling, from which tablet, and what their role allows.

This area never touches case data.
"""

from server.auth.models import Device, LoginFailure, Organisation, Role, Session, Team, User
from server.auth.schemas import Principal

__all__ = [
    "Device",
    "LoginFailure",
    "Organisation",
    "Principal",
    "Role",
    "Session",
    "Team",
    "User",
]
