"""The rules a referral's path follows, shared by the referrals and the court's notices: who may act for which team,
who may be assigned, which case may be linked, which open case is the same household, and which tenancy is still in
hand (by a keyed hash of its contract number)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Role, User
from server.auth.schemas import Principal
from server.intake.fields import Duplicate, ReferralFields
from server.intake.models import Referral
from server.problems import Conflict, Forbidden, NotFound, ValidationFailed
from server.records import blind
from server.records.models import Record

__all__ = [
    "OPEN_CASE",
    "check_open_case",
    "check_worker",
    "contract_token",
    "decidable",
    "duplicates",
    "open_with_token",
    "supervisors",
    "team_of",
]

OPEN_CASE = ("open", "closing_requested")


def contract_token(key: bytes, organisation_id: uuid.UUID, contract_number: str) -> bytes | None:
    """A keyed hash of a tenancy's contract number within the organisation (spaces and case ignored)."""
    folded = "".join(contract_number.split()).upper()
    if not folded:
        return None
    return hmac.new(key, f"contract|{organisation_id}|{folded}".encode(), hashlib.sha256).digest()


def team_of(principal: Principal, roles: tuple[Role, ...]) -> tuple[uuid.UUID, uuid.UUID]:
    if principal.role not in roles or principal.team_id is None or principal.organisation_id is None:
        raise Forbidden("Referrals are handed over by property management and taken on by a team's supervisor.")
    return principal.team_id, principal.organisation_id


async def supervisors(db: AsyncSession, team_id: uuid.UUID) -> list[uuid.UUID]:
    found = select(User.id).where(User.team_id == team_id, User.role == Role.SUPERVISOR, User.disabled_at.is_(None))
    return list((await db.scalars(found)).all())


async def decidable(db: AsyncSession, team_id: uuid.UUID, referral_id: uuid.UUID) -> Referral:
    referral = await db.get(Referral, referral_id)
    if referral is None or referral.team_id != team_id:
        raise NotFound("No such referral in the team's inbox.")
    if referral.status == "accepted":
        raise Conflict(f"The referral was taken on already, as case {referral.case_id}.")
    if referral.status == "declined":
        raise Conflict("The referral was declined already.")
    return referral


async def check_worker(db: AsyncSession, team_id: uuid.UUID, worker_id: uuid.UUID) -> None:
    user = await db.get(User, worker_id)
    if user is None or user.team_id != team_id or user.role is not Role.WORKER or user.disabled_at is not None:
        raise ValidationFailed("Assign a worker of the team.", field="worker_id")


async def check_open_case(db: AsyncSession, team_id: uuid.UUID, case_id: uuid.UUID) -> None:
    status = await db.scalar(
        select(Record.status).where(
            Record.id == case_id, Record.kind == "case", Record.team_id == team_id, Record.deleted.is_(False)
        )
    )
    if status not in OPEN_CASE:
        raise ValidationFailed("Link an open case of the team.", field="link_case_id")


async def duplicates(
    db: AsyncSession, key: bytes, team_id: uuid.UUID, fields: ReferralFields | None
) -> list[Duplicate]:
    if fields is None:
        return []
    asked = blind.tokens(key, fields.street, fields.house_number, fields.postcode, [fields.tenant_name])
    return [
        Duplicate(case_id=m.case_id, assigned_worker_id=m.assigned_worker_id, reason=m.reason)
        for m in await blind.find(db, team_id, asked)
    ]


async def open_with_token(
    db: AsyncSession, organisation_id: uuid.UUID, tokens: list[bytes]
) -> dict[bytes, dt.datetime]:
    """The tokens among ``tokens`` of referrals still in hand: waiting, or taken on with their case open."""
    if not tokens:
        return {}
    case = Record.__table__.alias("referred_case")
    rows = await db.execute(
        select(Referral.contract_token, Referral.received_at)
        .outerjoin(case, and_(case.c.id == Referral.case_id, case.c.kind == "case"))
        .where(
            Referral.organisation_id == organisation_id,
            Referral.contract_token.in_(tokens),
            or_(Referral.status == "received", and_(Referral.status == "accepted", case.c.status.in_(OPEN_CASE))),
        )
    )
    return {token: at for token, at in rows.all() if token is not None}
