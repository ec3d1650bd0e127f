"""docs/operations.md "Day one", run as printed: the database recipe, the settings file and the administrator's
first commands through deploy/doorstep-admin; then the server is ready and the first supervisor logs in.

On PostgreSQL (the recipe is for PostgreSQL 15): the SQL goes to this run's server as printed. Its server trusts
local connections, so the role's password is checked in the catalogue; what it does prove is that the role may
create the tables in its own database's `public` schema, which PostgreSQL 15 no longer grants to everyone.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from server.app import create_app
from server.settings import Settings
from tests.support.accounts import PASSWORD, login
from tests.support.app import client_from, running
from tests.support.databases import admin_sql, postgres_url
from tests.support.tools import needs_root, system_tool

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.database]


def block(marker: str) -> str:
    """The code block right after ``<!-- day-one:<marker> -->`` in docs/operations.md, without its indent."""
    text = (ROOT / "docs" / "operations.md").read_text()
    after = text.split(f"<!-- day-one:{marker} -->\n", 1)[1]
    body = after.split("```sh\n", 1)[1].split("```", 1)[0]
    return "\n".join(line.removeprefix("   ") for line in body.splitlines())


def heredoc(text: str, word: str) -> str:
    """What a ``<<'WORD'`` here-document in ``text`` feeds its command."""
    return text.split(f"<<'{word}'\n", 1)[1].split(f"\n{word}", 1)[0] + "\n"


async def shell(
    command: list[str], stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a worker thread, without a controlling terminal."""
    run = functools.partial(
        subprocess.run, command, input=stdin, capture_output=True, text=True, env=env, start_new_session=True
    )
    return await asyncio.to_thread(run)


async def test_the_day_one_recipe_gives_a_ready_server_and_a_supervisor_who_logs_in(tmp_path: Path) -> None:
    server = postgres_url()
    if server is None:
        pytest.skip("the recipe is for PostgreSQL: the PostgreSQL run of make test runs it")
    needs_root("the recipe runs as root, and doorstep-admin refuses anything else")
    psql = system_tool("psql", "postgresql-client")
    address = make_url(server)
    await admin_sql(server, "DROP DATABASE IF EXISTS doorstep")
    await admin_sql(server, "DROP ROLE IF EXISTS doorstep")

    # 2. The database, as printed (as the superuser of this run's server instead of `runuser -u postgres`).
    database = block("database")
    assert database.startswith("runuser -u postgres -- psql -v ON_ERROR_STOP=1 <<'SQL'")
    superuser = ["-h", str(address.host), "-p", str(address.port), "-U", str(address.username), "-d", "postgres"]
    done = await shell([psql, "-v", "ON_ERROR_STOP=1", *superuser], heredoc(database, "SQL"))
    assert done.returncode == 0, done.stderr
    check = "SELECT rolcanlogin AND rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'doorstep'"
    has_password = await shell([psql, *superuser, "-tAc", check])
    assert has_password.stdout.strip() == "t"  # a role that logs in, with a password

    # 3. The settings file, as printed, with this run's server and a data directory of the test's own.
    settings_text = heredoc(block("settings"), "ENV")
    settings_text = settings_text.replace("@127.0.0.1:5432/", f"@{address.host}:{address.port}/")
    settings_text = settings_text.replace(
        "DOORSTEP_DATA_DIR=/var/lib/doorstep", f"DOORSTEP_DATA_DIR={tmp_path / 'var'}"
    )
    (tmp_path / "var").mkdir(mode=0o700)
    env_file = tmp_path / "doorstep.env"
    env_file.write_text(settings_text)
    env_file.chmod(0o600)

    # 4. The first commands through doorstep-admin, pointed at this file and this checkout's doorstep.
    admin = (ROOT / "deploy" / "doorstep-admin").read_text()
    admin = admin.replace("ENV_FILE=/etc/doorstep/doorstep.env", f"ENV_FILE={env_file}")
    admin = admin.replace("RUN_AS=doorstep", "RUN_AS=root")  # no `doorstep` user on the test machine
    admin = admin.replace(
        "DOORSTEP=/opt/doorstep/.venv/bin/doorstep", f"DOORSTEP={Path(sys.executable).parent}/doorstep"
    )
    script = tmp_path / "doorstep-admin"
    script.write_text(admin)
    script.chmod(0o755)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}  # only the file's settings
    for line in block("commands").splitlines():
        words = shlex.split(line)
        assert words[0] == "doorstep-admin"
        # create-user asks twice for the password; with no terminal it reads standard input.
        answered = await shell([str(script), *words[1:]], f"{PASSWORD}\n{PASSWORD}\n", env=clean)
        assert answered.returncode == 0, f"{line}: {answered.stderr}"
        assert "Using data directory" in answered.stderr

    # 6. The server on those settings is ready, and the supervisor logs in.
    values = dict(line.split("=", 1) for line in settings_text.splitlines() if line and not line.startswith("#"))
    settings = Settings.from_env(values, environment="test", secure_cookies=False)  # plain http in the test
    app = create_app(settings)
    async with running(app), client_from(app, base_url="http://doorstep.example.org") as client:
        ready = await client.get("/ready")
        assert ready.status_code == 200, ready.text
        body = await login(client, "sberger")
        assert body["user"]["display_name"] == "Sabine Berger"  # type: ignore[index]
    assert re.search(r"DOORSTEP_ALLOWED_HOSTS=\S+", settings_text)
