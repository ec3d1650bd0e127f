"""Web Push: keys, subscriptions, and the dispatcher against a local push service that verifies and decrypts.

docs/security.md cases 14 to 18: refused endpoints, malformed keys as 422, a minimal payload, 410 and 429 handling, and
no push for another team's visit.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import os
import stat
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from server.app import create_app
from server.db import create_engine, session_factory
from server.plugin import service_of
from server.push import Dispatcher, PushJob, PushSubscription
from server.push.sender import Outcome, Sent
from server.push.service import PushService
from server.push.vapid import VAPID_FILE
from server.settings import Settings
from tests.support.accounts import Org, login
from tests.support.app import client_from, running
from tests.support.cases import case_fields
from tests.support.clock import TestClock
from tests.support.pushservice import LocalPushService, Subscriber
from tests.support.syncing import Device, new_id

pytestmark = pytest.mark.usefixtures("org")

CANARY = "Kanarienvogel-7Q9 Erika Musterfrau, Lindenweg 4"


def fast(settings: Settings, **extra: Any) -> Settings:
    """Test settings with the loopback push service allowed and short waits."""
    return msgspec.structs.replace(
        settings,
        push_allow_loopback=True,
        push_poll_seconds=0.05,
        push_backoff_seconds=0.05,
        push_backoff_cap_seconds=0.2,
        push_timeout_seconds=5.0,
        **extra,
    )


@asynccontextmanager
async def push_world(settings: Settings) -> AsyncIterator[tuple[Litestar, LocalPushService]]:
    app = create_app(settings)
    async with running(app):
        push = service_of(app, PushService)
        service = LocalPushService(push.keys.public_key)
        await service.start()
        try:
            yield app, service
        finally:
            await service.stop()


async def subscribed(app: Litestar, service: LocalPushService, username: str) -> tuple[httpx.AsyncClient, Subscriber]:
    client = client_from(app)
    await login(client, username)
    subscriber = service.subscriber()
    response = await client.post("/api/push/subscriptions", json=subscriber.subscription())
    assert response.status_code == 200, response.text
    return client, subscriber


async def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


async def supervisor_with_case(app: Litestar, org: Org, username: str = "supervisor") -> tuple[Device, str]:
    client = client_from(app)
    device = Device(client, await login(client, username))
    case_id = new_id()
    team = org.team_id if username == "supervisor" else org.other_team_id
    fields = {**case_fields(org, None, title=f"Mietrückstand {CANARY}"), "team_id": str(team)}
    results = await device.push(device.put("case", case_id, case_id, fields))
    assert results[0]["status"] == "applied", results
    return device, case_id


def assign(device: Device, case_id: str, worker: uuid.UUID | None, when: str = "2026-12-01T09:30:00+01:00") -> Any:
    return device.put(
        "visit",
        new_id(),
        case_id,
        {
            "planned_at": when,
            "status": "planned",
            "assigned_worker_id": str(worker) if worker else None,
            "purpose": CANARY,
        },
    )


async def jobs(settings: Settings) -> list[PushJob]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            return list((await db.scalars(select(PushJob).order_by(PushJob.created_at))).all())
    finally:
        await engine.dispose()


async def test_the_vapid_key_is_made_once_private_and_published(settings: Settings) -> None:
    settings = fast(settings)
    async with push_world(settings) as (app, _service), client_from(app) as client:
        await login(client, "worker1")
        first = (await client.get("/api/push/key")).json()["public_key"]
    key_file = Path(settings.data_dir) / "keys" / VAPID_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.urlsafe_b64decode(first + "==")) == 65
    async with push_world(settings) as (app, _service), client_from(app) as client:
        await login(client, "worker1")
        assert (await client.get("/api/push/key")).json()["public_key"] == first  # kept across restarts


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://localhost/push/abc",
        "https://127.0.0.1/push/abc",
        "https://10.1.2.3/push/abc",
        "https://192.168.0.10/push/abc",
        "https://[::1]/push/abc",
        "http://fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com:8443/fcm/send/abc",
        "https://push.evil.example/abc",
        "https://fcm.googleapis.com.evil.example/abc",
        "ftp://fcm.googleapis.com/abc",
        "https://user:pw@fcm.googleapis.com/abc",
        "not a url",
        # docs/security.md case 32: hosts that are no DNS names, though they end in an allowed suffix
        "https://127.0.0.1%2f.push.apple.com/abc",
        "https://a b.push.apple.com/abc",
        "https://-evil.push.apple.com/abc",
        "https://evil_.push.apple.com/abc",
    ],
)
async def test_endpoints_outside_the_allow_list_are_refused(settings: Settings, endpoint: str) -> None:
    # docs/security.md case 14; loopback is refused too, because these settings do not allow the test service.
    service = LocalPushService()
    body = {**service.subscriber().subscription(), "endpoint": endpoint}
    async with push_world(settings) as (app, _), client_from(app) as client:
        await login(client, "worker1")
        response = await client.post("/api/push/subscriptions", json=body)
    # 400 when the schema already refuses the text (spaces, control characters), 422 when the allow-list does.
    assert response.status_code == (400 if " " in endpoint else 422), response.text
    assert response.json()["field"] == "endpoint"
    assert response.json()["type"].endswith("/validation")


async def test_a_known_push_host_is_accepted_and_one_subscription_per_device_is_kept(settings: Settings) -> None:
    service = LocalPushService()
    async with push_world(settings) as (app, _), client_from(app) as client:
        await login(client, "worker1")
        for token in ("first", "second"):
            body = {**service.subscriber().subscription(), "endpoint": f"https://fcm.googleapis.com/fcm/send/{token}"}
            response = await client.post("/api/push/subscriptions", json=body)
            assert response.status_code == 200, response.text
            assert response.json() == {"active": True, "host": "fcm.googleapis.com"}
        mozilla = {
            **service.subscriber().subscription(),
            "endpoint": "https://updates.push.services.mozilla.com/wpush/v2/x",
        }
        assert (await client.post("/api/push/subscriptions", json=mozilla)).status_code == 200
        engine = create_engine(settings.resolved_database_url)
        async with session_factory(engine)() as db:
            assert await db.scalar(select(func.count()).select_from(PushSubscription)) == 1
        await engine.dispose()
        assert (await client.delete("/api/push/subscriptions")).status_code == 204
        assert (await client.get("/api/push/subscriptions")).json() == {"active": False, "host": None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"p256dh": "%%%not base64%%%"}, "keys.p256dh"),
        ({"p256dh": _b64(b"\x04" + b"\x01" * 63)}, "keys.p256dh"),  # 64 bytes
        ({"p256dh": _b64(b"\x02" + b"\x01" * 64)}, "keys.p256dh"),  # not uncompressed
        ({"p256dh": _b64(b"\x04" + b"\x01" * 64)}, "keys.p256dh"),  # not on the curve
        ({"auth": _b64(os.urandom(15))}, "keys.auth"),
        ({"auth": _b64(os.urandom(32))}, "keys.auth"),
        ({"auth": "@@"}, "keys.auth"),
    ],
)
async def test_malformed_keys_are_a_422_not_a_500(settings: Settings, keys: dict[str, str], field: str) -> None:
    # docs/security.md case 15
    body = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {**LocalPushService().subscriber().subscription()["keys"], **keys},
    }
    async with push_world(settings) as (app, _), client_from(app) as client:
        await login(client, "worker1")
        response = await client.post("/api/push/subscriptions", json=body)
        missing = await client.post("/api/push/subscriptions", json={"endpoint": body["endpoint"]})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert missing.status_code in (400, 422)


async def test_an_endpoint_cannot_be_bound_to_two_users(settings: Settings) -> None:
    body = {**LocalPushService().subscriber().subscription(), "endpoint": "https://fcm.googleapis.com/fcm/send/shared"}
    async with push_world(settings) as (app, _), client_from(app) as one, client_from(app) as two:
        await login(one, "worker1")
        await login(two, "worker2")
        assert (await one.post("/api/push/subscriptions", json=body)).status_code == 200
        refused = await two.post("/api/push/subscriptions", json=body)
    assert refused.status_code == 409
    assert "another user" in refused.json()["detail"]


async def test_an_assigned_visit_reaches_the_worker_with_a_minimal_payload(settings: Settings, org: Org) -> None:
    # docs/security.md case 16: the decrypted message is the event and the id, nothing else.
    async with push_world(fast(settings)) as (app, service):
        worker, subscriber = await subscribed(app, service, "worker1")
        supervisor, case_id = await supervisor_with_case(app, org)
        visit = assign(supervisor, case_id, org.worker1_id)
        assert (await supervisor.push(visit))[0]["status"] == "applied"
        await wait_for(lambda: bool(service.delivered(subscriber.token)))
        delivery = service.delivered(subscriber.token)[0]
        assert delivery.payload == {"t": "visit_assigned", "id": visit["id"]}
        assert delivery.raw == f'{{"t":"visit_assigned","id":"{visit["id"]}"}}'.encode()
        for word in ("Kanarienvogel", "Musterfrau", "Lindenweg", "Mietrückstand"):
            assert word.encode() not in delivery.raw
        assert delivery.headers["Urgency"] == "high"
        assert 0 < int(delivery.headers["TTL"]) <= 24 * 3600
        assert len(delivery.headers["Topic"]) <= 32
        # Rescheduling sends again with the same topic (the push service keeps only the latest).
        await supervisor.pull()
        base = supervisor.records[visit["id"]]["version"]
        moved = supervisor.put("visit", visit["id"], case_id, {"planned_at": "2026-12-02T10:00:00+01:00"}, base)
        assert (await supervisor.push(moved))[0]["status"] == "applied"
        await wait_for(lambda: len(service.delivered(subscriber.token)) == 2)
        assert service.delivered(subscriber.token)[1].headers["Topic"] == delivery.headers["Topic"]
        # The supervisor's own subscription is not told about visits they assign to others.
        assert service.rejected == []
        await worker.aclose()


async def test_no_push_for_another_teams_visit(settings: Settings, org: Org) -> None:
    # docs/security.md case 18
    async with push_world(fast(settings)) as (app, service):
        _, nord = await subscribed(app, service, "worker1")
        _, sued = await subscribed(app, service, "worker3")
        other, other_case = await supervisor_with_case(app, org, "supervisor2")
        assert (await other.push(assign(other, other_case, org.other_worker_id)))[0]["status"] == "applied"
        await wait_for(lambda: bool(service.delivered(sued.token)))
        supervisor, case_id = await supervisor_with_case(app, org)
        refused = await supervisor.push(assign(supervisor, case_id, org.other_worker_id))
        assert refused[0]["status"] == "rejected"
        assert len(await jobs(settings)) == 1  # the refused assignment queued nothing
        assert service.delivered(nord.token) == []
        assert [d.token for d in service.deliveries] == [sued.token]


async def test_410_deletes_the_subscription(settings: Settings, org: Org) -> None:
    # docs/security.md case 17, first half
    settings = fast(settings)
    async with push_world(settings) as (app, service):
        worker, subscriber = await subscribed(app, service, "worker1")
        service.answers[subscriber.token] = [410]
        supervisor, case_id = await supervisor_with_case(app, org)
        await supervisor.push(assign(supervisor, case_id, org.worker1_id))
        await wait_for(lambda: any(d.status == 410 for d in service.deliveries))
        for _ in range(100):
            if (await worker.get("/api/push/subscriptions")).json()["active"] is False:
                break
            await asyncio.sleep(0.05)
        assert (await worker.get("/api/push/subscriptions")).json() == {"active": False, "host": None}
        assert await jobs(settings) == []  # the subscription's jobs went with it
        await worker.aclose()


async def test_a_410_for_an_old_endpoint_keeps_the_newer_subscription(settings: Settings, org: Org) -> None:
    # The browser re-subscribed while a message to its old endpoint was on the way.
    quiet = fast(settings, push_enabled=False)
    app = create_app(quiet)
    async with running(app):
        push = service_of(app, PushService)
        service = LocalPushService(push.keys.public_key)
        worker, old = await subscribed(app, service, "worker1")
        supervisor, case_id = await supervisor_with_case(app, org)
        await supervisor.push(assign(supervisor, case_id, org.worker1_id))
        dispatcher = Dispatcher(push.sessions, quiet, push.keys)
        claimed = await dispatcher.claim()
        assert [job.endpoint for job in claimed] == [old.endpoint]
        new = service.subscriber()
        assert (await worker.post("/api/push/subscriptions", json=new.subscription())).status_code == 200
        await dispatcher.settle([(job, Sent(Outcome.GONE, 410)) for job in claimed])
        assert (await worker.get("/api/push/subscriptions")).json() == {"active": True, "host": "127.0.0.1"}
        assert [j.state for j in await jobs(quiet)] == ["gone"]  # settled, and the new subscription kept
        await worker.aclose()


class SteppedClock:
    """A clock the test moves by hand, for the dispatcher's due times and backoff."""

    def __init__(self, clock: TestClock) -> None:
        self.at = clock.now() + dt.timedelta(seconds=1)  # just after the jobs were queued

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, delta: dt.timedelta) -> None:
        self.at += delta


