"""Seeding of the demo organisations, teams and accounts: Team Nord of a Berlin housing company, and a Viennese
landlord's case-management team (Austrian law, holidays and words)."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.models import Organisation, Role, Team, User
from server.auth.passwords import hash_password
from server.db import begin_write, utcnow
from server.demo.cases import DemoTeam, seed_cases
from server.demo.dating import arrears_at_intake, date_history
from server.demo.past import Intake, enquiries
from server.demo.referrals import seed_referrals
from server.demo.vienna import vienna_records
from server.records import blind
from server.records.bulk import write_all
from server.records.keyring import Keyring
from server.records.store import RecordStore

__all__ = ["DEFAULT_DEMO_PASSWORD", "DEMO_USERS", "DemoLogin", "seed_demo"]

DEFAULT_DEMO_PASSWORD = "doorstep-demo"  # noqa: S105 - invented demo accounts, documented in the README


class DemoLogin(msgspec.Struct, frozen=True):
    """One demo account as printed at start: Berlin's (Team Nord) or Vienna's."""

    username: str
    display_name: str
    role: Role
    place: str = "Berlin"


DEMO_USERS = (
    DemoLogin("supervisor", "Sabine Berger", Role.SUPERVISOR),
    DemoLogin("worker1", "Jonas Albrecht", Role.WORKER),
    DemoLogin("worker2", "Aylin Demir", Role.WORKER),
    DemoLogin("leitung", "Dr. Petra Lindner", Role.MANAGER),
    DemoLogin("admin", "Thomas Kraus", Role.ADMIN, "–"),  # the installation's, of no organisation
    DemoLogin("wien-supervisor", "Mag.a Eva Hofbauer", Role.SUPERVISOR, "Wien"),
    DemoLogin("wien-worker", "Lukas Gruber", Role.WORKER, "Wien"),
    DemoLogin("wien-worker2", "Selin Kaya", Role.WORKER, "Wien"),
    DemoLogin("wien-leitung", "Dr. Martin Steiner", Role.MANAGER, "Wien"),
    DemoLogin("hausverwaltung", "Hausverwaltung Nord, Karin Kaiser", Role.REFERRER),
    DemoLogin("wien-hausverwaltung", "Hausverwaltung Favoriten, Ing. Paul Berger", Role.REFERRER, "Wien"),
)


async def seed_demo(sessions: async_sessionmaker[AsyncSession], keyring: Keyring, password: str) -> bool:
    """Create the demo organisation, team, users and cases if the database has no users yet.

    Returns whether anything was created. Safe to call on every start.
    """
    async with sessions() as db:
        await begin_write(db)
        if (await db.scalar(select(func.count()).select_from(User))) or 0:
            return False
        # Berlin's first: the organisation the administrator's commands act on.
        org = Organisation(name="Wohnbau Beispiel eG", country="DE", subdivision="BE", created_at=utcnow())
        vienna = Organisation(
            name="Wiener Wohnpartner Beispiel GmbH",
            country="AT",
            subdivision="9",
            created_at=org.created_at + dt.timedelta(seconds=1),
        )
        db.add_all([org, vienna])
        await db.flush()
        team = Team(organisation_id=org.id, name="Team Nord")
        favoriten = Team(organisation_id=vienna.id, name="Team Favoriten")
        db.add_all([team, favoriten])
        await db.flush()
        users = {}
        for login in DEMO_USERS:
            users[login.username] = User(
                username=login.username,
                display_name=login.display_name,
                role=login.role,
                team_id=None if login.role is Role.ADMIN else favoriten.id if login.place == "Wien" else team.id,
                password_hash=await hash_password(password),
            )
            db.add(users[login.username])
        await db.flush()
        today = utcnow().date()
        team_ids = DemoTeam(org.id, team.id, [users["worker1"].id, users["worker2"].id], users["supervisor"].id)
        await seed_cases(db, keyring, team_ids, today)
        db.add_all(enquiries(random.Random(7), team.id, team_ids.worker_ids, today))  # noqa: S311 - demo
        workers = [users["wien-worker"].id, users["wien-worker2"].id]
        await _seed_vienna(db, keyring, vienna.id, favoriten.id, workers, users["wien-supervisor"].id)
        await db.commit()
    await blind.rebuild_if_stale(sessions, keyring, force=True)  # the demo households, for the duplicate check
    await seed_referrals(sessions, keyring)
    return True


async def _seed_vienna(
    db: AsyncSession,
    keyring: Keyring,
    organisation: uuid.UUID,
    team: uuid.UUID,
    workers: list[uuid.UUID],
    supervisor: uuid.UUID,
) -> None:
    """The Viennese team's cases, its year and its enquiries, on its organisation's own sync clock."""
    today = utcnow().date()
    intake: Intake = {}
    items, _ = vienna_records(team, workers, supervisor, today, intake)
    store = RecordStore(db, keyring)
    first = await write_all(store, organisation, items, actor=supervisor)
    await date_history(db, items)
    await arrears_at_intake(store, intake, first)
    db.add_all(enquiries(random.Random(1100), team, workers, today))  # noqa: S311 - invented demo data
