"""Bad input and HTTP hardening (docs/security.md cases 20 and 23), health, and the OpenAPI document."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import subprocess
import uuid
from pathlib import Path

import httpx
import msgspec
import pytest
from litestar import Litestar, get
from sqlalchemy.ext.asyncio import AsyncEngine

from server.app import create_app
from server.db import create_engine
from server.plugin import DoorstepPlugin, service_of
from server.problems import PROBLEM_BASE
from server.settings import Settings
from tests.support.accounts import PASSWORD, Org, login
from tests.support.app import client_from, running
from tests.support.cases import supervisor_creates_case
from tests.support.live import free_port
from tests.support.syncing import Device, new_id
from tests.support.tools import system_tool

pytestmark = pytest.mark.usefixtures("org")

Client = httpx.AsyncClient


def assert_problem(response: httpx.Response, status: int, name: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["type"] == PROBLEM_BASE + name
    assert body["status"] == status
    assert body["title"]
    assert "Traceback" not in response.text
    return body


async def test_health_reports_the_database(client: Client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_the_database_is_gone(app: Litestar, client: Client) -> None:
    assert (await client.get("/health")).status_code == 200
    # The database goes away under a running app: its engine now points at a port where nothing listens.
    engine = service_of(app, AsyncEngine)
    gone = create_engine(f"postgresql+asyncpg://doorstep@127.0.0.1:{free_port()}/doorstep")
    app.state[AsyncEngine.__name__] = gone
    try:
        response = await client.get("/health")
    finally:
        app.state[AsyncEngine.__name__] = engine
        await gone.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert (await client.get("/health")).status_code == 200


async def test_ready_says_whether_the_process_may_take_traffic(
    app: Litestar, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await client.get("/ready")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []  # a probe logs nothing
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "migrations": "ok", "keys": "ok"}
    assert len(body["instance"]) == 8  # a random name, not the process id
    # A schema behind the code (an upgrade that has not run its migrations yet): not ready, and it says why.
    engine = service_of(app, AsyncEngine)
    async with engine.begin() as connection:
        head = (await connection.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar_one()
        await connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0012'")
    try:
        behind = await client.get("/ready")
    finally:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{head}'")
    assert behind.status_code == 503
    assert behind.json()["checks"] == {"database": "ok", "migrations": "failed", "keys": "ok"}
    assert behind.headers["cache-control"] == "no-store"
    assert (await client.get("/ready")).status_code == 200


async def test_ready_fails_while_the_key_file_cannot_be_read_and_reads_go_on(
    app: Litestar, client: Client, org: Org, settings: Settings
) -> None:
    """A key file the server cannot read (once: rewritten root-owned by `rotate-kek` run as root) is not ready, while
    the keys in hand keep serving: no read answers 500."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    await login(client, "supervisor")
    kek = Path(settings.data_dir) / "keys" / "kek.json"
    kept = kek.with_name("kek.json.kept")
    kek.rename(kept)
    kek.mkdir()  # unreadable as a file, even for root (the tests run as root in CI)
    try:
        answer = await client.get("/ready")
        assert answer.status_code == 503
        assert answer.json()["checks"]["keys"] == "failed"
        assert (await client.get(f"/api/cases/{case_id}")).status_code == 200
    finally:
        kek.rmdir()
        kept.rename(kek)
    assert (await client.get("/ready")).status_code == 200


@pytest.mark.parametrize("path", ["/api/me", "/api/users", "/health", "/api/auth/login"])
async def test_api_responses_carry_no_store_and_the_hardening_headers(client: Client, path: str) -> None:
    # docs/security.md case 23
    await login(client, "supervisor")
    response = await client.get(path)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_the_app_shell_has_a_strict_csp_without_inline_script(client: Client) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script>" not in response.text  # every script is an external module
    script = await client.get("/static/js/app.js")
    assert script.status_code == 200
    assert script.headers["x-content-type-options"] == "nosniff"


async def test_unknown_paths_and_methods_are_problems(client: Client) -> None:
    assert_problem(await client.get("/api/nothing-here"), 404, "not-found")
    body = assert_problem(await client.delete("/health"), 405, "method-not-allowed")
    assert "delete" not in str(body["detail"]).lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"username": 5, "password": "x", "device_name": "T"}', "username"),
        (b'{"username": "worker1", "password": ["x"], "device_name": "T"}', "password"),
        (b'{"username": "", "password": "x", "device_name": "T"}', "username"),
        (
            b'{"username": "worker1", "password": "x", "device_name": "T", "device_id": "not-a-uuid"}',
            "device_id",
        ),
        (b'{"password": "x"}', "username"),
    ],
    ids=["int-for-string", "list-for-string", "empty-username", "bad-uuid", "missing-field"],
)
async def test_wrongly_typed_input_is_a_400_naming_the_field(client: Client, body: bytes, field: str) -> None:
    # docs/security.md case 20
    response = await client.post("/api/auth/login", content=body, headers={"content-type": "application/json"})
    problem = assert_problem(response, 400, "validation")
    assert field in str(problem.get("field") or problem["detail"])


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": NaN, "password": "x"}',
        b'{"username": "worker1", "password": Infinity}',
        b'{"username": "worker1", "password": -Infinity}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"username": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"username": "worker1", "password": 1e999}',
        b"\xff\xfe not json",
        b"",
    ],
    ids=["nan", "infinity", "minus-infinity", "deep-array", "deep-field", "huge-number", "binary", "empty"],
)
async def test_malformed_input_is_refused_cleanly(client: Client, body: bytes) -> None:
    # docs/security.md case 20
    response = await client.post("/api/auth/login", content=body, headers={"content-type": "application/json"})
    assert_problem(response, 400, "validation")


