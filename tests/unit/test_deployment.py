"""The deployment files (docs/deployment.md) use the command and settings as they are."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import subprocess
from pathlib import Path

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.cli import _parser
from server.settings import Settings
from tests.support.tools import system_tool

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


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for doorstep.example.org, so that nginx can load the shipped server block."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "doorstep.example.org")])
    now = dt.datetime.now(dt.UTC)  # machine's clock: nginx checks the certificate's validity against it
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_the_nginx_server_block_passes_nginx_t(tmp_path: Path) -> None:
    """Debian 12's nginx (1.22) refused the shipped block once (`http2 on;` came with 1.25)."""
    nginx = system_tool("nginx", "nginx")
    cert, key = self_signed(tmp_path)
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/ssl/doorstep/fullchain.pem", str(cert)).replace("/etc/ssl/doorstep/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    done = subprocess.run([nginx, "-t", "-q", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_caddyfile_passes_caddy_validate(tmp_path: Path) -> None:
    caddy = system_tool("caddy", "caddy")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run(
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "8MiB" in (DEPLOY / "Caddyfile").read_text()  # 8 MiB, as nginx's 8m: Caddy's "8MB" is 8,000,000 bytes
