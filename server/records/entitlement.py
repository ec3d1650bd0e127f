"""The scope confirmed by the sealed fields before anything is served (docs/security.md case 59).

Scope is found through clear columns (a case's team and worker, a visit's worker and status), so that the
database can select it with indexes. Those columns are not secret, and not protected either: someone who can write
the database but holds no key could point ``records.assigned_worker_id`` at a worker of another team, or add a
scope entry, and that worker would be served the case in clear. So before a case's fields leave the server, the
case's own sealed fields, decrypted, must name the reader the same way the clear scope does:

* a worker: the case is assigned to them, or one of its planned visits is;
* a supervisor: the case belongs to their team.

A case whose sealed fields say otherwise is not served, whatever the columns say; each refusal is logged and
audited (``scope.mismatch``), since it means the database was changed behind the server's back.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.auth.models import Role
from server.auth.schemas import Principal
from server.db import among_bound
from server.records.keyring import Keyring
from server.records.models import Record
from server.records.store import RecordStore

__all__ = ["audit_mismatches", "confirmed", "names_reader", "refused"]

log = logging.getLogger("doorstep.security")


def names_reader(principal: Principal, case: Mapping[str, Any], visits: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a case's decrypted fields (and its visits') put it in ``principal``'s scope."""
    if principal.role is Role.SUPERVISOR and principal.team_id is not None:
        return str(case.get("team_id")) == str(principal.team_id)
    if principal.role is Role.WORKER:
        me = str(principal.user_id)
        if str(case.get("assigned_worker_id")) == me:
            return True
        return any(str(v.get("assigned_worker_id")) == me and v.get("status") == "planned" for v in visits)
    return False


async def confirmed(
    db: AsyncSession,
    keyring: Keyring,
    principal: Principal,
    case_ids: Iterable[uuid.UUID],
    opened: Mapping[uuid.UUID, bytes] | None = None,
    store: RecordStore | None = None,
) -> tuple[set[uuid.UUID], list[uuid.UUID]]:
    """Those of ``case_ids`` whose sealed fields confirm the reader's scope, and those whose fields contradict it
    (logged here; the caller audits them with :func:`audit_mismatches` in its write). A case whose record cannot be
    read at all is in neither: nothing of it is served from its fields, and the read reports the damage.

    ``opened``: case records the caller has decrypted in the same snapshot (their JSON), which are not read
    again; a pull page holds most of its cases' own records. ``store``: the caller's, whose data keys are then
    not unwrapped twice."""
    ids = set(case_ids)
    if not ids:
        return set(), []
    opened = opened or {}
    cases: dict[uuid.UUID, dict[str, Any]] = {}
    for case_id in ids & opened.keys():
        try:
            cases[case_id] = msgspec.json.decode(opened[case_id])
        except msgspec.DecodeError:
            continue  # read again below, where the store reports the damage
    store = store or RecordStore(db, keyring)
    if rest := ids - cases.keys():
        connection = await db.connection()
        found = (await connection.execute(_cases_of(connection.dialect.name), {"cases": list(rest)})).all()
        fields = await store.decrypt_fields([dict(row._mapping) for row in found])
        cases |= {row[0]: f for row, f in zip(found, fields, strict=True) if f is not None}
    # A worker's case that is not assigned to them is theirs through a planned visit: only then are visits read.
    ok = {case_id for case_id, fields in cases.items() if names_reader(principal, fields, ())}
    undecided = set(cases) - ok
    visits: dict[uuid.UUID, list[Mapping[str, Any]]] = {}
    if undecided and principal.role is Role.WORKER:
        rows = await store.select(Record.case_id.in_(undecided), Record.kind == "visit", Record.deleted.is_(False))
        for visit in await store.decrypt(rows):
            if visit.fields is not None:
                visits.setdefault(visit.case_id, []).append(visit.fields)
    mismatched: list[uuid.UUID] = []
    for case_id in sorted(undecided):
        if names_reader(principal, cases[case_id], visits.get(case_id, ())):
            ok.add(case_id)
            continue
        log.error("scope mismatch: case %s is in the reader's scope by its columns, not by its sealed fields", case_id)
        mismatched.append(case_id)
    return ok, mismatched


async def audit_mismatches(
    db: AsyncSession, keyring: Keyring, principal: Principal, mismatched: Iterable[uuid.UUID]
) -> None:
    """One ``scope.mismatch`` entry per case refused, in the caller's writing transaction."""
    for case_id in mismatched:
        await audit.append(
            db,
            action="scope.mismatch",
            outcome="refused",
            actor_id=principal.user_id,
            device_id=principal.device_id,
            case_id=case_id,
            record_ids=[case_id],
            organisation=principal.organisation_id,
            key=keyring.audit,
        )


async def refused(db: AsyncSession, keyring: Keyring, principal: Principal, case_id: uuid.UUID) -> bool:
    """Whether the sealed fields of a case in the reader's scope by its columns contradict that scope; audited in
    the caller's writing transaction when they do."""
    _, mismatched = await confirmed(db, keyring, principal, [case_id])
    await audit_mismatches(db, keyring, principal, mismatched)
    return bool(mismatched)


@functools.cache
def _cases_of(dialect: str) -> Select[uuid.UUID, uuid.UUID, str, int, bytes | None]:
    """The live case records of the cases bound as ``cases``, with what decrypting them needs: built once."""
    columns = (Record.case_id, Record.id, Record.kind, Record.schema_version, Record.blob)
    return select(*columns).where(
        among_bound(Record.id, "cases", dialect), Record.kind == "case", Record.deleted.is_(False)
    )
