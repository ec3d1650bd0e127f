"""The demo's front door: households property management handed over, waiting in each team's inbox (invented)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.models import Organisation, Role, Team, User
from server.auth.schemas import Principal
from server.db import utcnow
from server.intake.fields import ReferralFields
from server.intake.service import Intake
from server.records.keyring import Keyring

__all__ = ["seed_referrals"]


def _berlin(today: dt.date) -> list[ReferralFields]:
    return [
        ReferralFields(
            tenant_name="Helga Sommer",
            street="Kastanienallee",
            house_number="17",
            unit="3. OG links",
            postcode="10435",
            city="Berlin",
            contract_number="WB-10435-0317",
            reason="arrears",
            rent_arrears_cents=212_400,
            service_charge_arrears_cents=38_600,
            notice_served_on=today - dt.timedelta(days=12),
            note="Zwei Mieten offen, telefonisch nicht erreichbar. Briefkasten überquillt.",
        ),
        ReferralFields(
            tenant_name="Dariusz Nowak",
            street="Schönhauser Allee",
            house_number="112",
            postcode="10439",
            city="Berlin",
            contract_number="WB-10439-1120",
            reason="neighbour_complaints",
            note="Mehrere Beschwerden wegen Lärm, Mieter wirkt überfordert.",
        ),
    ]


def _vienna(today: dt.date) -> list[ReferralFields]:
    return [
        ReferralFields(
            tenant_name="Gertrude Hofer",
            street="Quellenstraße",
            house_number="48",
            unit="Stiege 2, Tür 14",
            postcode="1100",
            city="Wien",
            contract_number="FAV-1100-4814",
            reason="arrears",
            rent_arrears_cents=168_000,
            lawsuit_served_on=today - dt.timedelta(days=6),
            note="Räumungsklage zugestellt, Mieterin 78 Jahre alt.",
        )
    ]


async def seed_referrals(sessions: async_sessionmaker[AsyncSession], keyring: Keyring) -> None:
    """Hand the demo's households over as each organisation's referrer would."""
    intake = Intake(sessions=sessions, keyring=keyring, time_zone="Europe/Berlin")
    today = utcnow().date()
    async with sessions() as db:
        referrers = (
            await db.execute(
                select(User, Team.organisation_id, Organisation.country)
                .join(Team, Team.id == User.team_id)
                .join(Organisation, Organisation.id == Team.organisation_id)
                .where(User.role == Role.REFERRER)
            )
        ).all()
    for user, organisation_id, country in referrers:
        principal = Principal(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            team_id=user.team_id,
            device_id=uuid.uuid4(),  # the referrer's browser, as a login would register it
            session_id=uuid.uuid4(),
            csrf_token="",
            organisation_id=organisation_id,
        )
        for fields in _vienna(today) if country == "AT" else _berlin(today):
            await intake.submit(principal, fields)
