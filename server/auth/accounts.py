"""The administrator's work on accounts and devices (docs/operations.md "Accounts"), for the CLI and the
administration page alike, every change written to the audit log's installation chain.

- create, disable, enable, reset a password, change role, team or display name, and import a list of users;
- a username held by a disabled account may be given to someone new: the old account is renamed
  (``name.disabled-1a2b3c``) and keeps its history under its own id;
- a change of role or team ends the user's sessions and expires their devices' sync cursors (the scope generation
  grows): a device then sends what it has not sent and loads what the new role sees;
- an import is checked whole before anything is written, and is written in one transaction: a wrong line changes
  nothing. Run again, the same file changes nothing either: users already as listed are left alone, new ones get
  a one-time password that is shown once.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import uuid
from collections.abc import Sequence

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.audit import AuditKey
from server.auth.models import Device, Role, Session, Team, User
from server.auth.passwords import hash_password
from server.db import begin_write, utcnow
from server.problems import Conflict, NotFound, RowProblem, RowsInvalid, ValidationFailed

__all__ = [
    "Change",
    "ImportReport",
    "ImportRow",
    "change_user",
    "create_user",
    "disable_user",
    "enable_user",
    "import_users",
    "list_devices",
    "list_users",
    "read_user_list",
    "reset_password",
    "revoke_device",
    "username_of",
]

Sessions = async_sessionmaker[AsyncSession]
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
NAME_RULE = "2 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit"
MIN_PASSWORD = 8
# One-time passwords of an import: no 0/O or 1/l/I to misread on a printed list.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Change(msgspec.Struct, kw_only=True, frozen=True):
    """What to change of an account; None leaves it as it is."""

    role: Role | None = None
    team_id: uuid.UUID | None = None
    display_name: str | None = None


class ImportRow(msgspec.Struct, kw_only=True, frozen=True):
    """One line of a user list: ``username,display_name,role,team`` (team by name; empty for an administrator)."""

    line: int
    username: str
    display_name: str
    role: str
    team: str


class ImportReport(msgspec.Struct, kw_only=True, frozen=True):
    """What an import did: the accounts created (with their one-time passwords), changed, left as they were."""

    created: dict[str, str]
    changed: list[str]
    unchanged: list[str]


def _name(username: str) -> str:
    return username.strip().lower()


def _check_username(username: str) -> str:
    name = _name(username)
    if not USERNAME.match(name):
        raise Conflict(
            "A username is 2 to 64 letters, digits, dots, dashes or underscores, starting with one of the first two."
        )
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Conflict(f"The password needs at least {MIN_PASSWORD} characters.")


def _check_team(role: Role, team_id: uuid.UUID | None) -> None:
    if role is not Role.ADMIN and team_id is None:
        raise Conflict("Workers, supervisors, managers and referrers need a team.")


async def _user(db: AsyncSession, username: str) -> User:
    user = (await db.execute(select(User).where(User.username == _name(username)))).scalar_one_or_none()
    if user is None:
        raise NotFound("No such user.")
    return user


async def _end_sessions(db: AsyncSession, user_id: uuid.UUID) -> int:
    result = await db.execute(
        update(Session).where(Session.user_id == user_id, Session.ended_at.is_(None)).values(ended_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _log(
    db: AsyncSession, action: str, actor_id: uuid.UUID | None, key: AuditKey | None, *ids: uuid.UUID
) -> None:
    await audit.append(db, action=action, outcome="ok", actor_id=actor_id, record_ids=ids, organisation=None, key=key)


async def _free_name(db: AsyncSession, name: str) -> str | None:
    """Rename a disabled account that holds ``name``; returns its new name (None if the name was free)."""
    holder = (await db.execute(select(User).where(User.username == name))).scalar_one_or_none()
    if holder is None:
        return None
    if holder.disabled_at is None:
        raise Conflict("That username is taken.")
    holder.username = f"{name[:47]}.disabled-{holder.id.hex[:6]}"
    await db.flush()
    return holder.username


async def create_user(
    sessions: Sessions,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    team_id: uuid.UUID | None,
    actor_id: uuid.UUID | None = None,
    key: AuditKey | None = None,
) -> tuple[User, str | None]:
    """Create an account; returns it and, if a disabled account held the name, that account's new name."""
    name = _check_username(username)
    _check_team(role, team_id)
    _check_password(password)
    password_hash = await hash_password(password)
    async with sessions() as db:
        await begin_write(db)
        if team_id is not None and await db.get(Team, team_id) is None:
            raise NotFound("No such team.")
        renamed = await _free_name(db, name)
        user = User(username=name, display_name=display_name.strip() or name, role=role, team_id=team_id)
        user.password_hash = password_hash
        db.add(user)
        await db.flush()
        await _log(db, "user.create", actor_id, key, user.id)
        await db.commit()
        return user, renamed


