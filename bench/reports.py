"""The board report for a year of a 2,000-case organisation, against reading the same rows raw.

Seeds one team with 2,000 cases over a year (each with a household, 12 contacts, 3 visits, a benefit application,
every third an installment agreement, every twentieth a mediation, and notes), then times the report (decryption
of cases, granted applications, mediations and agreements; contacts counted from their clear columns; the audit
entry) against a raw ``SELECT`` of every row the report reads.

    .venv/bin/python -m bench.reports [--cases 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select

from bench.report import print_table, write_section
from bench.sync import prepare, scratch_database, write_cases
from server.auth.models import Role
from server.auth.schemas import Principal
from server.auth.service import create_team
from server.db import create_engine, session_factory, utcnow
from server.demo.dating import date_history
from server.records.bulk import BulkItem
from server.records.keyring import Keyring
from server.records.models import Record
from server.reports.organisation import organisation_report
from server.reports.service import team_report

YEAR = 2025
FINDINGS = (
    "Where the management's report spends its time (profiled on SQLite, 10,000 cases): reading and decrypting the "
    "cases, their history and their data keys takes about 1.6 s (SQLAlchemy's row processing and UUID conversion, "
    "AES-GCM and the AES key unwrap, each per row); counting every team for both years about 0.5 s. The contacts are "
    "counted by the database (their channel, moment and duration are clear columns) on a second connection while "
    "the cases are decrypted. Before, the report decrypted every contact and read the same rows twelve times: "
    "25.4 s."
)
OUTCOMES = ["secured", "secured_installment", "secured_benefit", "moved_affordable", "lost_housed", "lost_homeless"]
CHANNELS = ["phone", "email", "sms", "letter", "in_person", "home_visit"]


def _day(rng: random.Random) -> dt.date:
    return dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))


def case_items(rng: random.Random, team: uuid.UUID, worker: uuid.UUID) -> list[BulkItem]:
    case_id = uuid.uuid4()
    opened = _day(rng)
    fields: dict[str, Any] = {
        "team_id": str(team),
        "assigned_worker_id": str(worker),
        "type": rng.choice(["rent_arrears", "energy_debt", "psychosocial", "neighbour_conflict"]),
        "status": "open",
        "risk": rng.choice(["low", "medium", "high", "acute"]),
        "title": "Mietrückstand Beispiel",
        "opened_on": opened.isoformat(),
    }
    if rng.random() < 0.6:
        closed = min(opened + dt.timedelta(days=rng.randrange(20, 200)), dt.date(YEAR, 12, 31))
        fields.update(status="closed", closed_on=closed.isoformat(), outcome=rng.choice(OUTCOMES))
    items: list[BulkItem] = [("case", case_id, case_id, fields)]
    items.append(("household", uuid.uuid4(), case_id, {"name": "Haushalt Beispiel"}))
    for _ in range(12):
        at = dt.datetime.combine(_day(rng), dt.time(10), tzinfo=dt.UTC).isoformat()
        items.append(
            ("contact", uuid.uuid4(), case_id, {"channel": rng.choice(CHANNELS), "at": at, "summary": "Rückruf"})
        )
    for _ in range(3):
        at = dt.datetime.combine(_day(rng), dt.time(9), tzinfo=dt.UTC).isoformat()
        items.append(("visit", uuid.uuid4(), case_id, {"planned_at": at, "status": "done", "visited_at": at}))
        items.append(
            ("note", uuid.uuid4(), case_id, {"text": "Hausbesuch, Unterlagen gesichtet. " * 10, "visit_id": None})
        )
    decided = _day(rng)
    items.append(
        (
            "benefit_application",
            uuid.uuid4(),
            case_id,
            {
                "kind": rng.choice(["wohngeld", "debt_takeover_loan", "debt_takeover_grant", "wohnschirm_rent"]),
                "decision": rng.choice(["granted", "partly_granted", "refused", "pending"]),
                "submitted_on": (decided - dt.timedelta(days=30)).isoformat(),
                "decided_on": decided.isoformat(),
                "amount_cents": rng.randrange(10_000, 300_000),
                "form": rng.choice(["grant", "loan"]),
            },
        )
    )
    if rng.random() < 0.33:
        start = _day(rng)
        items.append(
            (
                "installment_agreement",
                uuid.uuid4(),
                case_id,
                {
                    "creditor": "landlord",
                    "total_cents": 120_000,
                    "monthly_rate_cents": 10_000,
                    "start_on": start.isoformat(),
                },
            )
        )
    if rng.random() < 0.05:
        sessions = [{"on": _day(rng).isoformat(), "outcome": "Gespräch"}]
        parties = [str(case_id), str(uuid.uuid4())]
        items.append(("mediation", uuid.uuid4(), case_id, {"party_case_ids": parties, "sessions": sessions}))
    return items


async def seed(url: str, tmp: str, cases: int, teams: int = 1) -> tuple[Any, Principal, int]:
    """``cases`` cases in each of ``teams`` teams (Team Nord and ``teams - 1`` more)."""
    settings, users = await prepare(url, tmp)
    engine = create_engine(url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    team_ids = [users["team"]] + [
        (await create_team(session_factory(engine), f"Team {i}")).id for i in range(2, teams + 1)
    ]
    rng = random.Random(2025)
    written = 0
    for chunk in range(0, cases * teams, 100):
        team = team_ids[chunk // cases]
        part = [case_items(rng, team, users["worker1"]) for _ in range(min(100, cases * teams - chunk))]
        items = [item for group in part for item in group]
        async with session_factory(engine)() as db:
            await write_cases(db, keyring, items)
            await date_history(db, items)  # as a year of use leaves it: each change recorded on its day
            await db.commit()
        written += len(items)
    await engine.dispose()
    principal = Principal(
        user_id=users["supervisor"],
        username="supervisor",
        display_name="supervisor",
        device_id=uuid.uuid4(),
        role=Role.SUPERVISOR,
        team_id=users["team"],
        session_id=uuid.uuid4(),
        csrf_token="",
    )
    return settings, principal, written


async def run(cases: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'reports.db'}"
        settings, principal, written = await seed(url, tmp, cases)
        engine = create_engine(url)
        keyring = Keyring(settings)
        await keyring.load(engine)
        sessions = session_factory(engine)
        start, end = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
        times, raws = [], []
        report = None
        for _ in range(3):
            began = time.perf_counter()
            report = await team_report(
                sessions, keyring, principal, start=start, end=end, time_zone="Europe/Berlin", now=utcnow()
            )
            times.append(time.perf_counter() - began)
            began = time.perf_counter()
            async with sessions() as db:
                kinds = ("case", "contact", "benefit_application", "installment_agreement", "mediation")
                rows = (
                    await db.execute(
                        select(Record.id, Record.status, Record.at, Record.blob).where(Record.kind.in_(kinds))
                    )
                ).all()
            raws.append(time.perf_counter() - began)
        await engine.dispose()
    assert report is not None
    return {
        "records": written,
        "cases": cases,
        "read_rows": len(rows),
        "report": min(times),
        "report_median": statistics.median(times),
        "raw": min(raws),
        "households": report.households_supported,
        "closed": report.closed_cases,
        "contacts": report.contacts_total,
    }


async def run_organisation(cases: int, teams: int, server_url: str | None = None) -> dict[str, float]:
    """The management's report (every team and the total, each beside the year before) over ``teams`` teams, on
    SQLite or, with ``server_url``, on a new database of that PostgreSQL server."""
    with tempfile.TemporaryDirectory() as tmp:
        if server_url:
            url = await scratch_database(server_url, "reports")
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'organisation.db'}"
        settings, supervisor, written = await seed(url, tmp, cases, teams)
        principal = msgspec.structs.replace(supervisor, role=Role.MANAGER)
        engine = create_engine(url)
        keyring = Keyring(settings)
        await keyring.load(engine)
        sessions = session_factory(engine)
        times, raws = [], []
        for _ in range(2):
            began = time.perf_counter()
            await organisation_report(
                sessions,
                keyring,
                principal,
                start=dt.date(YEAR, 1, 1),
                end=dt.date(YEAR, 12, 31),
                time_zone="Europe/Berlin",
            )
            times.append(time.perf_counter() - began)
            began = time.perf_counter()
            async with sessions() as db:
                rows = (await db.execute(select(Record.id, Record.status, Record.at, Record.blob))).all()
            raws.append(time.perf_counter() - began)
        await engine.dispose()
    return {"records": written, "cases": cases * teams, "report": min(times), "raw": min(raws), "rows": len(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=5, help="teams of --cases cases each for the management's report")
    args = parser.parse_args()
    r = asyncio.run(run(args.cases))
    o = asyncio.run(run_organisation(args.cases, args.teams))
    server_url = os.environ.get("DOORSTEP_TEST_DATABASE_URL")
    pg = asyncio.run(run_organisation(args.cases, args.teams, server_url)) if server_url else None
    rows = [
        ["cases / records in the database", f"{r['cases']:,} / {r['records']:,}", ""],
        ["report for the year (best of 3)", f"{r['report']:.2f} s", "< 2 s"],
        ["report, median of 3", f"{r['report_median']:.2f} s", ""],
        [f"baseline: raw SELECT of the {r['read_rows']:,} rows it reads", f"{r['raw']:.2f} s", ""],
        ["report / raw select", f"{r['report'] / r['raw']:.1f}x", ""],
        ["households supported / closed / contacts", f"{r['households']:,} / {r['closed']:,} / {r['contacts']:,}", ""],
        [f"organisation: {args.teams} teams, cases / records", f"{o['cases']:,} / {o['records']:,}", ""],
        ["organisation report: every team and the total, each beside the year before", f"{o['report']:.2f} s", "< 2 s"],
        [f"baseline: raw SELECT of all {o['rows']:,} rows", f"{o['raw']:.2f} s", ""],
        ["organisation report / raw select", f"{o['report'] / o['raw']:.1f}x", ""],
    ]
    if pg:
        rows += [
            ["organisation report on PostgreSQL", f"{pg['report']:.2f} s", "< 2 s"],
            [f"baseline on PostgreSQL: raw SELECT of all {pg['rows']:,} rows", f"{pg['raw']:.2f} s", ""],
        ]
    table = print_table(["measure", "SQLite", "target"], rows)
    write_section(
        "Reports",
        "`python -m bench.reports` (`make bench`): one team with 2,000 cases over a year (a household, 12 contacts, "
        "3 visits with notes, a benefit application each; every third an installment agreement, every twentieth a "
        "mediation), report computed in process including decryption and the audit entry, compared with a raw "
        "SELECT of the rows of the kinds it reads. Then the management's report over five such teams (10,000 cases): "
        "each team and the total, for the year and the year before, against a raw SELECT of every row; on SQLite, "
        "and on PostgreSQL when `DOORSTEP_TEST_DATABASE_URL` names a server (`make bench` starts one).\n\n"
        + table
        + "\n\n"
        + FINDINGS,
    )


if __name__ == "__main__":
    main()
