"""The court's notices of eviction lawsuits, entered by the office in a batch (or imported as CSV): each becomes a
case in "Erstanschreiben" with the notice's legal events, so the provisional Schonfrist (Germany) or the reminder of
§ 33 Abs. 2 MRG (Austria) shows at once; a household with an open case gets the notice on that case instead. The
batch is taken whole or not at all, and a notice entered before (the same court and Aktenzeichen) creates nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence

import msgspec

from server import audit
from server.auth.models import Role
from server.auth.schemas import Principal
from server.db import begin_write, utcnow
from server.intake.becomes import court_records, court_steps
from server.intake.fields import CourtNotice
from server.intake.rules import check_worker, duplicates, open_with_token, team_of
from server.intake.service import Intake
from server.push import CASE_ASSIGNED, enqueue
from server.records import blind, clock
from server.records.bulk import BulkItem, write_all
from server.records.calendar import region_of
from server.records.store import RecordStore

__all__ = ["NoticeResult", "enter_notices", "notice_token"]


class NoticeResult(msgspec.Struct, kw_only=True, frozen=True):
    """What became of one notice: its case (new, or the household's open case), or a repeat of one entered before."""

    index: int
    case_id: uuid.UUID | None
    created: bool
    repeat: bool


def notice_token(key: bytes, organisation_id: uuid.UUID, notice: CourtNotice) -> bytes:
    """A keyed hash of the court and its reference: the same notice entered twice is known without either in
    clear."""
    court = " ".join(notice.court.split()).upper()
    reference = "".join(notice.reference.split()).upper()
    return hmac.new(key, f"court|{organisation_id}|{court}|{reference}".encode(), hashlib.sha256).digest()


async def enter_notices(
    intake: Intake, principal: Principal, notices: Sequence[CourtNotice], worker_id: uuid.UUID | None
) -> list[NoticeResult]:
    """Enter ``notices`` for the caller's team, every one or none; ``worker_id`` is responsible for the new cases
    (and gets a push message for each)."""
    team_id, organisation_id = team_of(principal, (Role.SUPERVISOR,))
    results: list[NoticeResult] = []
    async with intake.sessions() as db:
        await begin_write(db)
        await clock.lock(db, organisation_id)
        if worker_id is not None:
            await check_worker(db, team_id, worker_id)
        country = (await region_of(db, organisation_id)).country
        tokens = [notice_token(intake.keyring.index, organisation_id, notice) for notice in notices]
        seen = set(await open_with_token(db, organisation_id, tokens))
        items: list[BulkItem] = []
        created: list[uuid.UUID] = []
        for index, (notice, token) in enumerate(zip(notices, tokens, strict=True)):
            if token in seen:
                results.append(NoticeResult(index=index, case_id=None, created=False, repeat=True))
                continue
            seen.add(token)
            told = notice.as_referral()
            referral = await intake.store(db, principal, team_id, organisation_id, told, token, "court")
            matches = await duplicates(db, intake.keyring.index, team_id, told)
            if matches:
                case_id = matches[0].case_id
                items += court_steps(case_id, notice, country)
            else:
                case_id = referral.id
                records = court_records(
                    case_id, team_id, worker_id, notice, referral.received_at, intake.time_zone, country
                )
                items += records
                household = next(item for item in records if item[0] == "household")
                # Indexed at once: a second notice for the same household in this batch finds this case.
                await blind.reindex(db, intake.keyring.index, {household[1]: (case_id, household[3])})
                await db.flush()
                created.append(case_id)
            referral.status, referral.case_id = "accepted", case_id
            referral.decided_at, referral.decided_by = utcnow(), principal.user_id
            results.append(NoticeResult(index=index, case_id=case_id, created=not matches, repeat=False))
        if items:
            await write_all(RecordStore(db, intake.keyring), organisation_id, items, actor=principal.user_id)
            await audit.append(
                db,
                action="court_notice.enter",
                outcome="ok",
                actor_id=principal.user_id,
                device_id=principal.device_id,
                record_ids=[r.case_id for r in results if r.case_id is not None],
                organisation=organisation_id,
                key=intake.keyring.audit,
            )
        queued = await enqueue(db, [(worker_id, CASE_ASSIGNED, case_id) for case_id in created]) if worker_id else 0
        await db.commit()
    intake.wake(queued)
    return results
