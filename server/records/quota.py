"""Quotas of unfinished uploads (docs/security.md case 57).

A tablet sends one file at a time, so a device or a user with several uploads declared and not finished is
either stuck or abusing the server's patience: each declared upload is kept for 30 days (housekeeping), and its
declared size is space the server may have to hold. A new declaration beyond a quota is answered 429; the tablet
keeps the file and tries again at a later sync, and a finished upload frees its place at once.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Team
from server.auth.schemas import Principal
from server.db import utcnow
from server.problems import RateLimited
from server.records.models import AttachmentUpload, Record

__all__ = ["OPEN_FOR", "UploadQuota", "within_quota"]

# An unfinished upload counts against its device's and user's quota for a day; housekeeping drops it after 30.
OPEN_FOR = dt.timedelta(days=1)


class UploadQuota(msgspec.Struct, frozen=True, kw_only=True):
    """How many unfinished uploads one device and one user may have open (declared within :data:`OPEN_FOR`), and
    how many declared bytes the unfinished uploads of one organisation may hold."""

    per_device: int = 3
    per_user: int = 6
    bytes_per_organisation: int = 2 * 1024**3


async def within_quota(db: AsyncSession, principal: Principal, size: int, quota: UploadQuota) -> None:
    """Refuse a new declaration of ``size`` bytes beyond the quotas with 429 (``Retry-After`` a minute, or ten
    when the organisation's space is what is full)."""
    unfinished = AttachmentUpload.complete.is_(False)
    recent = unfinished & (AttachmentUpload.created_at > utcnow() - OPEN_FOR)
    by_device = select(func.count()).where(recent, AttachmentUpload.created_device == principal.device_id)
    by_user = select(func.count()).where(recent, AttachmentUpload.created_by == principal.user_id)
    if (await db.scalar(by_device) or 0) >= quota.per_device:
        raise RateLimited("This device has files half sent; they go first.", retry_after=60)
    if (await db.scalar(by_user) or 0) >= quota.per_user:
        raise RateLimited("Your devices have files half sent; they go first.", retry_after=60)
    held = (
        select(func.coalesce(func.sum(AttachmentUpload.size), 0))
        .join(Record, (Record.id == AttachmentUpload.case_id) & (Record.kind == "case"))
        .join(Team, Team.id == Record.team_id)
        .where(unfinished, Team.organisation_id == principal.organisation_id)
    )
    if int(await db.scalar(held) or 0) + size > quota.bytes_per_organisation:
        raise RateLimited("The server holds too many unfinished files; try again later.", retry_after=600)
