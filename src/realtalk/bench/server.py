"""A realtalk server in its own process, so the benchmark's clients do not share its CPU time with it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
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
import psutil

import realtalk


@dataclass
class ServerProcess:
    base: str  # http://127.0.0.1:PORT
    process: psutil.Process

    @property
    def url(self) -> str:
        """The realtime WebSocket URL."""
        return self.base.replace("http://", "ws://") + "/v1/realtime?model=gpt-realtime"

    def processes(self) -> list[psutil.Process]:
        """The server and, with `--workers N`, the worker processes its supervisor started."""
        return [self.process, *self.process.children(recursive=True)]

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(process) for process in self.processes())

    def rss_bytes(self) -> int:
        return sum(_rss_bytes(process) for process in self.processes())

    def health(self) -> dict[str, Any]:
        """What `GET /healthz` reports now (its counters run over the server's life)."""
        response = httpx.get(self.base + "/healthz", timeout=5)
        response.raise_for_status()
        return dict(response.json())


def _cpu_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:  # a worker that just exited
        return 0.0
    return float(times.user + times.system)


def _rss_bytes(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(*args: str, startup_seconds: float = 120.0) -> Iterator[ServerProcess]:
    port = free_port()
    command = [sys.executable, "-m", "realtalk", "serve", "--port", str(port), "--log-level", "warning", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=same_code(), start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process, base + "/healthz", startup_seconds)
        yield ServerProcess(base, psutil.Process(process.pid))
    finally:
        stop(process)


def same_code() -> dict[str, str]:
    """The environment, with this realtalk's source first on the path: the server must run the code being
    measured, not whichever copy the interpreter would find installed."""
    source = str(Path(realtalk.__file__).resolve().parent.parent)
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([source, inherited] if inherited else [source])}


def wait_healthy(
    process: subprocess.Popen[bytes], health_url: str, seconds: float, verify: ssl.SSLContext | bool = True
) -> None:
    """Until `health_url` answers 200; a process that exits or never answers is an error."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(health_url, timeout=1, verify=verify).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server behind {health_url} did not start")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes], seconds: float = 10.0) -> None:
    """SIGTERM, as an orchestrator stops a server (it drains); then, if need be, SIGKILL to the whole process
    group, so that no worker of a `--workers N` server outlives its supervisor. The process must have been
    started in a session of its own (`start_new_session=True`)."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(seconds)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
