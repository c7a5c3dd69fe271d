"""`realtalk serve` as a user runs it: its own process (workers and all), its log in a file, stopped by a signal."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from realtalk.bench.server import free_port, same_code, stop, wait_healthy
from tests.wsclient import RealtimeClient

STARTUP_SECONDS = 60.0


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    tls: ssl.SSLContext | None = None  # the context trusting its certificate, when it serves TLS

    @property
    def http_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/v1/realtime"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.http_url + path, timeout=5, verify=self.tls or True)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def exit_code(self, within: float) -> int:
        return self.process.wait(within)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def json_log(self) -> list[dict[str, Any]]:
        """Every line of its log, each parsed as the JSON object it must be."""
        return [json.loads(line) for line in self.log_lines()]

    def until_draining(self, seconds: float = 10.0) -> dict[str, Any]:
        """Wait until `/readyz` says the server drains (the signal has reached it); its answer."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            answer = self.get("/readyz")
            if answer.status_code == 503:
                return dict(answer.json())
            time.sleep(0.02)
        raise AssertionError("the server never began to drain")


@contextmanager
def realtalk_serve(log_dir: Path, *args: str, tls: ssl.SSLContext | None = None) -> Iterator[ServerProcess]:
    """`python -m realtalk serve` on a free loopback port with `args`; killed at the end if still running."""
    port = free_port()
    log_path = log_dir / f"realtalk-{port}.log"
    command = [sys.executable, "-m", "realtalk", "serve", "--port", str(port), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=same_code(), start_new_session=True
        )
    server = ServerProcess(process, port, log_path, tls)
    try:
        wait_healthy(process, server.http_url + "/healthz", STARTUP_SECONDS, verify=tls or True)
        yield server
    finally:
        stop(process, seconds=5)  # whatever a test left running, its workers included


async def events_until_closed(client: RealtimeClient) -> tuple[list[dict[str, Any]], int | None]:
    """Every event the server sends until it closes the connection; then the close code it sent."""
    events = []
    while True:
        try:
            events.append(await client.receive())
        except ConnectionClosed as closed:
            return events, closed.rcvd.code if closed.rcvd is not None else None
