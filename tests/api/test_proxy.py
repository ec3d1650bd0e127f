"""The documented reverse-proxy recipe, run for real: deploy/nginx.conf in front of
``doorstep serve --forwarded-allow-ips 127.0.0.1`` (docs/operations.md "Day one", docs/deployment.md).

Clients come from different loopback addresses (127.0.0.2, 127.0.0.3, …), so nginx sees them as different hosts, as
it would see the tablets. Once, an administrator following the docs got one login throttle for everybody (429 for
all after 30 failures from 31 clients) and ``/metrics`` open to whoever reached the proxy.
"""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
from pathlib import Path

import anyio.to_thread
import httpx
import pytest

from server.cli import main
from tests.support.accounts import PASSWORD
from tests.support.databases import fresh_database
from tests.support.live import LiveServer, free_port
from tests.support.tools import system_tool
from tests.unit.test_deployment import DEPLOY, self_signed

pytestmark = [pytest.mark.slow]


def nginx_conf(tmp_path: Path, https_port: int, http_port: int, app_port: int) -> Path:
    """deploy/nginx.conf as shipped, with a test certificate, loopback ports and the app's port put in."""
    cert, key = self_signed(tmp_path)
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/ssl/doorstep/fullchain.pem", str(cert)).replace("/etc/ssl/doorstep/privkey.pem", str(key))
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)  # the test host may have no IPv6
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    assert "proxy_pass http://127.0.0.1:8000;" in site
    site = site.replace("proxy_pass http://127.0.0.1:8000;", f"proxy_pass http://127.0.0.1:{app_port};")
    (tmp_path / "site.conf").write_text(site)
    main_conf = tmp_path / "nginx.conf"
    temp = "".join(
        f"  {kind}_temp_path {tmp_path}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main_conf.write_text(
        f"daemon off;\nmaster_process off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n  access_log off;\n{temp}  include {tmp_path}/site.conf;\n}}\n"
    )
    return main_conf


def client_at(address: str, base_url: str) -> httpx.AsyncClient:
    """A client whose connections leave from ``address`` (any of 127.0.0.0/8 on Linux)."""
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=False)
    return httpx.AsyncClient(transport=transport, base_url=base_url, headers={"Host": "doorstep.example.org"})


async def test_behind_the_documented_nginx_each_client_has_its_own_throttle_and_metrics_stay_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nginx = system_tool("nginx", "nginx")
    url = await fresh_database(tmp_path)
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", url)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "var"))

    def account() -> None:
        assert main(["migrate"]) == 0
        assert main(["create-team", "Team Nord"]) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        assert main(["create-user", "sberger", "--role", "supervisor", "--team", "Team Nord", "--password-stdin"]) == 0

    await anyio.to_thread.run_sync(account)
    # The recipe's own command line (deploy/doorstep.service): the proxy on this host is the one believed.
    server = LiveServer(tmp_path / "var", url, serve_args=("--forwarded-allow-ips", "127.0.0.1"))
    https_port, http_port = free_port(), free_port()
    proxy = subprocess.Popen(
        [nginx, "-c", str(nginx_conf(tmp_path, https_port, http_port, server.port)), "-p", str(tmp_path)],
        stderr=subprocess.DEVNULL,
    )
    base = f"https://127.0.0.1:{https_port}"
    try:
        await server.start(timeout=120)
        for _ in range(100):
            try:
                async with client_at("127.0.0.1", base) as probe:
                    if (await probe.get("/health")).status_code == 200:
                        break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        # 31 clients each mistype once: more failures than one address may have (30), but one each.
        for number in range(2, 33):
            async with client_at(f"127.0.0.{number}", base) as tablet:
                wrong = {"username": f"kollegin{number}", "password": "falsch-falsch", "device_name": "T"}
                assert (await tablet.post("/api/auth/login", json=wrong)).status_code == 401, number
        async with client_at("127.0.0.40", base) as tablet:
            right = {"username": "sberger", "password": PASSWORD, "device_name": "T"}
            answer = await tablet.post("/api/auth/login", json=right)
            assert answer.status_code == 200  # not 429: the throttle counted each client, not the proxy
            assert "max-age=" in answer.headers["strict-transport-security"]  # HTTPS seen through the proxy
        for address in ("127.0.0.41", "127.0.0.1"):  # through the proxy, /metrics is nobody's, not even the host's
            async with client_at(address, base) as outsider:
                assert (await outsider.get("/metrics")).status_code == 403, address
        async with httpx.AsyncClient(base_url=server.url) as scraper:  # the scraper on the host asks the app directly
            assert (await scraper.get("/metrics")).status_code == 200
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        server.stop()