async def test_429_and_5xx_are_retried_with_backoff_and_403_is_a_logged_configuration_error(
    settings: Settings, org: Org, caplog: pytest.LogCaptureFixture, clock: TestClock
) -> None:
    # docs/security.md case 17, second half: the dispatcher's claim, send and settle steps, driven by a clock the
    # test moves, so the backoff is checked exactly and without waiting.
    quiet = fast(settings, push_enabled=False)
    app = create_app(quiet)
    async with running(app):
        push = service_of(app, PushService)
        service = LocalPushService(push.keys.public_key)
        await service.start()
        try:
            _, busy = await subscribed(app, service, "worker1")
            _, broken = await subscribed(app, service, "worker2")
            service.answers[busy.token] = [429, 503, 201]
            service.answers[broken.token] = [403]
            supervisor, case_id = await supervisor_with_case(app, org)
            await supervisor.push(
                assign(supervisor, case_id, org.worker1_id), assign(supervisor, case_id, org.worker2_id)
            )
            stepped = SteppedClock(clock)
            dispatcher = Dispatcher(push.sessions, quiet, push.keys, now=stepped)
            first = dt.timedelta(seconds=quiet.push_backoff_seconds)
            async with aiohttp.ClientSession() as http:

                async def round_trip() -> list[int | None]:
                    claimed = await dispatcher.claim()
                    outcomes = await dispatcher.deliver(http, claimed)
                    await dispatcher.settle(outcomes)
                    return sorted(sent.status or 0 for _, sent in outcomes)

                with caplog.at_level(logging.ERROR, logger="doorstep.push"):
                    assert await round_trip() == [403, 429]
                stepped.advance(first - dt.timedelta(milliseconds=1))
                assert await dispatcher.claim() == []  # not due before its backoff
                stepped.advance(dt.timedelta(milliseconds=1))
                assert await round_trip() == [503]
                stepped.advance(2 * first - dt.timedelta(milliseconds=1))
                assert await dispatcher.claim() == []  # the wait doubled
                stepped.advance(dt.timedelta(milliseconds=1))
                assert await round_trip() == [201]
        finally:
            await service.stop()
    assert [d.status for d in service.deliveries if d.token == busy.token] == [429, 503, 201]
    assert [d.status for d in service.deliveries if d.token == broken.token] == [403]  # not retried
    assert sorted(j.state for j in await jobs(quiet)) == ["failed", "sent"]
    assert any("refused our VAPID credentials" in r.getMessage() for r in caplog.records)
    assert not any(busy.endpoint in r.getMessage() for r in caplog.records)


