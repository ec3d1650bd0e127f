"""The drift check: a device says what it holds per case, and gets back whole the cases where it differs.

A device's copy can drift from the server's without any sync error: a storage block goes bad and one record no
longer decrypts, a browser crash leaves a write half done, an old app version had a bug. After a full pull, the
device sends one digest per case it holds (``POST /api/sync/check``, ``{"held": {case id: digest}}``): the
lowercase hex SHA-256 of the lines ``"<record id> <version>"`` of the case's records that it can open, sorted by
id and joined by ``"\\n"``. The server computes the same over the live records of each case in the caller's scope
and answers:

- ``changes``: every live record of each case that differs or that the device lacks, in pull form, which the
  device stores in place of its copy of those cases (at most :data:`MAX_RECORDS` records per answer; ``more``
  says to ask again);
- ``purge``: cases the device holds that are not in its scope;
- ``differ``: the ids of the cases that differ, for the device's log.

Every delivered record is audited as a read (``sync.repair``), as a pull's are.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.schemas import Principal
from server.db import begin_write
from server.problems import ValidationFailed
from server.records import legacy
from server.records.keyring import Keyring
from server.records.models import Record, ScopeMember
from server.records.schemas import SCHEMA_VERSION
from server.records.scope import subject_of
from server.records.store import RecordStore
from server.sync.messages import Change
from server.sync.pull import audit_delivered

__all__ = ["MAX_CASES", "MAX_RECORDS", "CheckRequest", "CheckResponse", "case_digest", "check_held"]

# The most cases one check may name (a worker's scope is far smaller; a supervisor's team a few thousand).
MAX_CASES = 20_000
# The most records one answer carries; the device asks again for the rest.
MAX_RECORDS = 2_000


class CheckRequest(msgspec.Struct, kw_only=True, frozen=True):
    """What the device holds: a digest per case id (see the module's description)."""

    # Named ``held`` (not ``cases``): a body field named like one of the app's dependencies makes Litestar take a
    # bad value there for a server fault.
    held: dict[str, Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]]
    schema_version: int | None = None


class CheckResponse(msgspec.Struct, kw_only=True, frozen=True):
    """The cases to store anew (their records), the cases to drop, and which differed."""

    changes: list[Change]
    purge: list[uuid.UUID]
    differ: list[uuid.UUID]
    more: bool = False


def case_digest(records: list[tuple[uuid.UUID, int]]) -> str:
    """The digest of a case: SHA-256 of ``"<id> <version>"`` lines sorted by id, joined by newlines."""
    lines = sorted(f"{record_id} {version}" for record_id, version in records)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


async def check_held(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, principal: Principal, request: CheckRequest
) -> CheckResponse:
    """Compare the device's digests with the caller's scope; see the module's description."""
    if len(request.held) > MAX_CASES:
        raise ValidationFailed(f"At most {MAX_CASES} cases per check.", field="held")
    held_by_device: dict[uuid.UUID, str] = {}
    for name, digest in request.held.items():  # each digest is 64 lowercase hex characters (the type says so)
        try:
            held_by_device[uuid.UUID(name)] = digest
        except ValueError:
            raise ValidationFailed("The cases are named by their ids (UUIDs).", field="held") from None
    subject = subject_of(principal)
    if subject is None:
        return CheckResponse(changes=[], purge=sorted(held_by_device), differ=[])
    async with sessions() as db:
        member = select(ScopeMember.case_id).where(ScopeMember.subject == subject)
        rows = (
            await db.execute(
                select(Record.case_id, Record.id, Record.version).where(
                    Record.case_id.in_(member), Record.deleted.is_(False), Record.blob.is_not(None)
                )
            )
        ).all()
        scope = set((await db.scalars(member)).all())
    held: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {case_id: [] for case_id in scope}
    for case_id, record_id, version in rows:
        held.setdefault(case_id, []).append((record_id, version))
    differ = sorted(case_id for case_id in scope if held_by_device.get(case_id) != case_digest(held[case_id]))
    purge = sorted(case_id for case_id in held_by_device if case_id not in scope)
    chosen: list[uuid.UUID] = []
    count = 0
    for case_id in differ:
        if chosen and count + len(held[case_id]) > MAX_RECORDS:
            break
        chosen.append(case_id)
        count += len(held[case_id])
    changes = await _records_of(sessions, keyring, principal, chosen, request.schema_version) if chosen else []
    return CheckResponse(changes=changes, purge=purge, differ=differ, more=len(chosen) < len(differ))


async def _records_of(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    principal: Principal,
    case_ids: list[uuid.UUID],
    schema_version: int | None,
) -> list[Change]:
    """Every live record of ``case_ids``, decrypted, audited as read (damaged ones are left out and reported)."""
    async with sessions() as db:
        await begin_write(db)
        store = RecordStore(db, keyring)
        rows = await store.select(
            Record.case_id.in_(case_ids), Record.deleted.is_(False), order_by=(Record.case_id, Record.version)
        )
        records = [r for r in await store.decrypt(rows) if r.id not in store.damaged]
        await audit_delivered(
            db, keyring, principal, "sync.repair", store.damaged, ((r.case_id, r.id) for r in records)
        )
        await db.commit()
    return [
        Change(
            kind=r.kind,
            id=r.id,
            case_id=r.case_id,
            version=r.version,
            deleted=False,
            fields=legacy.as_read(r.kind, r.fields, schema_version or SCHEMA_VERSION),
            flag=r.flag,
        )
        for r in records
    ]
