"""Assignment-to-dispatch latency of Web Push: 1,000 visit assignments against the local push service.

A supervisor assigns visits one request at a time (as the office screen does) to 10 workers with one subscribed
tablet each; the latency of a message is from the moment its assignment request is sent to the moment the local
push service has verified and decrypted it. The baseline, in the same run, sends the same number of messages
straight through pywebpush to the same push service (no request, no queue, no database).

    .venv/bin/python -m bench.push [--assignments 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import msgspec

from bench.report import print_table, write_section
from bench.sync import login, pct, prepare, scratch_database
from server.app import create_app
from server.plugin import service_of
from server.push.sender import send
from server.push.service import PushService
from tests.support.app import client_from, running
from tests.support.pushservice import LocalPushService
from tests.support.syncing import Device

WORKERS = 10


async def run_backend(name: str, url: str, tmp: str, assignments: int, pace: float | None) -> dict[str, float]:
    settings, users = await prepare(url, tmp)
    settings = msgspec.structs.replace(settings, push_allow_loopback=True, push_poll_seconds=1.0)
    app = create_app(settings)
    async with running(app):
        push = service_of(app, PushService)
        service = LocalPushService(push.keys.public_key)
        await service.start()
        try:
            tokens: dict[str, uuid.UUID] = {}
            for i in range(WORKERS):
                async with client_from(app) as client:
                    await login(client, f"worker{i}")
                    subscriber = service.subscriber()
                    response = await client.post("/api/push/subscriptions", json=subscriber.subscription())
                    response.raise_for_status()
                    tokens[subscriber.token] = users[f"worker{i}"]
            async with client_from(app) as client:
                office = Device(client, await login(client, "supervisor"))
                case_id = str(uuid.uuid4())
                fields = {
                    "team_id": str(users["team"]),
                    "assigned_worker_id": None,
                    "type": "rent_arrears",
                    "status": "open",
                    "risk": "high",
                    "title": "Mietrückstand Beispiel",
                }
                await office.push(office.put("case", case_id, case_id, fields))
                sent_at: dict[str, float] = {}
                started = time.perf_counter()
                for n in range(assignments):
                    visit_id = str(uuid.uuid4())
                    worker = users[f"worker{n % WORKERS}"]
                    sent_at[visit_id] = time.perf_counter()
                    visit = {"planned_at": "2027-01-04T09:30:00+01:00", "status": "planned"}
                    await office.push(
                        office.put("visit", visit_id, case_id, {**visit, "assigned_worker_id": str(worker)})
                    )
                    if pace:  # a supervisor's pace rather than back to back
                        await asyncio.sleep(max(0.0, sent_at[visit_id] + 1 / pace - time.perf_counter()))
                deadline = time.perf_counter() + 120
                while len(service.delivered()) < assignments and time.perf_counter() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                elapsed = time.perf_counter() - started
            delivered = service.delivered()
            latencies = [d.at - sent_at[d.payload["id"]] for d in delivered]
            ok = all(d.payload == {"t": "visit_assigned", "id": d.payload["id"]} for d in delivered)
            wrong = sum(1 for d in delivered if tokens[d.token] is None)

            # Baseline: the same messages straight through pywebpush, no queue, no database.
            subscriber = service.subscriber()
            base_started = time.perf_counter()
            async with aiohttp.ClientSession() as http:
                for _ in range(assignments):
                    await send(
                        http,
                        push.keys,
                        endpoint=subscriber.endpoint,
                        p256dh=subscriber.p256dh,
                        auth=subscriber.subscription()["keys"]["auth"],
                        event="visit_assigned",
                        ref_id=uuid.uuid4(),
                        topic="bench",
                        subject=settings.push_subject,
                        ttl=3600,
                        urgency="high",
                        seconds=10,
                    )
            baseline = time.perf_counter() - base_started
        finally:
            await service.stop()
    return {
        "delivered": len(delivered),
        "assignments": assignments,
        "p50": pct(latencies, 0.5),
        "p95": pct(latencies, 0.95),
        "max": max(latencies),
        "mean": statistics.mean(latencies),
        "rate": len(delivered) / elapsed,
        "baseline_rate": assignments / baseline,
        "payload_ok": float(ok and wrong == 0),
        "rejected": len(service.rejected),
    }


async def main_async(assignments: int) -> None:
    results: list[tuple[str, dict[str, float]]] = []
    runs = [("back to back", None), ("10 per second", 10.0)]
    for label, pace in runs:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}"
            results.append((f"SQLite, {label}", await run_backend("SQLite", sqlite, tmp, assignments, pace)))
    server_url = os.environ.get("DOORSTEP_TEST_DATABASE_URL")
    for label, pace in runs if server_url else []:
        assert server_url is not None
        url = await scratch_database(server_url, "bench_push")
        with tempfile.TemporaryDirectory() as tmp:
            results.append((f"PostgreSQL, {label}", await run_backend("PostgreSQL", url, tmp, assignments, pace)))
    headers = ["measure", *(name for name, _ in results)]
    rows = [
        ["assignments / messages delivered", *(f"{r['assignments']:,.0f} / {r['delivered']:,.0f}" for _, r in results)],
        ["assignment-to-dispatch latency p50", *(f"{r['p50'] * 1000:.0f} ms" for _, r in results)],
        ["assignment-to-dispatch latency p95", *(f"{r['p95'] * 1000:.0f} ms" for _, r in results)],
        ["latency max", *(f"{r['max'] * 1000:.0f} ms" for _, r in results)],
        ["messages/s through request, queue and dispatcher", *(f"{r['rate']:,.0f}" for _, r in results)],
        [
            "baseline: pywebpush straight to the push service, messages/s",
            *(f"{r['baseline_rate']:,.0f}" for _, r in results),
        ],
        ["payload exactly {t, id}, right subscriber", *("yes" if r["payload_ok"] else "NO" for _, r in results)],
        ["requests the push service refused", *(f"{r['rejected']:.0f}" for _, r in results)],
    ]
    table = print_table(headers, rows)
    write_section(
        "Web Push dispatch",
        "`python -m bench.push` (`make bench`): the app in process, a supervisor assigning visits one request at "
        f"a time to {WORKERS} workers with a subscribed tablet each; the local push service of the tests verifies "
        "the VAPID signature and decrypts every message. Latency runs from sending the assignment request to the "
        "decrypted message at the push service (the dispatcher is woken by the commit; its poll interval is 1 s). "
        "The baseline sends the same number of messages with pywebpush directly, one after another.\n\n" + table,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", type=int, default=1000)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(main_async(args.assignments))


if __name__ == "__main__":
    main()
