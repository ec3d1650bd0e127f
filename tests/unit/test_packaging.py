"""Doorstep installed as a user installs it: a wheel (not an editable checkout) in a fresh virtual environment,
started from a directory outside the repository, migrates an empty database and serves the app and its service
worker. This catches files that exist in the checkout but are missing from the package (the PWA, the migration
scripts, a subpackage) and imports that are not declared as dependencies."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import admin_sql, postgres_url
from tests.support.live import free_port

# It migrates a database of its own; on PostgreSQL the day-one recipe (tests/api/test_day_one.py) migrates an empty
# database through the installed command in the same way, so the wheel's run stays on SQLite.
pytestmark = [pytest.mark.slow, pytest.mark.one_backend]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on this run's backend."""
    server = postgres_url()
    if server is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'doorstep.db'}"
        return
    name = f"doorstep_pkg_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin_sql(server, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_installed_wheel_migrates_an_empty_database_and_serves_the_app(tmp_path: Path, empty_database: str) -> None:
    wheels, venv, outside = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    outside.mkdir()
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, ROOT, cwd=outside)
    [wheel] = wheels.glob("doorstep-*.whl")
    # A bare environment, filled by this interpreter's pip (--python): only the wheel and what it declares. Without
    # byte-compiling every file of every dependency, which is most of an install's time.
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=outside)
    pip = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "--disable-pip-version-check"]
    run(*pip, "install", "-q", "--no-compile", "-c", ROOT / "constraints.txt", wheel, cwd=outside)
    where = run(venv / "bin" / "python", "-c", "import server; print(server.__file__)", cwd=outside)
    assert Path(where.strip()).is_relative_to(venv), where

    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "DOORSTEP_DATA_DIR": str(tmp_path / "data"),
        "DOORSTEP_DATABASE_URL": empty_database,
        "DOORSTEP_ENVIRONMENT": "test",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [venv / "bin" / "doorstep", "serve", "--port", str(port)], cwd=outside, env=env, stdout=log, stderr=log
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the installed server did not become healthy"
            time.sleep(0.2)
        shell = httpx.get(f"{base}/")
        assert shell.status_code == 200
        assert "Doorstep" in shell.text
        worker = httpx.get(f"{base}/sw.js")
        assert worker.status_code == 200
        assert "/static/js/app.js" in worker.text  # the precache lists the shipped static files
        assert httpx.get(f"{base}/static/js/rules.js").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
