"""Login, sessions, devices and accounts: the auth area's database work.

Controllers and the CLI call these functions; they own their transactions. Every state that matters
(sessions, throttling counters, device revocation) is in the database, so any number of server processes can
answer the same tablet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid

import msgspec
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.auth.models import Device, LoginFailure, Organisation, Role, Session, Team, User
from server.auth.passwords import hash_password, needs_rehash, verify_password
from server.auth.schemas import LoginRequest, Principal, TeamMember
from server.auth.tokens import csrf_matches, csrf_token_for, hash_token, new_token
from server.db import begin_write, read_one, utcnow
from server.problems import DeviceRevoked, Forbidden, RateLimited, Unauthenticated
from server.settings import Settings

__all__ = [
    "LoginResult",
    "authenticate",
    "create_team",
    "login",
    "logout",
    "team_members",
    "teams",
]

WRONG_CREDENTIALS = "Wrong username or password."
# A session's last_seen_at is written at most this often, so that reads do not turn into writes.
TOUCH_INTERVAL = dt.timedelta(seconds=60)


class LoginResult(msgspec.Struct, kw_only=True, frozen=True):
    """A new session: the principal, the token for the cookie, and for a bound session the key its requests carry."""

    principal: Principal
    token: str
    expires_at: dt.datetime
    request_key: str | None = None


def _failure_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


async def _count_failures(
    db: AsyncSession, key: str, since: dt.datetime, *, settled_only: bool
) -> tuple[int, dt.datetime | None]:
    query = select(func.count(), func.min(LoginFailure.at)).where(LoginFailure.key == key, LoginFailure.at > since)
    if settled_only:
        query = query.where(LoginFailure.pending.is_(False))
    row = (await db.execute(query)).one()
    return int(row[0]), row[1]


async def _settle(sessions: async_sessionmaker[AsyncSession], attempt_ids: list[int]) -> None:
    """Record the attempt as a failure for good (from now on it counts against the address too)."""
    async with sessions() as db:
        await begin_write(db)
        await db.execute(update(LoginFailure).where(LoginFailure.id.in_(attempt_ids)).values(pending=False))
        await db.commit()


async def login(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, request: LoginRequest, address: str
) -> LoginResult:
    """Check credentials and open a session on a registered device.

    Throttling is counted per account and per client address. Each attempt is written as a failure *before*
    the password is checked and removed again on success; counting after one's own committed write means
    that parallel attempts cannot slip past the limit together. An unknown user and a wrong password take the
    same path and the same time, and get the same answer.
    """
    username = request.username.strip().lower()
    account_key = _failure_key("account", username)
    address_key = _failure_key("address", address)
    now = utcnow()
    window = dt.timedelta(minutes=settings.login_window_minutes)

    async with sessions() as db:
        await begin_write(db)
        attempt = [
            LoginFailure(key=account_key, at=now, pending=True),
            LoginFailure(key=address_key, at=now, pending=True),
        ]
        db.add_all(attempt)
        await db.commit()
        attempt_ids = [row.id for row in attempt]

    async with sessions() as db:
        for key, limit, settled_only in (
            (account_key, settings.login_max_failures_per_account, False),
            (address_key, settings.login_max_failures_per_address, True),
        ):
            count, oldest = await _count_failures(db, key, now - window, settled_only=settled_only)
            if count > limit - (1 if settled_only else 0):
                retry = int(((oldest or now) + window - now).total_seconds()) + 1
                await _settle(sessions, attempt_ids)
                raise RateLimited("Too many failed logins. Try again later.", retry_after=max(retry, 1))
        user = (await db.execute(select(User).where(User.username == username))).scalar_one_or_none()

    ok = await verify_password(user.password_hash if user else None, request.password)
    if user is None or not ok or user.disabled_at is not None:
        await _settle(sessions, attempt_ids)
        raise Unauthenticated(WRONG_CREDENTIALS)

    async with sessions() as db:
        await begin_write(db)
        await db.execute(
            delete(LoginFailure).where((LoginFailure.key == account_key) | LoginFailure.id.in_(attempt_ids))
        )
        if needs_rehash(user.password_hash):
            # Parameters were raised since this hash was made: upgrade it while the password is at hand.
            await db.execute(
                update(User).where(User.id == user.id).values(password_hash=await hash_password(request.password))
            )
        device = await _device_for_login(db, user, request)
        token = new_token()
        request_key = new_token() if request.bound else None
        expires_at = now + dt.timedelta(hours=settings.session_max_hours)
        record = Session(
            token_hash=hash_token(token),
            user_id=user.id,
            device_id=device.id,
            expires_at=expires_at,
            request_key_hash=hash_token(request_key) if request_key else None,
        )
        db.add(record)
        device.last_seen_at = now
        organisation = (
            await db.scalar(select(Team.organisation_id).where(Team.id == user.team_id)) if user.team_id else None
        )
        await db.commit()
        principal = _principal(user, organisation, device.id, record.id, token)
        return LoginResult(principal=principal, token=token, expires_at=expires_at, request_key=request_key)


async def _device_for_login(db: AsyncSession, user: User, request: LoginRequest) -> Device:
    """The device this login binds to: the one named if it is the user's, otherwise a newly registered one.

    A revoked device is told so (and wipes itself). A device id that belongs to another user is not
    reused: the tablet gets a new id, which the client must adopt from the login answer.
    """
    if request.device_id is not None:
        device = await db.get(Device, request.device_id)
        if device is not None and device.revoked_at is not None:
            raise DeviceRevoked("This device was revoked. Its local data must be wiped.")
        if device is not None and device.user_id == user.id:
            device.name = request.device_name
            return device
        if device is None:
            device = Device(id=request.device_id, user_id=user.id, name=request.device_name)
            db.add(device)
            return device
    device = Device(user_id=user.id, name=request.device_name)
    db.add(device)
    await db.flush()
    return device


def _principal(
    user: User, organisation: uuid.UUID | None, device_id: uuid.UUID, session_id: uuid.UUID, token: str
) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        team_id=user.team_id,
        device_id=device_id,
        session_id=session_id,
        csrf_token=csrf_token_for(token),
        organisation_id=organisation,
        scope_generation=user.scope_generation,
    )


# The session check of every request, built once: who the cookie's session belongs to, on which device.
_SESSION_OF_TOKEN = (
    select(
        Session.id.label("session_id"),
        Session.last_seen_at,
        Session.expires_at,
        Session.ended_at,
        Session.request_key_hash,
        User.id.label("user_id"),
        User.username,
        User.display_name,
        User.role,
        User.team_id,
        User.disabled_at,
        User.scope_generation,
        Team.organisation_id,
        Device.id.label("device_id"),
        Device.revoked_at,
    )
    .join(User, User.id == Session.user_id)
    .join(Device, Device.id == Session.device_id)
    .outerjoin(Team, Team.id == User.team_id)
    .where(Session.token_hash == bindparam("token_hash"))
)


async def authenticate(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    token: str | None,
    *,
    state_changing: bool,
    csrf_header: str | None,
    key_header: str | None = None,
    needs_key: bool = True,
) -> Principal:
    """Resolve the session cookie to a :class:`Principal`, or raise the problem the client must see.

    A revoked device is reported as such even when its session has ended, so that a lost tablet wipes
    itself on its next contact whatever state its cookie is in. A session bound to its device also needs the
    device's key (``key_header``) where ``needs_key`` (every API request): a cookie copied out of the browser
    profile is not enough (docs/security.md case 58). This runs on every request, so it is one statement on a
    pooled connection.
    """
    if not token:
        raise Unauthenticated("Log in first.")
    now = utcnow()
    row = await read_one(engine, _SESSION_OF_TOKEN, {"token_hash": hash_token(token)})
    if row is None:
        raise Unauthenticated("The session is not valid. Log in again.")
    if row.revoked_at is not None:
        raise DeviceRevoked("This device was revoked. Its local data must be wiped.")
    if row.ended_at is not None or row.disabled_at is not None:
        raise Unauthenticated("The session has ended. Log in again.")
    idle_limit = row.last_seen_at + dt.timedelta(minutes=settings.session_idle_minutes)
    if now >= row.expires_at or now >= idle_limit:
        raise Unauthenticated("The session has expired. Log in again.")
    if needs_key and row.request_key_hash is not None and not _key_matches(row.request_key_hash, key_header):
        raise Unauthenticated("This session belongs to a device whose key the request does not carry. Log in again.")
    if state_changing and not csrf_matches(token, csrf_header):
        raise Forbidden("Missing or wrong X-CSRF-Token header.")
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        async with sessions() as db:
            await begin_write(db)
            await db.execute(update(Session).where(Session.id == row.session_id).values(last_seen_at=now))
            await db.execute(update(Device).where(Device.id == row.device_id).values(last_seen_at=now))
            await db.commit()
    return Principal(
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        team_id=row.team_id,
        device_id=row.device_id,
        session_id=row.session_id,
        csrf_token=csrf_token_for(token),
        organisation_id=row.organisation_id,
        scope_generation=row.scope_generation,
    )


def _key_matches(stored_hash: str, presented: str | None) -> bool:
    """Constant-time check of a presented ``X-Doorstep-Key`` against the hash the session keeps."""
    return bool(presented) and hmac.compare_digest(stored_hash, hash_token(presented or ""))


async def logout(sessions: async_sessionmaker[AsyncSession], principal: Principal) -> None:
    """End the caller's session; its token is worthless from now on."""
    async with sessions() as db:
        await begin_write(db)
        await db.execute(
            update(Session)
            .where(Session.id == principal.session_id, Session.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        await db.commit()


async def team_members(sessions: async_sessionmaker[AsyncSession], principal: Principal) -> list[TeamMember]:
    """The members of the caller's team, former ones included, so that a colleague is always shown by name.

    A supervisor also gets the usernames (for assigning and administration); a worker names and roles only.
    """
    if principal.team_id is None or principal.role not in (Role.SUPERVISOR, Role.WORKER):
        raise Forbidden("Only the members of a team can list its members.")
    async with sessions() as db:
        users = (
            await db.scalars(select(User).where(User.team_id == principal.team_id).order_by(User.display_name))
        ).all()
    return [
        TeamMember(
            id=u.id,
            display_name=u.display_name,
            role=u.role,
            active=u.disabled_at is None,
            username=u.username if principal.is_supervisor else None,
        )
        for u in users
    ]


# --- administration (CLI and admin API) -------------------------------------------------------------------


async def _organisation(db: AsyncSession) -> Organisation:
    """The (single) organisation, created on first use."""
    org = (await db.scalars(select(Organisation).order_by(Organisation.created_at).limit(1))).first()
    if org is None:
        org = Organisation(name="Doorstep")
        db.add(org)
        await db.flush()
    return org


async def set_region(sessions: async_sessionmaker[AsyncSession], country: str, subdivision: str | None) -> None:
    """Record where the organisation works (its legal deadlines and public holidays follow from it)."""
    async with sessions() as db:
        await begin_write(db)
        org = await _organisation(db)
        org.country, org.subdivision = country, subdivision
        await db.commit()


async def teams(sessions: async_sessionmaker[AsyncSession]) -> list[Team]:
    """Every team, by name."""
    async with sessions() as db:
        return list((await db.scalars(select(Team).order_by(Team.name))).all())


async def create_team(sessions: async_sessionmaker[AsyncSession], name: str) -> Team:
    """Create a team in the (single) organisation, creating the organisation on first use."""
    async with sessions() as db:
        await begin_write(db)
        org = await _organisation(db)
        team = Team(organisation_id=org.id, name=name)
        db.add(team)
        await db.commit()
        return team