async def test_an_oversized_body_is_refused_before_it_is_read(client: Client, settings: Settings) -> None:
    # docs/security.md case 20
    filler = "x" * (settings.max_body_bytes + 1)
    response = await client.post(
        "/api/auth/login", json={"username": "worker1", "password": filler, "device_name": "T"}
    )
    assert_problem(response, 413, "payload-too-large")


async def test_an_unexpected_error_is_a_generic_500_without_a_trace(settings: Settings) -> None:
    # docs/security.md case 23: the client learns nothing of the failure but that it may retry.
    canary = "Canary-Tenant Erika Mustermann"

    @get("/api/boom", opt={"exclude_from_auth": True})
    async def boom() -> None:
        raise RuntimeError(f"database said: {canary}")

    app = Litestar(route_handlers=[boom], plugins=[DoorstepPlugin(settings)])
    async with running(app), client_from(app) as c:
        response = await c.get("/api/boom")
    body = assert_problem(response, 500, "internal")
    assert canary not in response.text
    assert "RuntimeError" not in response.text
    assert "retry" in str(body["detail"])


async def test_credentials_in_the_query_string_are_not_accepted(client: Client) -> None:
    # docs/security.md case 23: no personal data travels in URLs.
    response = await client.post(f"/api/auth/login?username=worker1&password={PASSWORD}")
    assert response.status_code == 415  # no JSON body: refused before anything is read (case 28)
    assert "set-cookie" not in response.headers
    with_body = await client.post(f"/api/auth/login?username=worker1&password={PASSWORD}", json={})
    assert with_body.status_code == 400
    assert "set-cookie" not in with_body.headers


async def test_openapi_document_is_served_and_has_no_personal_data_in_paths(client: Client) -> None:
    await login(client, "worker1")  # for signed-in users only (case 29)
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/auth/login" in paths
    assert "/api/sync/push" not in paths or "post" in paths["/api/sync/push"]
    for path in paths:
        assert "{username}" not in path
        assert "{name}" not in path


async def test_a_server_with_allowed_hosts_refuses_requests_for_another_host(settings: Settings) -> None:
    app = create_app(msgspec.structs.replace(settings, allowed_hosts="doorstep.example.org"))
    async with running(app):
        async with client_from(app, base_url="http://doorstep.example.org") as ours:
            assert (await ours.get("/")).status_code == 200
            assert (await ours.get("/api/me")).status_code == 401  # on to the routes, and to the login check
        async with client_from(app, base_url="http://elsewhere.example") as other:
            refused = await other.get("/")  # the app shell, the login: open routes answer only for our host
            assert refused.status_code == 400
            assert "elsewhere" not in refused.text  # nothing of the request echoed
            assert (await other.post("/api/auth/login", json={})).status_code == 400
            assert (await other.get("/api/me")).status_code == 401  # a closed route: still no session, no data
        async with client_from(app, base_url="http://10.0.0.7:8000") as balancer:
            assert (await balancer.get("/health")).status_code == 200  # a load balancer asks by address
            assert (await balancer.get("/metrics")).status_code == 200  # and a scraper on the host


async def test_metrics_speak_of_routes_and_counts_never_of_people(
    app: Litestar, client: Client, settings: Settings
) -> None:
    await client.post("/api/auth/login", json={"username": "worker1", "password": "wrong password here"})
    device = Device(client, await login(client, "worker1"))
    await device.push(device.put("note", new_id(), new_id(), {"text": "x", "visit_id": None}))
    await device.pull()
    await client.get(f"/api/cases/{uuid.uuid4()}")
    scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    # Exactly the exposition format's type: a second charset made Prometheus 3 refuse the scrape.
    assert scraped.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = scraped.text
    promtool = [system_tool("promtool", "prometheus"), "check", "metrics"]
    checked = await asyncio.to_thread(subprocess.run, promtool, input=text, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert 'doorstep_logins_total{outcome="refused"}' in text
    assert 'doorstep_logins_total{outcome="ok"}' in text
    assert 'route="/api/sync/push",status="200"' in text
    assert 'route="/api/cases/{case_id}",status="404"' in text  # the template, not the id asked for
    assert "doorstep_sync_push_mutations_count" in text
    assert "doorstep_sync_pull_changes_count" in text
    assert "doorstep_push_jobs_queued 0.0" in text
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", text)  # no id in any label
    assert "worker1" not in text
    # Not for anyone else: a scraper off loopback needs the token, when one is set.
    async with client_from(app, address="10.1.2.3") as outside:
        assert (await outside.get("/metrics")).status_code == 403
    guarded = create_app(msgspec.structs.replace(settings, metrics_token="s3cret-scrape"))
    async with running(guarded), client_from(guarded, address="10.1.2.3") as scraper:
        assert (await scraper.get("/metrics")).status_code == 403
        assert (await scraper.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 403
        assert (await scraper.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})).status_code == 200
        async with client_from(guarded) as local:  # the token adds scrapers; the one on the host keeps its access
            assert (await local.get("/metrics")).status_code == 200
            # A request a proxy on this host passed on is not the host's scraper, whatever address it comes from.
            assert (await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status_code == 403


def test_every_guard_runs_in_the_event_loop_not_in_a_thread(app: Litestar) -> None:
    """Litestar hands a plain function guard to a thread pool on every request it guards, and waits for it to come
    back: the guards are coroutines, so that a guarded request (every sync request among them) costs no thread."""
    guarded = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for guard in handler.resolve_guards():
                assert inspect.iscoroutinefunction(guard), f"{handler.handler_name} has a guard run in a thread"
                guarded.add(handler.handler_name)
    assert {"push", "pull", "login"} <= guarded
