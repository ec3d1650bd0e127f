"""Records written at once (the demo, a benchmark's seed) get a history dated as if each change had been recorded
on its day: a case's opening or closing on that day, last year's assessments' arrears at intake on the opening
day. Without it every case would read as recorded today, and last year's report would name every closure as a
correction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.demo.past import Intake
from server.records import history
from server.records.bulk import BulkItem
from server.records.models import CaseHistory, Record
from server.records.store import RecordStore

__all__ = ["arrears_at_intake", "date_history"]


async def arrears_at_intake(store: RecordStore, intake: Intake, seq: int) -> None:
    """Last year's assessments were written as they stood at closing; this adds what they had recorded at intake,
    dated on the opening day, as a year of work would have left it."""
    keys = await store.data_keys(intake)
    for case_id, (opened, cents) in intake.items():
        entry = history.entry(keys[case_id], case_id=case_id, team_id=None, seq=seq, state={history.ARREARS: cents})
        entry.recorded_at = dt.datetime.combine(opened, dt.time(12), tzinfo=dt.UTC)
        store.db.add(entry)


async def date_history(db: AsyncSession, items: Sequence[BulkItem]) -> None:
    """Cases written at once (the demo, a benchmark's seed) get a history that says when each was opened or closed,
    as if it had been recorded on that day, so that last year's report has no "corrections"; a closed case's
    closure counts as approved on its closing day, from which its retention period runs."""
    for kind, _, case_id, fields in items:
        if kind != "case":
            continue
        day = fields.get("closed_on") or fields.get("opened_on")
        if day:
            moment = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12), tzinfo=dt.UTC)
            await db.execute(update(CaseHistory).where(CaseHistory.case_id == case_id).values(recorded_at=moment))
        if fields.get("status") == "closed" and fields.get("closed_on"):
            approved = dt.datetime.combine(dt.date.fromisoformat(fields["closed_on"]), dt.time(12), tzinfo=dt.UTC)
            await db.execute(update(Record).where(Record.id == case_id, Record.kind == "case").values(at=approved))
