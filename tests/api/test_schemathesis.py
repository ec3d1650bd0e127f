"""docs/security.md case 24: Schemathesis, with every check, against the live OpenAPI document (read by a signed-in
user) finds no 5xx, no undocumented answer and no schema violation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.settings import Settings
from tests.support.accounts import PASSWORD
from tests.support.live import LiveServer

pytestmark = [pytest.mark.usefixtures("org"), pytest.mark.slow]


# The supervisor's run reaches every operation the worker's does, and more: on PostgreSQL it alone runs again.
@pytest.mark.parametrize("username", [pytest.param("worker1", marks=pytest.mark.one_backend), "supervisor"])
async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    settings: Settings, tmp_path: Path, username: str
) -> None:
    server = LiveServer(Path(settings.data_dir), settings.resolved_database_url)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            login = await client.post(
                "/api/auth/login", json={"username": username, "password": PASSWORD, "device_name": "Fuzzer"}
            )
            assert login.status_code == 200
            token = client.cookies["doorstep_session"]
            csrf = login.json()["csrf_token"]
            schema = await client.get("/schema/openapi.json")  # for signed-in users only
            assert schema.status_code == 200
            (tmp_path / "openapi.json").write_bytes(schema.content)
        result = subprocess.run(  # noqa: ASYNC221 - the fuzzer runs to completion; nothing else runs meanwhile
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "--config-file",
                str(Path(__file__).with_name("schemathesis.toml")),
                "run",
                str(tmp_path / "openapi.json"),
                "--url",
                server.url,
                "--checks",
                "all",
                "-H",
                f"Cookie: doorstep_session={token}",
                "-H",
                f"X-CSRF-Token: {csrf}",
                "--exclude-path",
                "/api/auth/logout",
                # Administration answers both users 403 before it reads anything; tests/api/test_accounts.py checks it.
                "--exclude-path-regex",
                "^/api/admin",
                # The front door is the supervisor's (a worker gets 403 on all of it): fuzzed in the supervisor's run.
                *(["--exclude-path-regex", "^/api/(referrals|court-notices)"] if username == "worker1" else []),
                "--max-examples",
                # The supervisor's run reaches every operation; the worker's checks the same ones as a worker can.
                "25" if username == "supervisor" else "10",
                "--generation-deterministic",
                "--request-timeout",
                "20",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            check=False,
        )
    finally:
        server.stop()
    (Path(settings.data_dir) / "schemathesis.txt").write_text(result.stdout)
    if os.environ.get("DOORSTEP_KEEP_FUZZ_REPORT"):
        Path(os.environ["DOORSTEP_KEEP_FUZZ_REPORT"]).write_text(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in result.stdout.lower()
    assert "Internal Server Error" not in (Path(settings.data_dir) / "server.log").read_text()
