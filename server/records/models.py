"""Tables of the encrypted record store.

``records`` holds every synced object of every kind. The sensitive content is one AES-GCM blob per record
(``fields``); the clear columns are a projection that queries and access control need (docs/security.md part 1).
``field_versions`` maps each field name to the ``seq`` that last changed it, for the three-way merge.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, utcnow

__all__ = [
    "Appointment",
    "AttachmentChunk",
    "AttachmentUpload",
    "BlindIndex",
    "BlindIndexState",
    "CaseHistory",
    "CaseKey",
    "Enquiry",
    "KeyCheck",
    "Record",
    "RetentionNotice",
    "RetiredCase",
    "RetiredContacts",
    "ScopeEvent",
    "ScopeMember",
    "ShreddedCase",
    "SyncClock",
    "SyncFeed",
]


class SyncClock(Base):
    """One organisation's sync clock: the last ``seq`` handed out there, and its tombstone horizon.

    Every writing transaction of the organisation increments it first, which takes its row lock until commit.
    The organisation's writers are thus serialised, and ``seq`` order equals commit order on PostgreSQL too: a
    reader that has seen ``seq`` S can never later find a committed change of the organisation with a lower
    ``seq`` (docs/sync-protocol.md guarantee 3). Writers of different organisations take different rows and never
    wait for each other. Rows are made on first use (:mod:`server.records.clock`); ``organisation_id`` is the
    nil UUID for writers that belong to no organisation.
    """

    __tablename__ = "sync_clocks"

    organisation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Tombstones at or below this seq may have been compacted; older cursors must re-bootstrap.
    horizon: Mapped[int] = mapped_column(BigInteger, default=0)


class CaseKey(Base):
    """The data encryption key of one case, wrapped by a KEK version. Deleting the row shreds the case."""

    __tablename__ = "case_keys"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    dek_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    kek_version: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ShreddedCase(Base):
    """A case whose key was destroyed. Mirrored in a file beside the keys so a restored backup is re-shredded."""

    __tablename__ = "shredded_cases"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    shredded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KeyCheck(Base):
    """A known value sealed under each KEK version, to tell a wrong key from a right one at start."""

    __tablename__ = "key_checks"

    kek_version: Mapped[int] = mapped_column(primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class Record(Base):
    """One record of any kind. ``version`` is the ``seq`` of its last change; deleted records stay as tombstones."""

    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_case_version", "case_id", "version"),
        Index("ix_records_kind_assignee_status", "kind", "assigned_worker_id", "status"),
        Index("ix_records_kind_team", "kind", "team_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    created_version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(default=False)
    schema_version: Mapped[int]
    # The encrypted fields; null only for a shredded case.
    blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    field_versions: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Clear projection (ids, assignee, team, dates, status and outcome enums only).
    team_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    assigned_worker_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    status: Mapped[str | None] = mapped_column(String(32), default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    at: Mapped[dt.datetime | None] = mapped_column(default=None)
    flag: Mapped[str | None] = mapped_column(String(40), default=None)
    # A contact's duration (counselling time is counted from it); -1 until read from a contact stored before the
    # column existed (server/records/projection.py).
    minutes: Mapped[int | None] = mapped_column(default=None)
    # A contact's reach: the tenant reached or not (a consultation or an attempt), and whether it came in from the
    # tenant; null until read from a contact stored before the columns existed (server/records/projection.py).
    reached: Mapped[bool | None] = mapped_column(default=None)
    incoming: Mapped[bool | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class ScopeMember(Base):
    """Who has a case in scope right now. ``subject`` is a worker's user id, or a team id for its supervisors.

    ``entered_seq`` is the ``seq`` at which the case entered that scope: a pull delivers every live record of
    the case as if it had changed then (docs/sync-protocol.md, pull).
    """

    __tablename__ = "scope_members"

    subject: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    entered_seq: Mapped[int] = mapped_column(BigInteger)


class SyncFeed(Base):
    """Each subject's changes in pull order: one row per record of every case in the subject's scope, at the
    record's position ``max(version, entered_seq)`` (docs/sync-protocol.md, "The scope feed").

    Kept by the database's own triggers on ``records`` and ``scope_members`` (migrations 0024 and 0025), so that
    every writer keeps it, whichever path it takes. Its key is the pull order, so a pull page is one range of the
    table itself, and a record written is one index entry per subject holding its case.
    """

    __tablename__ = "sync_feed"
    __table_args__ = ({"sqlite_with_rowid": False},)

    subject: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # When the record's case entered the scope: a tombstone from before then is not the subject's news.
    entered_seq: Mapped[int] = mapped_column(BigInteger)


class ScopeEvent(Base):
    """History of scope changes: a case entering or leaving a subject's scope at ``seq``."""

    __tablename__ = "scope_events"
    __table_args__ = (Index("ix_scope_events_subject_seq", "subject", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    subject: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(BigInteger)
    entered: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BlindIndex(Base):
    """Keyed hashes of a household's address and tenants' surnames, for the duplicate check at intake.

    ``token`` is an HMAC under the index key of the provider (docs/security.md case 42): equal for two spellings
    of one address, and useless without the key. No clear value is stored.
    """

    __tablename__ = "blind_index"

    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True, index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)


class BlindIndexState(Base):
    """One row: a fingerprint of the key the index was built with. Another key (or none yet) rebuilds it."""

    __tablename__ = "blind_index_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(16))


class AttachmentUpload(Base):
    """The bytes of one attachment as they arrive: declared size and hash, how much has been received.

    Chunks are kept in ``attachment_chunks``; an upload whose last chunk made the declared SHA-256 is ``complete``
    and only then can be downloaded (docs/sync-protocol.md "Attachments").
    """

    __tablename__ = "attachment_uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    chunks: Mapped[int] = mapped_column(default=0)
    complete: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # The device that declared it, for the quota of open uploads per device (server/records/uploads.py).
    created_device: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AttachmentChunk(Base):
    """One chunk of an attachment, AES-GCM under the case's data key, bound to attachment, index, case and key."""

    __tablename__ = "attachment_chunks"

    attachment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    idx: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    offset: Mapped[int] = mapped_column(BigInteger)
    length: Mapped[int]
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class CaseHistory(Base):
    """A change of a case's status, outcome or dates, appended in the transaction that makes it and never changed:
    a report computes a past period from what had been recorded, so a case reopened later, or an outcome corrected,
    leaves its trace (server/records/history.py). The state is AES-GCM under the case's data key, bound to the
    entry, the case and the key; erasing the case deletes its history with the key."""

    __tablename__ = "case_history"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[dt.datetime]
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class Enquiry(Base):
    """An anonymous enquiry or short counselling without a case (a call, a question at the office door): when, how,
    about what, for how long and where the person was referred. No name, no address, no free text about a person;
    so nothing here is encrypted, and nothing here needs erasing."""

    __tablename__ = "enquiries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # chosen by the device: a resent enquiry is one
    team_id: Mapped[uuid.UUID] = mapped_column(index=True)
    on: Mapped[dt.date] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(40))
    duration_minutes: Mapped[int | None]
    referred_to: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[uuid.UUID]
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Appointment(Base):
    """An appointment at the service centre, booked for a caller who gave no name (server/records/appointments.py):
    when, about what, from which enquiry, and whether it was held. Nothing here names a person, so nothing is
    encrypted and nothing needs erasing."""

    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("team_id", "slot"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # chosen by the device: a resent booking is one
    team_id: Mapped[uuid.UUID] = mapped_column(index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(index=True)
    minutes: Mapped[int]
    topic: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    enquiry_id: Mapped[uuid.UUID | None]
    # The start again while the appointment holds its slot, empty once it is cancelled: unique per team, so that
    # the database refuses a second booking of one slot.
    slot: Mapped[dt.datetime | None]
    booked_by: Mapped[uuid.UUID]
    booked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RetiredCase(Base):
    """What the reports of past years count of a case erased when its retention period ended: an anonymous line,
    with no id of the case, no person and no free text (server/records/retention.py). Each line counts as one
    case and one household."""

    __tablename__ = "retired_cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str | None] = mapped_column(String(32))
    opened_on: Mapped[dt.date | None]
    first_contact_on: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    retired_on: Mapped[dt.date]
    # The statistics recorded on the case (coarse categories only: age group, household type, housing ...).
    statistics: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class RetiredContacts(Base):
    """The contacts of erased cases, counted per team, channel and hour (UTC), for the reports of past years."""

    __tablename__ = "retired_contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(32))
    hour: Mapped[dt.datetime]
    contacts: Mapped[int]
    minutes: Mapped[int]
    timed: Mapped[int]
    # Counted apart by reach; lines kept before the columns existed count as reached and outgoing.
    reached: Mapped[bool] = mapped_column(default=True, server_default=true())
    incoming: Mapped[bool] = mapped_column(default=False, server_default=false())


class RetentionNotice(Base):
    """The day a closed case was first announced for erasure (housekeeping, shown on the supervisor's dashboard).

    A case is erased no earlier than :data:`server.records.retention.NOTICE_DAYS` after this day, whatever its
    retention period says, so that no case is erased unannounced (a shortened ``retention_years``, a server that was
    down). The row goes with the case when it is erased, and with the announcement when the case is reopened.
    """

    __tablename__ = "retention_notices"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    announced_on: Mapped[dt.date]
