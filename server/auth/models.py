"""Tables of the auth area: organisations, teams, users, devices, sessions and login failures."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Enum, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, utcnow

__all__ = ["Device", "LoginFailure", "Organisation", "Role", "Session", "Team", "User"]


def _enum_values(enum_type: type[enum.Enum]) -> list[str]:
    # Store the lower-case values ("worker"), not the Python member names.
    return [str(member.value) for member in enum_type]


class Role(enum.StrEnum):
    """What a user may do. A supervisor steers one team; a manager (Leitung) reads the figures of every team of the
    organisation and no case; an administrator manages accounts and devices; a referrer (property management,
    receivables) hands households over to a team and follows their course, and reads nothing else."""

    WORKER = "worker"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"
    REFERRER = "referrer"


class Organisation(Base):
    """The housing company or city department that runs the teams."""

    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Where the organisation works: its legal deadlines follow this country's law and (in Germany) this Land's
    # public holidays. ISO 3166-1 alpha-2 ("DE", "AT") and the Land's code ("BE", "BY"), or none for a whole
    # country's common holidays.
    country: Mapped[str] = mapped_column(String(2), default="DE", server_default="DE")
    subdivision: Mapped[str | None] = mapped_column(String(10), default=None)


class Team(Base):
    """A social management team ("Team Nord"); the unit of a supervisor's scope."""

    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who logs in. Usernames are stored lower-case and compared that way."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, validate_strings=True, values_callable=_enum_values)
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Grows with every change of role or team (server/auth/accounts.py): older sync cursors are expired then.
    scope_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class Device(Base):
    """A registered tablet or browser. Sessions are bound to a device; revoking it wipes it on next contact.

    ``last_mid`` is the highest sync mutation id processed for this device (docs/sync-protocol.md, push).
    """

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_mid: Mapped[int] = mapped_column(default=0)


class Session(Base):
    """A login on one device. Only the SHA-256 of the token is stored; the cookie holds the token."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # A session bound to its device (the tablet app's): the SHA-256 of the key every API request must carry in
    # ``X-Doorstep-Key``, which the app keeps sealed under its device key. None: the cookie is enough.
    request_key_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class LoginFailure(Base):
    """One failed login, counted per account and per client address within the throttling window.

    ``key`` is a SHA-256 of ``"account:<username>"`` or ``"address:<ip>"``, so neither names nor addresses of
    failed attempts are kept in clear.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # An attempt still being checked. It counts against its account at once (so parallel guesses cannot slip
    # past the limit), but against its address only once it failed (so an office's tablets may log in together).
    pending: Mapped[bool] = mapped_column(default=False, server_default=false())