async def test_queued_jobs_survive_a_restart_and_are_sent_once(settings: Settings, org: Org, clock: TestClock) -> None:
    quiet = fast(settings, push_enabled=False)
    service = LocalPushService()
    app = create_app(quiet)
    async with running(app):
        service.server_public_key = service_of(app, PushService).keys.public_key
        await service.start()
        worker, _ = await subscribed(app, service, "worker1")
        supervisor, case_id = await supervisor_with_case(app, org)
        for day in range(1, 6):
            await supervisor.push(assign(supervisor, case_id, org.worker1_id, f"2026-12-0{day}T09:30:00+01:00"))
        await worker.aclose()
    assert service.deliveries == []
    assert [j.state for j in await jobs(quiet)] == ["pending"] * 5
    try:
        async with running(create_app(fast(settings))):
            await wait_for(lambda: len(service.deliveries) == 5)
        # The app has stopped, and with it the dispatcher: nothing more can be sent.
    finally:
        await service.stop()
    assert len(service.deliveries) == 5
    assert len({d.payload["id"] for d in service.deliveries}) == 5
    assert [j.state for j in await jobs(quiet)] == ["sent"] * 5
    assert all(j.sent_at is not None and j.sent_at <= clock.now() for j in await jobs(quiet))


async def test_a_worker_gets_a_sync_hint_when_a_case_is_assigned_to_them(settings: Settings, org: Org) -> None:
    async with push_world(fast(settings)) as (app, service):
        _, subscriber = await subscribed(app, service, "worker2")
        supervisor, case_id = await supervisor_with_case(app, org)
        await supervisor.pull()
        base = supervisor.records[case_id]["version"]
        results = await supervisor.push(
            supervisor.put("case", case_id, case_id, {"assigned_worker_id": str(org.worker2_id)}, base)
        )
        assert results[0]["status"] == "applied"
        await wait_for(lambda: bool(service.delivered(subscriber.token)))
        assert service.delivered(subscriber.token)[0].payload == {"t": "sync", "id": case_id}