async def disable_user(
    sessions: Sessions, username: str, *, actor_id: uuid.UUID | None = None, key: AuditKey | None = None
) -> int:
    """Disable an account and end all of its sessions; returns how many sessions were ended."""
    async with sessions() as db:
        await begin_write(db)
        user = await _user(db, username)
        if actor_id == user.id:
            raise Conflict("You cannot disable your own account.")
        user.disabled_at = user.disabled_at or utcnow()
        ended = await _end_sessions(db, user.id)
        await _log(db, "user.disable", actor_id, key, user.id)
        await db.commit()
        return ended


async def enable_user(
    sessions: Sessions, username: str, *, actor_id: uuid.UUID | None = None, key: AuditKey | None = None
) -> User:
    """Let a disabled account log in again (with its old password, or after a reset)."""
    async with sessions() as db:
        await begin_write(db)
        user = await _user(db, username)
        user.disabled_at = None
        await _log(db, "user.enable", actor_id, key, user.id)
        await db.commit()
        return user


async def reset_password(
    sessions: Sessions,
    username: str,
    password: str,
    *,
    actor_id: uuid.UUID | None = None,
    key: AuditKey | None = None,
) -> int:
    """Set a new password and end every session of the account; returns how many were ended."""
    _check_password(password)
    password_hash = await hash_password(password)
    async with sessions() as db:
        await begin_write(db)
        user = await _user(db, username)
        user.password_hash = password_hash
        ended = await _end_sessions(db, user.id)
        await _log(db, "user.password_reset", actor_id, key, user.id)
        await db.commit()
        return ended


async def change_user(
    sessions: Sessions,
    username: str,
    change: Change,
    *,
    actor_id: uuid.UUID | None = None,
    key: AuditKey | None = None,
) -> User:
    """Change role, team or display name. A new role or team ends the sessions and expires the sync cursors."""
    async with sessions() as db:
        await begin_write(db)
        user = await _user(db, username)
        await _apply(db, user, change, actor_id)
        await _log(db, "user.change", actor_id, key, user.id)
        await db.commit()
        return user


async def _apply(db: AsyncSession, user: User, change: Change, actor_id: uuid.UUID | None) -> bool:
    """Apply ``change`` to ``user`` in ``db``; returns whether anything changed."""
    role = change.role or user.role
    team_id = user.team_id if change.team_id is None else change.team_id
    if role is Role.ADMIN and change.team_id is None:
        team_id = user.team_id  # an administrator may keep a team, and needs none
    _check_team(role, team_id)
    if team_id is not None and team_id != user.team_id and await db.get(Team, team_id) is None:
        raise NotFound("No such team.")
    if actor_id == user.id and role is not user.role:
        raise Conflict("You cannot change your own role.")
    scope_changed = role is not user.role or team_id != user.team_id
    named = change.display_name.strip() if change.display_name else user.display_name
    if not scope_changed and named == user.display_name:
        return False
    user.display_name = named
    if scope_changed:
        user.role, user.team_id = role, team_id
        user.scope_generation += 1
        await _end_sessions(db, user.id)
    return True


async def username_of(sessions: Sessions, user_id: uuid.UUID) -> str:
    """The username of the account ``user_id``."""
    async with sessions() as db:
        user = await db.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user.username


async def list_users(sessions: Sessions) -> Sequence[tuple[User, Team | None]]:
    """Every account with its team, by username."""
    async with sessions() as db:
        query = select(User, Team).outerjoin(Team, Team.id == User.team_id).order_by(User.username)
        return [(user, team) for user, team in (await db.execute(query)).all()]


async def list_devices(
    sessions: Sessions, username: str | None = None, device_id: uuid.UUID | None = None
) -> Sequence[tuple[Device, User]]:
    """Registered devices with their owners, newest contact first; optionally of one user or one device."""
    async with sessions() as db:
        query = select(Device, User).join(User, User.id == Device.user_id).order_by(Device.last_seen_at.desc())
        if username:
            query = query.where(User.username == _name(username))
        if device_id:
            query = query.where(Device.id == device_id)
        return [(device, user) for device, user in (await db.execute(query)).all()]


