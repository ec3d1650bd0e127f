"""The accounts every API test can log in with, and logging in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.models import Role, User
from server.auth.service import create_team
from server.db import create_engine, session_factory

__all__ = ["PASSWORD", "Org", "add_user", "create_org", "login"]

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Org:
    """Team Nord (supervisor, worker1, worker2), Team Süd (supervisor2, worker3), and an admin."""

    team_id: uuid.UUID
    other_team_id: uuid.UUID
    organisation_id: uuid.UUID
    supervisor_id: uuid.UUID
    worker1_id: uuid.UUID
    worker2_id: uuid.UUID
    other_worker_id: uuid.UUID
    other_supervisor_id: uuid.UUID
    admin_id: uuid.UUID


async def _add(
    sessions: async_sessionmaker[AsyncSession], name: str, role: Role, team: uuid.UUID | None, password_hash: str
) -> uuid.UUID:
    async with sessions() as db:
        created = User(username=name, display_name=name.title(), role=role, team_id=team, password_hash=password_hash)
        db.add(created)
        await db.commit()
        return created.id


async def add_user(database_url: str, name: str, role: Role, team: uuid.UUID | None, password_hash: str) -> uuid.UUID:
    """One more account (a manager, say) with :data:`PASSWORD` already hashed as ``password_hash``."""
    engine = create_engine(database_url)
    try:
        return await _add(session_factory(engine), name, role, team, password_hash)
    finally:
        await engine.dispose()


async def create_org(database_url: str, password_hash: str) -> Org:
    """Create the :class:`Org` accounts, all with :data:`PASSWORD` (already hashed as ``password_hash``)."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        nord = await create_team(sessions, "Team Nord")
        sued = await create_team(sessions, "Team Süd")

        async def user(name: str, role: Role, team: uuid.UUID | None) -> uuid.UUID:
            return await _add(sessions, name, role, team, password_hash)

        return Org(
            team_id=nord.id,
            other_team_id=sued.id,
            organisation_id=nord.organisation_id,
            supervisor_id=await user("supervisor", Role.SUPERVISOR, nord.id),
            worker1_id=await user("worker1", Role.WORKER, nord.id),
            worker2_id=await user("worker2", Role.WORKER, nord.id),
            other_worker_id=await user("worker3", Role.WORKER, sued.id),
            other_supervisor_id=await user("supervisor2", Role.SUPERVISOR, sued.id),
            admin_id=await user("admin", Role.ADMIN, None),
        )
    finally:
        await engine.dispose()


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, device_id: str | None = None
) -> dict[str, object]:
    """Log in and set the client's default CSRF header; returns the login body."""
    response = await client.post(
        "/api/auth/login",
        json={
            "username": username,
            "password": password,
            "device_name": "Test-Tablet",
            "device_id": device_id,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    client.headers["X-CSRF-Token"] = str(body["csrf_token"])
    return body