async def test_concurrent_dispatchers_never_claim_the_same_job(settings: Settings, org: Org) -> None:
    quiet = fast(settings, push_enabled=False, push_batch=7)
    app = create_app(quiet)
    async with running(app):
        push = service_of(app, PushService)
        service = LocalPushService(push.keys.public_key)
        worker, _ = await subscribed(app, service, "worker1")
        supervisor, case_id = await supervisor_with_case(app, org)
        await supervisor.push(*(assign(supervisor, case_id, org.worker1_id) for _ in range(40)))
        dispatchers = [Dispatcher(push.sessions, quiet, push.keys) for _ in range(4)]
        claimed: list[uuid.UUID] = []
        while True:
            rounds = await asyncio.gather(*(d.claim() for d in dispatchers))
            batch = [job.id for found in rounds for job in found]
            if not batch:
                break
            claimed.extend(batch)
        await worker.aclose()
    assert len(claimed) == 40
    assert len(set(claimed)) == 40


async def test_a_redirect_from_the_push_service_is_not_followed(settings: Settings, org: Org) -> None:
    # docs/security.md case 26: the allow-list is checked at subscribe time; a 3xx must not lead elsewhere.
    quiet = fast(settings, push_enabled=False)
    app = create_app(quiet)
    async with running(app):
        push = service_of(app, PushService)
        service = LocalPushService(push.keys.public_key)
        await service.start()
        try:
            _, subscriber = await subscribed(app, service, "worker1")
            elsewhere = service.subscriber()
            service.redirect_to = elsewhere.endpoint
            service.answers[subscriber.token] = [307]
            supervisor, case_id = await supervisor_with_case(app, org)
            await supervisor.push(assign(supervisor, case_id, org.worker1_id))
            dispatcher = Dispatcher(push.sessions, quiet, push.keys)
            async with aiohttp.ClientSession() as http:
                outcomes = await dispatcher.deliver(http, await dispatcher.claim())
                await dispatcher.settle(outcomes)
        finally:
            await service.stop()
    assert [(sent.outcome, sent.status) for _, sent in outcomes] == [(Outcome.FAILED, 307)]
    assert [d.token for d in service.deliveries] == [subscriber.token]  # nothing reached the redirect's target
    assert [j.state for j in await jobs(quiet)] == ["failed"]
