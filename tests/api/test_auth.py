"""Login, sessions, devices and throttling (docs/security.md cases 10 to 13), through the HTTP API."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select, update

from server.auth import accounts
from server.auth.models import Role, Session, User
from server.auth.tokens import hash_token
from server.db import create_engine, session_factory
from server.problems import PROBLEM_BASE
from server.settings import Settings
from tests.support.accounts import PASSWORD, Org, login
from tests.support.app import client_from
from tests.support.cases import supervisor_creates_case
from tests.support.clock import TestClock

pytestmark = pytest.mark.usefixtures("org")

Client = httpx.AsyncClient


def problem_type(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    return str(body["type"]).removeprefix(PROBLEM_BASE)


async def test_login_returns_user_device_and_csrf_and_sets_a_strict_httponly_cookie(client: Client, org: Org) -> None:
    response = await client.post(
        "/api/auth/login",
        json={"username": "worker1", "password": PASSWORD, "device_name": "Tablet 7", "device_id": None},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "id": str(org.worker1_id),
        "username": "worker1",
        "display_name": "Worker1",
        "role": "worker",
        "team_id": str(org.team_id),
    }
    uuid.UUID(body["device_id"])
    assert len(body["csrf_token"]) >= 32
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # localhost: a Secure cookie would be dropped over plain http

    client.headers["X-CSRF-Token"] = body["csrf_token"]
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert me.json() == body


async def test_cookie_is_secure_on_a_real_host(app: Litestar, client: Client) -> None:
    async with client_from(app, base_url="http://doorstep.example.org") as remote:
        response = await remote.post(
            "/api/auth/login", json={"username": "worker1", "password": PASSWORD, "device_name": "T"}
        )
    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()


async def test_login_keeps_the_device_id_on_the_next_login(client: Client) -> None:
    first = await login(client, "worker1")
    again = await login(client, "worker1", device_id=str(first["device_id"]))
    assert again["device_id"] == first["device_id"]


async def test_a_device_of_another_user_is_not_taken_over(client: Client) -> None:
    first = await login(client, "worker1")
    other = await login(client, "worker2", device_id=str(first["device_id"]))
    assert other["device_id"] != first["device_id"]


async def test_every_login_gets_a_new_token_and_none_is_valid_after_logout(app: Litestar, client: Client) -> None:
    # docs/security.md case 11
    a = client
    async with client_from(app) as b:
        await login(a, "worker1")
        await login(b, "worker1")
        token_a, token_b = a.cookies["doorstep_session"], b.cookies["doorstep_session"]
        assert token_a != token_b
        assert len(token_a) >= 22  # at least 128 bits, url-safe

        logout = await a.post("/api/auth/logout")
        assert logout.status_code == 204
        a.cookies.set("doorstep_session", token_a)  # a client that ignores the cleared cookie
        after = await a.get("/api/me")
        assert after.status_code == 401
        assert problem_type(after) == "unauthenticated"
        assert (await b.get("/api/me")).status_code == 200


async def test_tokens_are_stored_only_as_hashes(client: Client, settings: Settings) -> None:
    await login(client, "worker1")
    token = client.cookies["doorstep_session"]
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        stored = (await db.scalars(select(Session.token_hash))).all()
    await engine.dispose()
    assert stored == [hash_token(token)]
    assert token not in stored


@pytest.mark.parametrize(
    ("column", "age"),
    [("last_seen_at", dt.timedelta(minutes=8 * 60 + 1)), ("expires_at", dt.timedelta(seconds=-1))],
    ids=["idle-timeout", "absolute-lifetime"],
)
async def test_idle_and_absolute_timeouts_end_the_session(
    client: Client, settings: Settings, clock: TestClock, column: str, age: dt.timedelta
) -> None:
    # docs/security.md case 11
    await login(client, "worker1")
    assert (await client.get("/api/me")).status_code == 200
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        now = clock.now()
        value = now - age if column == "last_seen_at" else now + age
        await db.execute(update(Session).values({column: value}))
        await db.commit()
    await engine.dispose()
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert problem_type(response) == "unauthenticated"
    assert "expired" in response.json()["detail"]


async def test_a_session_in_use_does_not_idle_out(client: Client, settings: Settings, clock: TestClock) -> None:
    await login(client, "worker1")
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        await db.execute(update(Session).values(last_seen_at=clock.now() - dt.timedelta(hours=7)))
        await db.commit()
    assert (await client.get("/api/me")).status_code == 200
    async with session_factory(engine)() as db:
        seen = (await db.scalars(select(Session.last_seen_at))).one()
    await engine.dispose()
    assert clock.now() - seen < dt.timedelta(minutes=1)


async def test_disabling_a_user_ends_all_their_sessions(app: Litestar, client: Client, settings: Settings) -> None:
    # docs/security.md case 10
    a = client
    async with client_from(app) as b:
        await login(a, "worker1")
        await login(b, "worker1")
        engine = create_engine(settings.resolved_database_url)
        ended = await accounts.disable_user(session_factory(engine), "worker1")
        await engine.dispose()
        assert ended == 2
        for c in (a, b):
            response = await c.get("/api/me")
            assert response.status_code == 401
            assert problem_type(response) == "unauthenticated"
        again = await a.post("/api/auth/login", json={"username": "worker1", "password": PASSWORD, "device_name": "T"})
        assert again.status_code == 401


async def test_a_revoked_device_gets_401_device_revoked_with_clear_site_data(
    client: Client, settings: Settings
) -> None:
    # docs/security.md case 10
    body = await login(client, "worker1")
    engine = create_engine(settings.resolved_database_url)
    await accounts.revoke_device(session_factory(engine), uuid.UUID(str(body["device_id"])))
    await engine.dispose()

    for response in (await client.get("/api/me"), await client.post("/api/auth/logout")):
        assert response.status_code == 401
        assert problem_type(response) == "device-revoked"
        assert response.headers["clear-site-data"] == '"storage"'

    relogin = await client.post(
        "/api/auth/login",
        json={
            "username": "worker1",
            "password": PASSWORD,
            "device_name": "T",
            "device_id": body["device_id"],
        },
    )
    assert relogin.status_code == 401
    assert problem_type(relogin) == "device-revoked"
    assert relogin.headers["clear-site-data"] == '"storage"'


@pytest.mark.parametrize("header", [None, "", "0" * 64], ids=["missing", "empty", "wrong"])
async def test_state_changing_requests_need_the_csrf_token(client: Client, header: str | None) -> None:
    await login(client, "worker1")
    del client.headers["X-CSRF-Token"]
    headers = {} if header is None else {"X-CSRF-Token": header}
    response = await client.post("/api/auth/logout", headers=headers)
    assert response.status_code == 403
    assert problem_type(response) == "forbidden"
    assert (await client.get("/api/me")).status_code == 200  # the session was not ended


async def test_unknown_user_and_wrong_password_answer_identically(client: Client) -> None:
    # docs/security.md case 13
    wrong = await client.post("/api/auth/login", json={"username": "worker1", "password": "not it", "device_name": "T"})
    unknown = await client.post(
        "/api/auth/login", json={"username": "nobody", "password": "not it", "device_name": "T"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content
    ignore = {"date", "content-length"}
    assert {k: v for k, v in wrong.headers.items() if k not in ignore} == {
        k: v for k, v in unknown.headers.items() if k not in ignore
    }
    assert "set-cookie" not in wrong.headers


async def test_sixth_wrong_password_is_throttled_per_account_across_addresses(app: Litestar, client: Client) -> None:
    # docs/security.md case 12: every attempt from a new address, and with a spoofed X-Forwarded-For.
    for attempt in range(5):
        async with client_from(app, f"198.51.100.{attempt + 1}") as c:
            response = await c.post(
                "/api/auth/login",
                json={"username": "worker1", "password": f"guess {attempt}", "device_name": "T"},
                headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
            )
        assert response.status_code == 401
    async with client_from(app, "198.51.100.99") as c:
        sixth = await c.post(
            "/api/auth/login",
            json={"username": "worker1", "password": PASSWORD, "device_name": "T"},
            headers={"X-Forwarded-For": "203.0.113.250"},
        )
    assert sixth.status_code == 429
    assert problem_type(sixth) == "rate-limited"
    assert 1 <= int(sixth.headers["retry-after"]) <= 15 * 60 + 1
    assert "set-cookie" not in sixth.headers
    # Another account is not affected by worker1's lock.
    await login(client, "worker2")


async def test_throttled_unknown_user_looks_like_a_throttled_real_one(app: Litestar, client: Client) -> None:
    answers = {}
    for name in ("worker1", "ghost"):
        for attempt in range(6):
            async with client_from(app, f"192.0.2.{attempt}") as c:
                response = await c.post(
                    "/api/auth/login", json={"username": name, "password": "nope", "device_name": "T"}
                )
        answers[name] = (response.status_code, response.json()["type"], response.json()["detail"])
    assert answers["worker1"] == answers["ghost"]
    assert answers["worker1"][0] == 429


async def test_failures_per_address_are_throttled_across_accounts(
    app: Litestar, client: Client, settings: Settings
) -> None:
    # docs/security.md case 12: one address spraying many accounts.
    limit = settings.login_max_failures_per_address
    async with client_from(app, "192.0.2.77") as c:
        for attempt in range(limit):
            response = await c.post(
                "/api/auth/login", json={"username": f"user{attempt}", "password": "x", "device_name": "T"}
            )
            assert response.status_code == 401
        blocked = await c.post(
            "/api/auth/login",
            json={"username": "worker2", "password": PASSWORD, "device_name": "T"},
            headers={"X-Forwarded-For": "10.0.0.1"},
        )
    assert blocked.status_code == 429
    async with client_from(app, "192.0.2.78") as other:
        ok = await other.post("/api/auth/login", json={"username": "worker2", "password": PASSWORD, "device_name": "T"})
    assert ok.status_code == 200


async def test_a_successful_login_resets_the_account_counter(client: Client) -> None:
    for _ in range(4):
        response = await client.post(
            "/api/auth/login", json={"username": "worker1", "password": "wrong", "device_name": "T"}
        )
        assert response.status_code == 401
    await login(client, "worker1")
    for _ in range(5):
        response = await client.post(
            "/api/auth/login", json={"username": "worker1", "password": "wrong", "device_name": "T"}
        )
        assert response.status_code == 401


async def test_supervisor_lists_the_members_of_their_own_team(client: Client, org: Org) -> None:
    await login(client, "supervisor")
    response = await client.get("/api/users")
    assert response.status_code == 200
    members = response.json()
    assert {m["username"] for m in members} == {"supervisor", "worker1", "worker2"}
    assert set(members[0]) == {"id", "username", "display_name", "role", "active"}


async def test_a_worker_sees_the_names_and_roles_of_the_team_and_nothing_more(client: Client, org: Org) -> None:
    await login(client, "worker1")
    response = await client.get("/api/users")
    assert response.status_code == 200
    members = response.json()
    assert {(m["display_name"], m["role"]) for m in members} == {
        ("Supervisor", "supervisor"),
        ("Worker1", "worker"),
        ("Worker2", "worker"),
    }
    assert all(set(m) == {"id", "display_name", "role", "active"} for m in members)


async def test_an_administrator_without_a_team_lists_no_users(client: Client) -> None:
    await login(client, "admin")
    response = await client.get("/api/users")
    assert response.status_code == 403
    assert problem_type(response) == "forbidden"


async def test_api_without_a_session_is_401_problem(client: Client) -> None:
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert problem_type(response) == "unauthenticated"


async def test_usernames_are_case_insensitive(client: Client, settings: Settings) -> None:
    body = await login(client, "  Worker1 ")
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        user = (await db.scalars(select(User).where(User.username == "worker1"))).one()
    await engine.dispose()
    assert body["user"]["id"] == str(user.id)  # type: ignore[index]


async def test_an_office_full_of_tablets_may_log_in_at_once_from_one_address(
    app: Litestar, client: Client, password_hash: str, settings: Settings, org: Org
) -> None:
    # Per-address throttling counts failures, not logins in progress: forty colleagues behind one office
    # address log in together at nine.
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as db:
        for i in range(40):
            db.add(
                User(
                    username=f"kollege{i}",
                    display_name=f"K {i}",
                    role=Role.WORKER,
                    team_id=org.team_id,
                    password_hash=password_hash,
                )
            )
        await db.commit()
    await engine.dispose()

    async def one(i: int) -> int:
        async with client_from(app, "192.0.2.200") as c:
            response = await c.post(
                "/api/auth/login", json={"username": f"kollege{i}", "password": PASSWORD, "device_name": "T"}
            )
            return response.status_code

    assert await asyncio.gather(*(one(i) for i in range(40))) == [200] * 40


async def test_an_administrator_revokes_a_lost_tablet_over_http(app: Litestar, client: Client) -> None:
    async with client_from(app) as tablet:
        lost = await login(tablet, "worker1")
        await login(client, "worker2")
        assert (await client.get("/api/admin/devices")).status_code == 403
        await login(client, "admin")
        listing = (await client.get("/api/admin/devices")).json()
        assert {d["username"] for d in listing} >= {"worker1", "worker2"}
        revoked = await client.post(f"/api/admin/devices/{lost['device_id']}/revoke")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        response = await tablet.get("/api/me")
        assert response.status_code == 401
        assert problem_type(response) == "device-revoked"
        assert (await client.post(f"/api/admin/devices/{uuid.uuid4()}/revoke")).status_code == 404


async def test_a_hash_made_with_weaker_parameters_is_upgraded_at_login(
    client: Client, settings: Settings, org: Org
) -> None:
    from argon2 import PasswordHasher, extract_parameters

    engine = create_engine(settings.resolved_database_url)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    async with session_factory(engine)() as db:
        db.add(User(username="altkonto", display_name="Alt", role=Role.WORKER, team_id=org.team_id, password_hash=weak))
        await db.commit()
    await login(client, "altkonto")
    async with session_factory(engine)() as db:
        stored = (await db.scalars(select(User.password_hash).where(User.username == "altkonto"))).one()
    await engine.dispose()
    assert stored != weak
    assert extract_parameters(stored).memory_cost >= 19 * 1024
    await login(client, "altkonto")  # the new hash still verifies


async def test_a_bound_session_opens_nothing_with_the_cookie_alone(app: Litestar, client: Client, org: Org) -> None:
    """docs/security.md case 58: the cookie of a stolen tablet, copied out of the browser profile, neither pulls the
    caseload nor learns the CSRF token; the app's requests carry the key it keeps sealed under the device key."""
    case_id, _ = await supervisor_creates_case(app, org, org.worker1_id)
    answer = await client.post(
        "/api/auth/login",
        json={"username": "worker1", "password": PASSWORD, "device_name": "Tablet", "device_id": None, "bound": True},
    )
    assert answer.status_code == 200
    body = answer.json()
    key = body["request_key"]
    assert len(key) >= 43
    cookie = {"doorstep_session": answer.cookies["doorstep_session"]}
    pull = {"cursor": None, "limit": 100}
    async with client_from(app) as thief:  # the cookie alone
        thief.cookies.update(cookie)
        for path in ("/api/me", "/api/cases", "/api/sync/pull"):
            refused = await thief.get(path, params=pull if "pull" in path else None)
            assert refused.status_code == 401, path
            assert problem_type(refused) == "unauthenticated"
            assert body["csrf_token"] not in refused.text
        thief.headers["X-Doorstep-Key"] = "x" * 43  # a guessed key
        assert (await thief.get("/api/me")).status_code == 401
        # A page load of the API (the address bar) is refused even with the right key.
        thief.headers["X-Doorstep-Key"] = key
        navigation = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
        assert (await thief.get("/api/sync/pull", headers=navigation)).status_code == 403
    client.headers["X-Doorstep-Key"] = key  # the app, which holds the key
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert "request_key" not in me.json()  # handed out once, at login
    assert (await client.get("/api/sync/pull")).status_code == 200
    cases = await client.get("/api/cases")
    assert [c["id"] for c in cases.json()] == [case_id]


async def test_a_session_that_is_not_bound_keeps_the_cookie_contract(client: Client, org: Org) -> None:
    # Clients of the sync contract that do not ask for a bound session log in and pull with the cookie, as before.
    body = await login(client, "worker1")
    assert "request_key" not in body
    assert (await client.get("/api/sync/pull")).status_code == 200
    assert (await client.get("/api/me")).json()["csrf_token"] == body["csrf_token"]
