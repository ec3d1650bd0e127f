"""The deployment files (docs/deployment.md) use the command and settings as they are."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import msgspec

from server.cli import _parser
from server.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_systemd_unit_starts_doorstep_with_options_it_knows() -> None:
    unit = (DEPLOY / "doorstep.service").read_text()
    [line] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    command = shlex.split(line.removeprefix("ExecStart="))
    assert command[0].endswith("/doorstep")
    args = _parser().parse_args(command[1:])
    assert (args.command, args.workers, args.forwarded_allow_ips) == ("serve", 2, "127.0.0.1")


def test_the_container_starts_doorstep_with_options_it_knows() -> None:
    [line] = [line for line in (DEPLOY / "Containerfile").read_text().splitlines() if line.startswith("CMD ")]
    command = msgspec.json.decode(line.removeprefix("CMD "), type=list[str])
    assert command[0] == "doorstep"
    args = _parser().parse_args(command[1:])
    assert (args.host, args.port, args.workers) == ("0.0.0.0", 8000, 2)  # noqa: S104 - inside the container


def test_the_settings_the_deployment_files_name_exist() -> None:
    named = set()
    for path in DEPLOY.iterdir():
        named |= {name.lower() for name in re.findall(r"DOORSTEP_([A-Z_]+)", path.read_text())}
    named -= {"host"}  # compose's own variable for the host name, not a setting
    assert named
    assert named <= set(Settings.__struct_fields__), named - set(Settings.__struct_fields__)
