"""Sync throughput, bootstrap, concurrency, and a peer (Kinto) on the same machine in one run.

Measures on SQLite and, when ``DOORSTEP_TEST_DATABASE_URL`` names a PostgreSQL server (``make bench`` starts a
throwaway one), on PostgreSQL too:

* push throughput: batches of 500 one-kilobyte notes through ``POST /api/sync/push`` (in process, no network),
  beside the raw SQLAlchemy Core ``executemany`` rate of the same rows into a table of the records' shape;
* bootstrap: a worker with 500 cases (about 20,000 records) pulls from an empty cursor (best of three), then
  the empty delta pull and a delta pull of 10 new notes, beside the same delta pull in a scope of 10 cases
  (server-side times, in process); then the bootstrap once more from a served uvicorn process over loopback,
  as the peer's pull is measured;
* 100 devices pushing and pulling at once against one uvicorn process: errors and latency percentiles;
* the same push and pull workload against Kinto (PostgreSQL backend, its ``/batch`` endpoint), installed by
  this script into ``bench/.kinto-venv``: our rate divided by Kinto's.

    .venv/bin/python -m bench.sync [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bench.baseline import records_shaped_table
from bench.report import print_table, write_section
from server.app import create_app
from server.auth.models import Organisation, Role, User
from server.auth.passwords import hash_password_sync
from server.auth.service import create_team
from server.collector import tune_collector
from server.db import begin_write, create_engine, migrate, session_factory, utcnow
from server.records.bulk import BulkItem, write_all
from server.records.keyring import Keyring
from server.records.store import RecordStore
from server.settings import Settings
from tests.support.app import running
from tests.support.live import LiveServer, free_port

PASSWORD = "bench password 2026"
BATCH = 500
# Twice the 86 rounds/s (172 requests/s) two processes served when the issue of a round's cost was filed.
TARGET_RPS = 172.0
NOTE = ("Hausbesuch: Kontoauszüge gesichtet, Ratenzahlung mit der Vermieterin besprochen. " * 14)[:1000]
KINTO_VENV = Path(__file__).resolve().parent / ".kinto-venv"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def prepare(url: str, data_dir: str) -> tuple[Settings, dict[str, uuid.UUID]]:
    engine = create_engine(url)
    await migrate(engine)
    sessions = session_factory(engine)
    team = await create_team(sessions, "Team Nord")
    hashed = hash_password_sync(PASSWORD)
    users: dict[str, uuid.UUID] = {"team": team.id}
    async with sessions() as db:
        for name, role in [("supervisor", Role.SUPERVISOR), *((f"worker{i}", Role.WORKER) for i in range(101))]:
            user = User(username=name, display_name=name, role=role, team_id=team.id, password_hash=hashed)
            db.add(user)
            await db.flush()
            users[name] = user.id
        await db.commit()
    await engine.dispose()
    settings = Settings(data_dir=data_dir, database_url=url, environment="test", housekeeping_interval_seconds=0)
    return settings, users


async def write_cases(db: AsyncSession, keyring: Keyring, items: list[BulkItem]) -> None:
    """Write ``items`` through the store in one transaction, with their cases' scope (the demo's bulk writer)."""
    await begin_write(db)
    organisation = await db.scalar(select(Organisation.id).limit(1))
    await write_all(RecordStore(db, keyring), organisation, items)
    await db.commit()


async def seed_caseload(
    settings: Settings, worker: uuid.UUID, team: uuid.UUID, cases: int, planned: bool = False
) -> tuple[int, list[uuid.UUID]]:
    """``cases`` cases of 40 records each for ``worker``, written through the store; with ``planned`` one visit
    of each case, on one of the next ten days, is planned and assigned to the worker (the tablet's visit list)."""
    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    now = utcnow()
    case_ids = [uuid.uuid4() for _ in range(cases)]
    written = 0
    for chunk in range(0, cases, 50):
        part = case_ids[chunk : chunk + 50]
        items: list[BulkItem] = []
        for position, case_id in enumerate(part):
            items.append(
                (
                    "case",
                    case_id,
                    case_id,
                    {
                        "team_id": str(team),
                        "assigned_worker_id": str(worker),
                        "type": "rent_arrears",
                        "status": "open",
                        "risk": "high",
                        "title": "Mietrückstand Beispiel",
                    },
                )
            )
            items.append(("household", uuid.uuid4(), case_id, {"name": "Haushalt Beispiel"}))
            for i in range(10):
                at = (now + dt.timedelta(days=i)).isoformat()
                visit: dict[str, Any] = {"status": "done", "planned_at": at}
                if planned and i == position % 10:  # spread over the next ten days
                    visit = {"status": "planned", "planned_at": at, "assigned_worker_id": str(worker)}
                items.append(("visit", uuid.uuid4(), case_id, visit))
                items.append(("note", uuid.uuid4(), case_id, {"text": NOTE, "visit_id": None}))
                items.append(("contact", uuid.uuid4(), case_id, {"channel": "phone", "at": at, "summary": NOTE[:300]}))
            for i in range(5):
                items.append(
                    (
                        "action",
                        uuid.uuid4(),
                        case_id,
                        {"title": "Antrag stellen", "due_on": "2027-01-0" + str(i + 1)},
                    )
                )
            for i in range(3):
                items.append(
                    ("legal_event", uuid.uuid4(), case_id, {"type": "reminder", "dated_on": "2026-10-0" + str(i + 1)})
                )
        async with session_factory(engine)() as db:
            await write_cases(db, keyring, items)
        written += len(items)
    await engine.dispose()
    return written, case_ids


async def login(client: httpx.AsyncClient, username: str) -> dict[str, Any]:
    response = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return body


def note_batch(device: dict[str, Any], case_ids: list[uuid.UUID], count: int) -> list[dict[str, Any]]:
    mutations = []
    for _ in range(count):
        device["mid"] += 1
        mutations.append(
            {
                "op": "put",
                "mid": device["mid"],
                "kind": "note",
                "id": str(uuid.uuid4()),
                "case_id": str(case_ids[device["mid"] % len(case_ids)]),
                "base_version": None,
                "fields": {"text": NOTE, "visit_id": None},
            }
        )
    return mutations


async def push_throughput(settings: Settings, case_ids: list[uuid.UUID], batches: int) -> float:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        body = await login(client, "worker0")
        device = {"mid": 0, "id": body["device_id"]}
        # Bodies are encoded before the clock starts: the figure is the server's, not the client's JSON encoder.
        payloads = [
            msgspec.json.encode({"device_id": device["id"], "mutations": note_batch(device, case_ids, BATCH)})
            for _ in range(batches)
        ]
        headers = {"content-type": "application/json"}
        start = time.perf_counter()
        for body in payloads:
            response = await client.post("/api/sync/push", content=body, headers=headers)
            response.raise_for_status()
        return batches * BATCH / (time.perf_counter() - start)


async def raw_insert_rate(url: str, rows: int, table: str = "bench_raw_sync") -> float:
    raw = records_shaped_table(table)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(raw.metadata.create_all)
    now = utcnow()
    start = time.perf_counter()
    for chunk in range(0, rows, BATCH):
        async with engine.begin() as connection:
            await connection.execute(
                insert(raw),
                [
                    {
                        "id": uuid.uuid4(),
                        "kind": "note",
                        "case_id": uuid.uuid4(),
                        "version": i,
                        "created_version": i,
                        "deleted": False,
                        "schema_version": 1,
                        "blob": NOTE.encode(),
                        "field_versions": {"text": i},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(chunk, min(rows, chunk + BATCH))
                ],
            )
    rate = rows / (time.perf_counter() - start)
    await engine.dispose()
    return rate


async def bootstrap(
    settings: Settings, worker: str, case_ids: list[uuid.UUID], *, served: bool = True
) -> dict[str, float]:
    """A bootstrap of ``worker``'s whole scope (the fastest of three) in process; then the median empty delta
    pull, and the median delta pull of 10 notes just pushed to the worker's ``case_ids`` (the push left out of
    the time). With ``served``, the same bootstrap against a served process over loopback, as the peer's pull is
    measured."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        body = await login(client, worker)
        in_process, count, cursor = await _fastest_bootstrap(client)
        empty = []
        for _ in range(200):
            t = time.perf_counter()
            page = (await client.get("/api/sync/pull", params={"cursor": cursor})).json()
            empty.append(time.perf_counter() - t)
            assert not page["changes"]
        device, delta = {"mid": 0, "id": body["device_id"]}, []
        for _ in range(50):
            pushed = {"device_id": device["id"], "mutations": note_batch(device, case_ids, 10)}
            (await client.post("/api/sync/push", json=pushed)).raise_for_status()
            t = time.perf_counter()
            page = (await client.get("/api/sync/pull", params={"cursor": cursor})).json()
            delta.append(time.perf_counter() - t)
            assert len(page["changes"]) == 10
            cursor = page["cursor"]
    result = {
        "bootstrap": in_process,
        "pulled": count,
        "empty_p50": statistics.median(empty),
        "delta_p50": statistics.median(delta),
    }
    if not served:
        return result
    server = LiveServer(Path(settings.data_dir), settings.resolved_database_url, name="bootstrap")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            await login(client, worker)
            seconds, records, _ = await _fastest_bootstrap(client)
    finally:
        server.stop()
    return result | {"served": seconds, "served_pulled": records}


async def _fastest_bootstrap(client: httpx.AsyncClient) -> tuple[float, int, str]:
    """The fastest of three bootstraps from an empty cursor, pages of 2,000: seconds, records, the last cursor."""
    totals, count, cursor = [], 0, ""
    for _ in range(3):  # best of three, as for the peer's pull
        cursor, count = "", 0
        start = time.perf_counter()
        while True:
            params: dict[str, Any] = {"limit": 2000} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/api/sync/pull", params=params)).json()
            count += len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        totals.append(time.perf_counter() - start)
    return min(totals), count, cursor


async def own_cases(settings: Settings, users: dict[str, uuid.UUID], devices: int) -> dict[str, list[uuid.UUID]]:
    """One case for each of the workers ``worker1`` .. ``worker<devices>``, assigned to them (their own caseload)."""
    engine = create_engine(settings.resolved_database_url)
    keyring = Keyring(settings)
    await keyring.load(engine)
    owned = {f"worker{i + 1}": [uuid.uuid4()] for i in range(devices)}
    items: list[BulkItem] = []
    for name, (case_id,) in owned.items():
        fields = {
            "team_id": str(users["team"]),
            "assigned_worker_id": str(users[name]),
            "type": "rent_arrears",
            "status": "open",
            "risk": "high",
            "title": "Mietrückstand Beispiel",
        }
        items += [("case", case_id, case_id, fields), ("household", uuid.uuid4(), case_id, {"name": "Haushalt"})]
    async with session_factory(engine)() as db:
        await write_cases(db, keyring, items)
    await engine.dispose()
    return owned


async def many_devices(
    settings: Settings,
    owned: dict[str, list[uuid.UUID]],
    devices: int,
    rounds: int,
    workers: int = 1,
    offered: float | None = None,
) -> dict[str, float]:
    """``devices`` workers at once, each pushing 10 notes to their own case and pulling, ``rounds`` times.

    Without ``offered``, each device starts its next round as soon as the last one ends: the server's most. With
    ``offered`` (requests per second, all devices together), each device starts its rounds on a schedule, the
    devices spread evenly, and a push's latency counts from the moment its round was due: a server that falls
    behind is charged for the wait, not only for the request it finally serves.
    """
    server = LiveServer(Path(settings.data_dir), settings.resolved_database_url, workers=workers)
    await server.start()
    latencies: list[float] = []
    errors = 0
    try:
        limits = httpx.Limits(max_connections=4)
        clients = [httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) for _ in range(devices)]
        names = [f"worker{i + 1}" for i in range(devices)]
        bodies = await asyncio.gather(*(login(c, name) for c, name in zip(clients, names, strict=True)))

        async def run_device(client: httpx.AsyncClient, body: dict[str, Any], case_ids: list[uuid.UUID]) -> None:
            nonlocal errors
            device = {"mid": 0, "id": body["device_id"]}
            cursor = None
            for round_number in range(rounds):
                due = None
                if offered is not None:
                    # Two requests a round: a device's rounds are devices * 2 / offered seconds apart.
                    period = devices * 2 / offered
                    due = start + period * (round_number + clients.index(client) / devices)
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                for request in ("push", "pull"):
                    t = time.perf_counter() if due is None or request == "pull" else due
                    try:
                        if request == "push":
                            response = await client.post(
                                "/api/sync/push",
                                json={"device_id": device["id"], "mutations": note_batch(device, case_ids, 10)},
                            )
                            # A note the server did not take counts as an error too.
                            if response.status_code == 200 and any(
                                r["status"] != "applied" for r in response.json()["results"]
                            ):
                                errors += 1
                        else:
                            response = await client.get("/api/sync/pull", params={"cursor": cursor} if cursor else {})
                            if response.status_code == 200:
                                cursor = response.json()["cursor"]
                        if response.status_code != 200:
                            errors += 1
                    except httpx.HTTPError:
                        errors += 1
                    latencies.append(time.perf_counter() - t)

        assert server.process is not None
        cpu_before = server_cpu(server.process.pid)
        start = time.perf_counter()
        await asyncio.gather(*(run_device(c, b, owned[n]) for c, b, n in zip(clients, bodies, names, strict=True)))
        elapsed = time.perf_counter() - start
        cpu = server_cpu(server.process.pid) - cpu_before
        for client in clients:
            await client.aclose()
    finally:
        server.stop()
    return {
        "errors": errors,
        "requests": len(latencies),
        "p50": pct(latencies, 0.5),
        "p95": pct(latencies, 0.95),
        "p99": pct(latencies, 0.99),
        "rps": len(latencies) / elapsed,
        # A round is one push and one pull of one device.
        "cpu_per_round": cpu / (devices * rounds),
    }


def server_cpu(pid: int) -> float:
    """CPU seconds (user and system) of the served process ``pid`` and its worker processes, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # After the command: state, ppid, ..., utime and stime are the 12th and 13th fields.
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


# --- Kinto, the peer --------------------------------------------------------------------------------------


def kinto_command() -> Path:
    """The ``kinto`` command of the peer's own virtual environment, installed on first use."""
    command = KINTO_VENV / "bin" / "kinto"
    if not command.exists():
        subprocess.run([sys.executable, "-m", "venv", str(KINTO_VENV)], check=True)
        python = KINTO_VENV / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", "kinto[postgresql]==26.5.0"], check=True)
    return command


async def kinto_peer(server_url: str, batches: int, tmp: str, records: int) -> dict[str, float]:
    """The same push (batches of 500 creates) and bootstrap pull against Kinto on PostgreSQL; before the pull,
    more creates (not timed) bring its collection to ``records``, the size of our bootstrap."""
    database = f"kinto_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{database}"'))
    await admin.dispose()
    url = make_url(server_url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)
    ini = Path(tmp) / "kinto.ini"
    port = free_port()
    ini.write_text(
        "[app:main]\nuse = egg:kinto\nkinto.storage_backend = kinto.core.storage.postgresql\n"
        f"kinto.storage_url = {url}\nkinto.cache_backend = kinto.core.cache.memory\n"
        f"kinto.permission_backend = kinto.core.permission.postgresql\nkinto.permission_url = {url}\n"
        "kinto.batch_max_requests = 500\nkinto.paginate_by = 2000\nkinto.storage_max_fetch_size = 10000\n"
        "multiauth.policies = basicauth\nkinto.bucket_create_principals = system.Authenticated\n"
        f"[server:main]\nuse = egg:waitress#main\nhost = 127.0.0.1\nport = {port}\n"
        "[loggers]\nkeys = root\n[handlers]\nkeys = console\n[formatters]\nkeys = generic\n"
        "[logger_root]\nlevel = WARN\nhandlers = console\n[handler_console]\nclass = StreamHandler\n"
        "args = (sys.stderr,)\nlevel = WARN\nformatter = generic\n[formatter_generic]\nformat = %(message)s\n"
    )
    kinto = kinto_command()
    subprocess.run([str(kinto), "migrate", "--ini", str(ini)], check=True, capture_output=True)
    process = subprocess.Popen(
        [str(kinto), "start", "--ini", str(ini)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        async with httpx.AsyncClient(base_url=base, auth=("bench", "bench"), timeout=120) as client:
            for _ in range(300):
                try:
                    if (await client.get("/")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            (await client.put("/buckets/b")).raise_for_status()
            (await client.put("/buckets/b/collections/notes")).raise_for_status()
            payloads = [
                {
                    "defaults": {"method": "POST", "path": "/buckets/b/collections/notes/records"},
                    "requests": [
                        {"body": {"data": {"text": NOTE, "case_id": str(uuid.uuid4()), "kind": "note"}}}
                        for _ in range(BATCH)
                    ],
                }
                for _ in range(batches)
            ]
            start = time.perf_counter()
            for payload in payloads:
                response = await client.post("/batch", json=payload)
                response.raise_for_status()
                assert all(r["status"] == 201 for r in response.json()["responses"])
            push_rate = batches * BATCH / (time.perf_counter() - start)
            for _ in range(batches, -(-records // BATCH)):  # up to the size of our bootstrap
                (await client.post("/batch", json=payloads[0])).raise_for_status()
            pull_rate = 0.0
            for _ in range(3):  # best of three, as for our bootstrap
                start = time.perf_counter()
                count, path = 0, "/buckets/b/collections/notes/records?_limit=2000&_sort=last_modified"
                while path:
                    response = await client.get(path)
                    response.raise_for_status()
                    count += len(response.json()["data"])
                    next_page = response.headers.get("Next-Page")
                    path = next_page.replace(base, "") if next_page else ""
                pull_rate = max(pull_rate, count / (time.perf_counter() - start))
    finally:
        process.terminate()
        process.wait(timeout=20)
    return {"push": push_rate, "pull": pull_rate, "pulled": count}


async def scratch_database(server_url: str, prefix: str) -> str:
    """A new, empty database on the PostgreSQL server of ``server_url``; its URL."""
    database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{database}"'))
    await admin.dispose()
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


async def run_backend(name: str, url: str, quick: bool, tmp: str) -> dict[str, Any]:
    settings, users = await prepare(url, tmp)
    batches = 4 if quick else 20
    cases = 50 if quick else 500
    written, big_scope = await seed_caseload(settings, users["worker100"], users["team"], cases)
    push_cases = (await seed_caseload(settings, users["worker0"], users["team"], 10))[1]
    result: dict[str, Any] = {"backend": name, "seeded": written, "cases": cases}
    # Best of three, alternating, for both: this machine's disk and CPU are shared and noisy.
    pushes, raws = [], []
    for attempt in range(3):
        pushes.append(await push_throughput(settings, push_cases, batches))
        raws.append(await raw_insert_rate(url, batches * BATCH, f"bench_raw_sync_{attempt}"))
    result["push"], result["raw"] = max(pushes), max(raws)
    result |= await bootstrap(settings, "worker100", big_scope)
    # The same delta pull in a scope of 10 cases: a delta pull should cost what it delivers, not the scope's size.
    result["small_delta_p50"] = (await bootstrap(settings, "worker0", push_cases, served=False))["delta_p50"]
    devices, rounds = (20, 3) if quick else (100, 5)
    owned = await own_cases(settings, users, devices)
    result["concurrency"] = await many_devices(settings, owned, devices, rounds)
    if name == "PostgreSQL":
        result["two_processes"] = await many_devices(settings, owned, devices, rounds, workers=2)
        # The rate of the target (twice the 86 rounds/s of the first measurement), offered on a schedule.
        result["two_offered"] = await many_devices(settings, owned, devices, 8, workers=2, offered=TARGET_RPS)
    return result


async def main_async(quick: bool) -> None:
    # A served process tunes its garbage collector once started (server/collector.py); so does this one, whose
    # in-process figures stand for a server's.
    tune_collector()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(await run_backend("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", quick, tmp))
    server_url = os.environ.get("DOORSTEP_TEST_DATABASE_URL")
    kinto: dict[str, float] | None = None
    if server_url:
        url = await scratch_database(server_url, "bench")
        with tempfile.TemporaryDirectory() as tmp:
            results.append(await run_backend("PostgreSQL", url, quick, tmp))
            kinto = await kinto_peer(server_url, 4 if quick else 20, tmp, results[-1]["served_pulled"])

    headers = ["measure", *(r["backend"] for r in results), "target"]
    rows = [
        ["push, mutations/s (batches of 500, 1 KB notes)", *(f"{r['push']:,.0f}" for r in results), ""],
        ["raw Core insert of the same rows, rows/s", *(f"{r['raw']:,.0f}" for r in results), ""],
        ["push / raw", *(f"{r['push'] / r['raw']:.0%}" for r in results), ">= 25 %"],
        ["bootstrap pull, records", *(f"{r['pulled']:,}" for r in results), "about 20,000"],
        ["bootstrap pull, server time (in process)", *(f"{r['bootstrap']:.2f} s" for r in results), "< 2 s"],
        ["bootstrap pull from a served process", *(f"{r['served']:.2f} s" for r in results), ""],
        ["empty delta pull, p50", *(f"{r['empty_p50'] * 1000:.1f} ms" for r in results), "< 5 ms"],
        ["delta pull of 10 new notes, p50 (10 cases)", *(f"{r['small_delta_p50'] * 1000:.1f} ms" for r in results), ""],
        [
            f"delta pull of 10 new notes, p50 ({results[0]['cases']} cases)",
            *(f"{r['delta_p50'] * 1000:.1f} ms" for r in results),
            "about the same",
        ],
    ]
    for key, label in (
        ("requests", "devices x rounds: requests"),
        ("errors", "errors"),
        ("p50", "latency p50"),
        ("p95", "latency p95"),
        ("p99", "latency p99"),
        ("rps", "requests/s"),
        ("cpu_per_round", "server CPU per round (push + pull, /proc)"),
    ):
        values = []
        for r in results:
            v = r["concurrency"][key]
            if key == "cpu_per_round":
                values.append(f"{v * 1000:.1f} ms")
            else:
                values.append(f"{v * 1000:.0f} ms" if key.startswith("p") else f"{v:,.0f}")
        target = {"errors": "0", "cpu_per_round": "<= 4 ms"}.get(key, "")
        rows.append([f"concurrent devices: {label}", *values, target])
    pg = results[-1]
    if "two_processes" in pg:
        two = pg["two_processes"]
        rows.append(["2 processes (PostgreSQL): errors", "", f"{two['errors']:,.0f}", "0"])
        rows.append(["2 processes (PostgreSQL): latency p99", "", f"{two['p99'] * 1000:.0f} ms", "< 1,000 ms"])
        rows.append(["2 processes (PostgreSQL): requests/s", "", f"{two['rps']:,.0f}", ">= 172 (2x 86)"])
        rows.append(["2 processes (PostgreSQL): server CPU per round", "", f"{two['cpu_per_round'] * 1000:.1f} ms", ""])
    if "two_offered" in pg:
        paced = pg["two_offered"]
        label = f"2 processes, {TARGET_RPS:.0f} requests/s offered on a schedule"
        rows.append([f"{label}: errors", "", f"{paced['errors']:,.0f}", "0"])
        rows.append([f"{label}: requests/s served", "", f"{paced['rps']:,.0f}", f"{TARGET_RPS:.0f}"])
        rows.append([f"{label}: latency p50", "", f"{paced['p50'] * 1000:.0f} ms", ""])
        rows.append([f"{label}: latency p99", "", f"{paced['p99'] * 1000:.0f} ms", "< 1,000 ms"])
    if kinto:
        rows.append(["Kinto /batch creates/s (PostgreSQL)", "", f"{kinto['push']:,.0f}", ""])
        rows.append(["push rate / Kinto's", "", f"{pg['push'] / kinto['push']:.1f}x", "a multiple"])
        rows.append(["Kinto pull, records/s", "", f"{kinto['pull']:,.0f}", ""])
        served = pg["served_pulled"] / pg["served"]
        rows.append(["bootstrap pull from a served process, records/s", "", f"{served:,.0f}", ""])
        rows.append(["bootstrap records/s / Kinto's", "", f"{served / kinto['pull']:.2f}x", ">= 1.5"])
    table = print_table(headers, rows)
    write_section(
        "Sync",
        "`python -m bench.sync` (`make bench`). Push and the pulls' server times run in process (no network) so "
        "they measure the server; the bootstrap is measured once more against a served uvicorn process over "
        "loopback, as the peer's pull is, and that rate is the one set against Kinto's. The concurrent devices "
        "run against one uvicorn process over loopback (20 simulated devices for "
        "`--quick`, otherwise 100, each pushing 10 notes to its worker's own case and pulling per round), and on "
        "PostgreSQL once more against "
        "`doorstep serve --workers 2`, first as fast as it answers, then with the 100 devices starting their "
        "rounds on a schedule that offers 172 requests/s in all (a push's latency counted from the moment its "
        "round was due). Kinto 26 runs from its own "
        "virtual environment with its PostgreSQL backend on the same PostgreSQL server; its push is `/batch` "
        "with 500 record creations, its pull pages through the collection (pulls: the best of three passes, for "
        "both).\n\n" + table,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers, for a smoke run")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(main_async(parser.parse_args().quick))


if __name__ == "__main__":
    main()
