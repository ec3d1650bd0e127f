"""Declined referrals are not kept: some time after the decision (``DOORSTEP_REFERRAL_KEEP_DAYS``, default 90) the
housekeeping pass shreds the referral's data key, its papers and its sealed content, as it erases a case at the end
of its retention period. The clear line stays (the team, the referrer, the days, the reason), so the referrer's list
still shows that something was declined, without the name."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.db import begin_write
from server.intake.models import Referral, ReferralFile
from server.records.keyring import Keyring

__all__ = ["forget_declined"]


async def forget_declined(sessions: async_sessionmaker[AsyncSession], keyring: Keyring, before: dt.datetime) -> int:
    """Shred every referral declined before ``before`` that still holds its content; returns how many."""
    async with sessions() as db:
        await begin_write(db)
        due = (
            await db.scalars(
                select(Referral).where(
                    Referral.status == "declined", Referral.decided_at < before, Referral.blob.is_not(None)
                )
            )
        ).all()
        for referral in due:
            await keyring.shred(db, referral.id)
            await db.execute(delete(ReferralFile).where(ReferralFile.referral_id == referral.id))
            referral.blob = None
        for organisation in sorted({r.organisation_id for r in due}, key=str):
            await audit.append(
                db,
                action="referral.forget",
                outcome="ok",
                actor_id=None,
                record_ids=[r.id for r in due if r.organisation_id == organisation],
                organisation=organisation,
                key=keyring.audit,
            )
        await db.commit()
    return len(due)
