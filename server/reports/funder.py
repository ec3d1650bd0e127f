"""The figures a funder asks for beyond the board's: intake by case type and by trigger, referrals by service,
counselling time, money mobilised by legal basis (one-off and monthly apart), and sustainability: whether the
households whose tenancy was kept still held it 6 and 12 months after closing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.records.enquiries import count_enquiries
from server.records.models import Record
from server.records.store import RecordStore
from server.reports.periods import day_of
from server.reports.schema import FunderFigures

__all__ = ["funder_figures"]


async def funder_figures(
    db: AsyncSession,
    store: RecordStore,
    cases: Mapping[uuid.UUID, dict[str, Any] | None],
    *,
    team_ids: list[uuid.UUID],
    start: dt.date,
    end: dt.date,
    since: dt.datetime,
    until: dt.datetime,
) -> FunderFigures:
    """Counted from the team's ``cases`` (decrypted fields) and their referrals, contacts and granted applications
    in ``start``..``end`` (``since``..``until`` as moments)."""
    case_ids = list(cases)
    by_type: Counter[str] = Counter()
    by_trigger: Counter[str] = Counter()
    for fields in cases.values():
        opened = None if fields is None else day_of(fields.get("opened_on")) or day_of(fields.get("first_contact_on"))
        if fields is None or opened is None or not start <= opened <= end:
            continue
        by_type[str(fields.get("type"))] += 1
        by_trigger[str(fields.get("trigger") or "unknown")] += 1

    columns = (Record.id, Record.kind, Record.case_id, Record.schema_version, Record.blob)
    live = and_(Record.case_id.in_(case_ids), Record.deleted.is_(False))
    contacts = (
        (
            await db.execute(
                select(*columns).where(live, Record.kind == "contact", Record.at >= since, Record.at < until)
            )
        )
        .mappings()
        .all()
    )
    minutes = timed = 0
    for fields in await store.decrypt_fields(contacts):
        if fields is not None and fields.get("duration_minutes"):
            minutes += int(fields["duration_minutes"])
            timed += 1

    others = (
        (
            await db.execute(
                select(*columns).where(
                    live,
                    Record.kind.in_(("referral", "benefit_application", "action")),
                )
            )
        )
        .mappings()
        .all()
    )
    referrals: Counter[str] = Counter()
    follow_ups: dict[str, Counter[str]] = {"tenancy_6m": Counter(), "tenancy_12m": Counter()}
    one_off: Counter[str] = Counter()
    monthly: Counter[str] = Counter()
    for row, fields in zip(others, await store.decrypt_fields(others), strict=True):
        if fields is None:
            continue
        if row["kind"] == "action":
            due = day_of(fields.get("due_on"))
            asked = fields.get("follow_up")
            if asked in follow_ups and due is not None and start <= due <= end and fields.get("status") != "cancelled":
                follow_ups[asked][str(fields.get("tenancy_held") or "open")] += 1
            continue
        if row["kind"] == "referral":
            if (sent := day_of(fields.get("sent_on"))) is not None and start <= sent <= end:
                referrals[" ".join(str(fields.get("service") or "").split())] += 1
            continue
        decided = day_of(fields.get("decided_on"))
        if (
            fields.get("decision") not in ("granted", "partly_granted")
            or decided is None
            or not start <= decided <= end
        ):
            continue
        basis = str(fields.get("legal_basis") or "unknown")
        (monthly if fields.get("period") == "monthly" else one_off)[basis] += int(fields.get("amount_cents") or 0)
    return FunderFigures(
        enquiries=await count_enquiries(db, team_ids, start, end),
        intake_by_type=dict(by_type.most_common()),
        intake_by_trigger=dict(by_trigger.most_common()),
        referrals_by_service=dict(sorted(referrals.items(), key=lambda item: (-item[1], item[0]))),
        counselling_minutes=minutes,
        timed_contacts=timed,
        one_off_by_basis=dict(one_off.most_common()),
        monthly_by_basis=dict(monthly.most_common()),
        follow_ups={
            asked: {answer: answers[answer] for answer in ("yes", "no", "unknown", "open")}
            for asked, answers in follow_ups.items()
        },
    )
