"""The scope feed (migrations 0024 and 0025) as the triggers must keep it, checked against scope and records."""

from __future__ import annotations

from sqlalchemy import case, select

from server.db import create_engine
from server.records.models import Record, ScopeMember, SyncFeed

__all__ = ["assert_feed_kept"]


async def assert_feed_kept(url: str) -> None:
    """The feed holds an entry for every record of every case in a subject's scope, at ``max(version,
    entered_seq)``, and no other, whatever wrote the records and the scope."""
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            columns = (SyncFeed.subject, SyncFeed.record_id, SyncFeed.position, SyncFeed.entered_seq)
            kept = set(map(tuple, (await db.execute(select(*columns))).all()))
            position = case((ScopeMember.entered_seq > Record.version, ScopeMember.entered_seq), else_=Record.version)
            made = select(ScopeMember.subject, Record.id, position, ScopeMember.entered_seq).join(
                Record, Record.case_id == ScopeMember.case_id
            )
            expected = set(map(tuple, (await db.execute(made)).all()))
    finally:
        await engine.dispose()
    assert kept, "the feed is empty"
    assert kept == expected, {"not made": kept - expected, "missing": expected - kept}
