"""A real server process for tests that need one: uvicorn on a free loopback port, killed at the end."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.clock import current_shift

__all__ = ["LiveServer", "free_port"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``uvicorn server.app:create_app_from_env`` in a child process, with its own settings."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        port: int | None = None,
        *,
        demo: bool = False,
        workers: int = 1,
        name: str = "server",
        serve_args: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"{name}.log"
        # ``doorstep serve`` (migrations and keys first; the demo with ``demo``; ``--workers``) instead of uvicorn.
        self.demo, self.workers = demo, workers
        self.serve_args = serve_args  # more options of ``doorstep serve`` (``--forwarded-allow-ips``)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 30) -> None:
        """Start the process and wait until ``/health`` answers."""
        env = {
            **os.environ,
            "DOORSTEP_DATA_DIR": str(self.data_dir),
            "DOORSTEP_DATABASE_URL": self.database_url,
            "DOORSTEP_ENVIRONMENT": "test",
            "DOORSTEP_PUSH_ALLOW_LOOPBACK": "true",  # the tests' local push service
            "DOORSTEP_PUSH_POLL_SECONDS": "0.2",
            "DOORSTEP_CLOCK_SHIFT_SECONDS": str(current_shift()),  # the test's pinned clock
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            uvicorn = [sys.executable, "-m", "uvicorn", "server.app:create_app_from_env", "--factory"]
            doorstep = [str(Path(sys.executable).with_name("doorstep")), "serve", "--workers", str(self.workers)]
            if self.demo:
                doorstep.append("--demo")
            doorstep += self.serve_args
            by_cli = self.demo or self.workers > 1 or bool(self.serve_args)
            self.process = subprocess.Popen(
                [
                    *(doorstep if by_cli else uvicorn),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *(() if by_cli else ("--log-level", "warning", "--no-date-header")),  # the app's own Date
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
                try:
                    if (await client.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("server did not become healthy")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, exactly like a power cut of the process."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill after a grace period."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
