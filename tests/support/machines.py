"""The base of the hypothesis state machines that drive a whole app: each example gets a database, an app and
an event loop of its own, and logs devices in over the app's API."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from server.app import create_app
from server.settings import Settings
from tests.support.accounts import PASSWORD
from tests.support.app import client_from, running
from tests.support.databases import fresh_team_database
from tests.support.feed import assert_feed_kept
from tests.support.syncing import Device

__all__ = ["AppMachine", "run_machine"]


class AppMachine(RuleBasedStateMachine):
    """Subclasses set ``make_database`` (a fresh database in a scratch directory, returning its URL) before the
    run, and end their ``teardown`` with :meth:`close`."""

    make_database: Callable[[str], Awaitable[str]] | None = None

    def __init__(self) -> None:
        super().__init__()
        make_database = type(self).make_database
        assert make_database is not None, "set make_database before the run"
        self.loop = asyncio.new_event_loop()
        self.stack = AsyncExitStack()
        self.tmp = tempfile.mkdtemp()
        url = self.url = self.run(make_database(self.tmp))
        self.app = create_app(
            Settings(data_dir=str(Path(self.tmp) / "var"), database_url=url, environment="test", migrate_on_start=False)
        )
        self.run(self.stack.enter_async_context(running(self.app)))

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def _client(self, username: str) -> Device:
        client = await self.stack.enter_async_context(client_from(self.app))
        response = await client.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD, "device_name": "T"}
        )
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return Device(client, response.json())

    def check_feed(self) -> None:
        """The scope feed the database's triggers keep matches the scope and records the run left."""
        self.run(assert_feed_kept(self.url))

    def close(self) -> None:
        """Stop the app and remove the example's files."""
        self.run(self.stack.aclose())
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_machine(
    machine: type[AppMachine], template_database: str, password_hash: str, *, workers: int, examples: int, steps: int
) -> None:
    """Run ``machine`` for ``examples`` examples of up to ``steps`` steps, each on a fresh database with one team of
    a supervisor and ``workers`` workers."""

    async def make_database(tmp: str) -> str:
        return await fresh_team_database(template_database, tmp, password_hash, workers=workers)

    machine.make_database = make_database
    if template_database.startswith("postgresql"):
        # The properties' logic runs with every example on SQLite; on PostgreSQL half of them check the same
        # properties against its SQL (each example is a fresh database there, the costly part).
        examples = max(5, examples // 2)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
