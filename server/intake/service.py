"""Referrals from property management: submitted by a referrer (or imported by the office), read by the referrer as
a coarse course only, taken on by the team's supervisor (a new case, or the household's open case linked) or
declined with a reason (docs/domain.md "Referrals").

The household's details are sealed with a data key made for the referral: accepted as a new case, the case takes
the referral's id and so its key, and erasing the case erases the referral's content too. The clear columns say
only who referred, to which team, when, and how it was decided. A repeat (the same tenancy while the first referral
is still waiting or its case is open) is recognised by a keyed hash of the contract number.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import audit
from server.auth.models import Role
from server.auth.schemas import Principal
from server.crypto.aead import associated_data, open_blob, seal
from server.db import begin_write, utcnow
from server.intake.becomes import case_records
from server.intake.course import stages
from server.intake.fields import Accepted, DeclineReason, InboxItem, ReferralFields, ReferralOut
from server.intake.files import files_of, into_case
from server.intake.models import Referral
from server.intake.rules import (
    check_open_case,
    check_worker,
    contract_token,
    decidable,
    duplicates,
    open_with_token,
    supervisors,
    team_of,
)
from server.problems import Conflict, Forbidden, ValidationFailed
from server.push import CASE_ASSIGNED, REFERRAL_RECEIVED, enqueue
from server.records import blind, clock
from server.records.bulk import write_all
from server.records.keyring import Keyring
from server.records.store import RecordStore
from server.records.validation import ValidationIssue

__all__ = ["Intake"]

log = logging.getLogger("doorstep.records")

SEALED_AS = ("referral_in", "fields", 1)  # kind, column and version the sealed fields are bound to
RECENT = dt.timedelta(days=30)  # decided referrals stay in the inbox this long


@dataclass(frozen=True, slots=True)
class Intake:
    """Referrals for one app, as handlers receive them."""

    sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring
    time_zone: str
    on_queued: Callable[[], None] | None = None

    # --- submitting -------------------------------------------------------------------------------------

    async def submit(self, principal: Principal, fields: ReferralFields, *, source: str = "form") -> ReferralOut:
        """Hand a household over to the caller's team. A tenancy already handed over and not settled is a
        conflict naming the day it was received."""
        team_id, organisation_id = team_of(principal, (Role.REFERRER, Role.SUPERVISOR))
        async with self.sessions() as db:
            await begin_write(db)
            await clock.lock(db, organisation_id)  # one submitter at a time: the repeat check holds
            token = contract_token(self.keyring.index, organisation_id, fields.contract_number)
            earlier = await open_with_token(db, organisation_id, [token] if token else [])
            if token in earlier:
                day = earlier[token].astimezone(ZoneInfo(self.time_zone)).strftime("%d.%m.%Y")
                raise Conflict(f"This tenancy was handed over on {day} and is still being dealt with.")
            referral = await self.store(db, principal, team_id, organisation_id, fields, token, source)
            await audit.append(
                db,
                action="referral.submit",
                outcome="ok",
                actor_id=principal.user_id,
                device_id=principal.device_id,
                record_ids=[referral.id],
                organisation=organisation_id,
                key=self.keyring.audit,
            )
            queued = await enqueue(db, [(s, REFERRAL_RECEIVED, referral.id) for s in await supervisors(db, team_id)])
            await db.commit()
        self.wake(queued)
        return ReferralOut(
            id=referral.id,
            received_at=referral.received_at,
            tenant_name=fields.tenant_name,
            contract_number=fields.contract_number,
            stage="received",
        )

    async def store(
        self,
        db: AsyncSession,
        principal: Principal,
        team_id: uuid.UUID,
        organisation_id: uuid.UUID,
        fields: ReferralFields,
        token: bytes | None,
        source: str,
    ) -> Referral:
        referral_id = uuid.uuid4()
        key = (await self.keyring.data_keys_for_write(db, [referral_id]))[referral_id]
        aad = associated_data(SEALED_AS[0], referral_id, referral_id, SEALED_AS[1], SEALED_AS[2], key.dek_text)
        blob = seal(key.key, msgspec.json.encode(fields), aad, kek_version=key.kek_version, dek_id=key.dek_id)
        referral = Referral(
            id=referral_id,
            organisation_id=organisation_id,
            team_id=team_id,
            submitted_by=principal.user_id,
            source=source,
            status="received",
            contract_token=token,
            received_at=utcnow(),
            blob=blob,
        )
        db.add(referral)
        await db.flush()
        return referral

    # --- reading ----------------------------------------------------------------------------------------

    async def mine(self, principal: Principal) -> list[ReferralOut]:
        """The caller's own referrals, newest first, with their course; nobody else's."""
        if principal.role is not Role.REFERRER:
            raise Forbidden("This list is for the colleagues who hand households over.")
        async with self.sessions() as db:
            rows = (
                await db.scalars(
                    select(Referral)
                    .where(Referral.submitted_by == principal.user_id)
                    .order_by(Referral.received_at.desc())
                    .limit(500)
                )
            ).all()
            opened = await self._open(db, rows)
            courses = await stages(db, rows)
        return [
            ReferralOut(
                id=row.id,
                received_at=row.received_at,
                tenant_name=fields.tenant_name if fields else "–",
                contract_number=fields.contract_number if fields else "",
                stage=courses[row.id],
            )
            for row, fields in zip(rows, opened, strict=True)
        ]

    async def inbox(self, principal: Principal) -> list[InboxItem]:
        """The team's referrals waiting for a decision, and those decided in the last 30 days."""
        team_id, _ = team_of(principal, (Role.SUPERVISOR,))
        since = utcnow() - RECENT
        async with self.sessions() as db:
            rows = (
                await db.scalars(
                    select(Referral)
                    .where(
                        Referral.team_id == team_id,
                        or_(Referral.status == "received", Referral.decided_at >= since),
                    )
                    .order_by(Referral.received_at)
                )
            ).all()
            opened = await self._open(db, rows)
            courses = await stages(db, rows)
            papers = await files_of(db, self.keyring, [row.id for row in rows if row.status == "received"])
            items = []
            for row, fields in zip(rows, opened, strict=True):
                matches = await duplicates(db, self.keyring.index, team_id, fields) if row.status == "received" else []
                items.append(
                    InboxItem(
                        id=row.id,
                        received_at=row.received_at,
                        source=row.source,
                        submitted_by=row.submitted_by,
                        status=row.status,
                        case_id=row.case_id,
                        decline_reason=row.decline_reason,
                        stage=courses[row.id],
                        fields=fields,
                        duplicates=matches,
                        files=papers.get(row.id, []),
                    )
                )
        return items

    async def _open(self, db: AsyncSession, rows: Sequence[Referral]) -> list[ReferralFields | None]:
        keys = await self.keyring.data_keys(db, [row.id for row in rows])
        opened: list[ReferralFields | None] = []
        for row in rows:
            key = keys.get(row.id)
            if key is None or row.blob is None:
                opened.append(None)  # erased with its case
                continue
            aad = associated_data(SEALED_AS[0], row.id, row.id, SEALED_AS[1], SEALED_AS[2], key.dek_text)
            opened.append(msgspec.json.decode(open_blob(key.key, row.blob, aad), type=ReferralFields))
        return opened

    # --- deciding ---------------------------------------------------------------------------------------

    async def accept(
        self,
        principal: Principal,
        referral_id: uuid.UUID,
        *,
        worker_id: uuid.UUID | None,
        link_case_id: uuid.UUID | None = None,
    ) -> Accepted:
        """Take the household on: link the case named, or the household's open case the duplicate check finds,
        else open a new case (with its household, the notice and lawsuit as legal events and the arrears) for
        ``worker_id``, who gets a push message. Accepting twice is a conflict that names the case."""
        team_id, organisation_id = team_of(principal, (Role.SUPERVISOR,))
        async with self.sessions() as db:
            await begin_write(db)
            await clock.lock(db, organisation_id)
            referral = await decidable(db, team_id, referral_id)
            (fields,) = await self._open(db, [referral])
            if fields is None:
                raise Conflict("The referral's content has been erased; decline it.")
            if worker_id is not None:
                await check_worker(db, team_id, worker_id)
            case_id = link_case_id
            if case_id is not None:
                await check_open_case(db, team_id, case_id)
            else:
                matches = await duplicates(db, self.keyring.index, team_id, fields)
                case_id = matches[0].case_id if matches else None
            created = case_id is None
            queued = 0
            if case_id is None:
                case_id = referral.id  # the referral's data key becomes the case's
                items = case_records(case_id, team_id, worker_id, fields, referral.received_at, self.time_zone)
                items += await into_case(db, self.keyring, referral.id, case_id)
                store = RecordStore(db, self.keyring)
                try:
                    await write_all(store, organisation_id, items, actor=principal.user_id)
                except ValidationIssue as issue:  # what was handed over does not make a valid case
                    log.warning("referral %s cannot become a case: %s", referral.id, issue.detail)
                    raise ValidationFailed(f"The referral cannot become a case: {issue.detail}") from None
                household = next(item for item in items if item[0] == "household")
                await blind.reindex(db, self.keyring.index, {household[1]: (case_id, household[3])})
                if worker_id is not None:
                    queued = await enqueue(db, [(worker_id, CASE_ASSIGNED, case_id)])
            else:  # its papers join the open case, under the case's key
                papers = await into_case(db, self.keyring, referral.id, case_id)
                if papers:
                    await write_all(RecordStore(db, self.keyring), organisation_id, papers, actor=principal.user_id)
            referral.status, referral.case_id = "accepted", case_id
            referral.decided_at, referral.decided_by = utcnow(), principal.user_id
            await audit.append(
                db,
                action="referral.accept" if created else "referral.link",
                outcome="ok",
                actor_id=principal.user_id,
                device_id=principal.device_id,
                case_id=case_id,
                record_ids=[referral.id],
                organisation=organisation_id,
                key=self.keyring.audit,
            )
            await db.commit()
        self.wake(queued)
        return Accepted(referral_id=referral_id, case_id=case_id, created=created)

    async def decline(self, principal: Principal, referral_id: uuid.UUID, reason: DeclineReason) -> None:
        """Decline with a reason; the referrer sees it as closed."""
        team_id, organisation_id = team_of(principal, (Role.SUPERVISOR,))
        async with self.sessions() as db:
            await begin_write(db)
            referral = await decidable(db, team_id, referral_id)
            referral.status, referral.decline_reason = "declined", reason
            referral.decided_at, referral.decided_by = utcnow(), principal.user_id
            await audit.append(
                db,
                action="referral.decline",
                outcome="ok",
                actor_id=principal.user_id,
                device_id=principal.device_id,
                record_ids=[referral.id],
                organisation=organisation_id,
                key=self.keyring.audit,
            )
            await db.commit()

    # --- the office's import ----------------------------------------------------------------------------

    async def import_rows(self, principal: Principal, rows: Sequence[tuple[int, ReferralFields]]) -> dict[str, Any]:
        """Hand over every row at once (a file already checked whole): a tenancy already handed over and not
        settled, or repeated in the file, is a repeat and creates nothing; returns what was created and the
        repeats with their lines."""
        team_id, organisation_id = team_of(principal, (Role.SUPERVISOR,))
        async with self.sessions() as db:
            await begin_write(db)
            await clock.lock(db, organisation_id)
            tokens = {line: contract_token(self.keyring.index, organisation_id, f.contract_number) for line, f in rows}
            earlier = await open_with_token(db, organisation_id, [t for t in tokens.values() if t])
            seen: set[bytes] = set(earlier)
            created: list[uuid.UUID] = []
            repeats: list[int] = []
            for line, fields in rows:
                token = tokens[line]
                if token is not None and token in seen:
                    repeats.append(line)
                    continue
                if token is not None:
                    seen.add(token)
                created.append((await self.store(db, principal, team_id, organisation_id, fields, token, "csv")).id)
            if created:
                await audit.append(
                    db,
                    action="referral.import",
                    outcome="ok",
                    actor_id=principal.user_id,
                    device_id=principal.device_id,
                    record_ids=created,
                    organisation=organisation_id,
                    key=self.keyring.audit,
                )
            await db.commit()
        return {"created": len(created), "repeats": repeats, "ids": created}

    def wake(self, queued: int) -> None:
        if queued and self.on_queued is not None:
            self.on_queued()
