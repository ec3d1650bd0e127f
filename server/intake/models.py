"""A referral as stored: clear columns for the inbox, the referrer's list and the repeat check; the household's
details sealed with a data key of its own (the key of the case it becomes when accepted as a new case)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, utcnow

__all__ = ["Referral", "ReferralFile"]


class Referral(Base):
    """One household handed over to a team. ``status``: received, accepted (``case_id`` is the case it became or was
    linked to), declined (``decline_reason``). ``contract_token`` is a keyed hash of the tenancy's contract number:
    a repeat is recognised without the number in clear."""

    __tablename__ = "intake_referrals"
    __table_args__ = (Index("ix_intake_referrals_team_status", "team_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    team_id: Mapped[uuid.UUID]
    submitted_by: Mapped[uuid.UUID] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(16))  # form, csv
    status: Mapped[str] = mapped_column(String(16), default="received")
    case_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    contract_token: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None, index=True)
    decline_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    blob: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class ReferralFile(Base):
    """A file of a referral: its bytes are the attachment upload of the same id; its title is sealed."""

    __tablename__ = "intake_files"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(index=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