async def revoke_device(
    sessions: Sessions, device_id: uuid.UUID, *, actor_id: uuid.UUID | None = None, key: AuditKey | None = None
) -> Device:
    """Revoke a lost tablet: its next request gets ``401 device-revoked`` and wipes its local data."""
    async with sessions() as db:
        await begin_write(db)
        device = await db.get(Device, device_id)
        if device is None:
            raise NotFound("No such device.")
        device.revoked_at = device.revoked_at or utcnow()
        await audit.append(
            db,
            action="device.revoke",
            outcome="ok",
            actor_id=actor_id,
            device_id=device.id,
            record_ids=[device.user_id],
            organisation=None,
            key=key,
        )
        await db.commit()
        return device


async def import_users(
    sessions: Sessions, rows: list[ImportRow], *, actor_id: uuid.UUID | None = None, key: AuditKey | None = None
) -> ImportReport:
    """Create or bring up to date every listed account, all or nothing (see the module's notes)."""
    problems: list[RowProblem] = []
    async with sessions() as db:
        await begin_write(db)
        teams = {team.name.strip().lower(): team.id for team in (await db.scalars(select(Team))).all()}
        existing = {user.username: user for user in (await db.scalars(select(User))).all()}
        seen: set[str] = set()
        plans: list[tuple[ImportRow, str, Role, uuid.UUID | None]] = []
        for row in rows:
            found = _check_row(row, teams, seen)
            if isinstance(found, RowProblem):
                problems.append(found)
            else:
                plans.append((row, *found))
        if problems:
            raise RowsInvalid("The list has wrong lines; nothing was imported.", rows=problems)
        created: dict[str, str] = {}
        changed, unchanged = [], []
        for row, name, role, team_id in plans:
            user = existing.get(name)
            if user is not None and user.disabled_at is None:
                change = Change(role=role, team_id=team_id, display_name=row.display_name)
                if await _apply(db, user, change, actor_id):
                    changed.append(name)
                    await _log(db, "user.change", actor_id, key, user.id)
                else:
                    unchanged.append(name)
                continue
            if user is not None:  # a disabled account holds the name: it is someone new's now
                await _free_name(db, name)
            password = "".join(secrets.choice(_ALPHABET) for _ in range(14))
            fresh = User(username=name, display_name=row.display_name.strip() or name, role=role, team_id=team_id)
            fresh.password_hash = await hash_password(password)
            db.add(fresh)
            await db.flush()
            await _log(db, "user.create", actor_id, key, fresh.id)
            created[name] = password
        await db.commit()
    return ImportReport(created=created, changed=changed, unchanged=unchanged)


def _check_row(
    row: ImportRow, teams: dict[str, uuid.UUID], seen: set[str]
) -> RowProblem | tuple[str, Role, uuid.UUID | None]:
    name = _name(row.username)
    if not USERNAME.match(name):
        return RowProblem(
            line=row.line, field="username", detail="2 to 64 letters, digits, dots, dashes or underscores"
        )
    if name in seen:
        return RowProblem(line=row.line, field="username", detail="listed twice")
    seen.add(name)
    try:
        role = Role(row.role.strip().lower())
    except ValueError:
        return RowProblem(line=row.line, field="role", detail=f"one of {', '.join(r.value for r in Role)}")
    team_id = teams.get(row.team.strip().lower()) if row.team.strip() else None
    if row.team.strip() and team_id is None:
        return RowProblem(line=row.line, field="team", detail="no team of that name (create it first)")
    if role is not Role.ADMIN and team_id is None:
        return RowProblem(line=row.line, field="team", detail="workers, supervisors, managers and referrers need one")
    if not row.display_name.strip():
        return RowProblem(line=row.line, field="display_name", detail="empty")
    return name, role, team_id


def read_user_list(text: str) -> list[ImportRow]:
    """The lines of a user list (CSV with the header ``username,display_name,role,team``; ``;`` works too)."""
    dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=dialect)
    wanted = {"username", "display_name", "role", "team"}
    if not reader.fieldnames or not wanted <= {name.strip() for name in reader.fieldnames}:
        raise ValidationFailed("The first line must name the columns username,display_name,role,team.")
    return [
        ImportRow(
            line=number,
            username=(row.get("username") or "").strip(),
            display_name=(row.get("display_name") or "").strip(),
            role=(row.get("role") or "").strip(),
            team=(row.get("team") or "").strip(),
        )
        for number, row in enumerate(reader, start=2)
        if any((value or "").strip() for value in row.values())
    ]
