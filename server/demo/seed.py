"""Seeding of the demo organisation, team and accounts."""

from __future__ import annotations

import random

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.models import Organisation, Role, Team, User
from server.auth.passwords import hash_password
from server.db import begin_write, utcnow
from server.demo.cases import DemoTeam, seed_cases
from server.demo.past import enquiries
from server.records import blind
from server.records.keyring import Keyring

__all__ = ["DEFAULT_DEMO_PASSWORD", "DEMO_USERS", "DemoLogin", "seed_demo"]

DEFAULT_DEMO_PASSWORD = "doorstep-demo"  # noqa: S105 - invented demo accounts, documented in the README


class DemoLogin(msgspec.Struct, frozen=True):
    """One demo account as printed at start."""

    username: str
    display_name: str
    role: Role


DEMO_USERS = (
    DemoLogin("supervisor", "Sabine Berger", Role.SUPERVISOR),
    DemoLogin("worker1", "Jonas Albrecht", Role.WORKER),
    DemoLogin("worker2", "Aylin Demir", Role.WORKER),
    DemoLogin("leitung", "Dr. Petra Lindner", Role.MANAGER),
    DemoLogin("admin", "Thomas Kraus", Role.ADMIN),
)


async def seed_demo(sessions: async_sessionmaker[AsyncSession], keyring: Keyring, password: str) -> bool:
    """Create the demo organisation, team, users and cases if the database has no users yet.

    Returns whether anything was created. Safe to call on every start.
    """
    async with sessions() as db:
        await begin_write(db)
        if (await db.scalar(select(func.count()).select_from(User))) or 0:
            return False
        org = Organisation(name="Wohnbau Beispiel eG", country="DE", subdivision="BE")
        db.add(org)
        await db.flush()
        team = Team(organisation_id=org.id, name="Team Nord")
        db.add(team)
        await db.flush()
        users = {}
        for login in DEMO_USERS:
            users[login.username] = User(
                username=login.username,
                display_name=login.display_name,
                role=login.role,
                team_id=None if login.role is Role.ADMIN else team.id,
                password_hash=await hash_password(password),
            )
            db.add(users[login.username])
        await db.flush()
        team_ids = DemoTeam(org.id, team.id, [users["worker1"].id, users["worker2"].id], users["supervisor"].id)
        await seed_cases(db, keyring, team_ids, utcnow().date())
        db.add_all(enquiries(random.Random(7), team.id, team_ids.worker_ids, utcnow().date()))  # noqa: S311 - demo
        await db.commit()
    await blind.rebuild_if_stale(sessions, keyring, force=True)  # the demo households, for the duplicate check
    return True
