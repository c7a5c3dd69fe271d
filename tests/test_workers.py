"""`realtalk serve --workers N`: N processes share one port, each serving sessions of its own."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.server_process import ServerProcess, realtalk_serve
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live
SESSIONS = 12


def sessions_by_worker(server: ServerProcess, workers: int, seconds: float = 20.0) -> dict[int, int]:
    """Each worker's open sessions as its `/healthz` reports them, asked on fresh connections until all
    `workers` have answered."""
    seen: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    while len(seen) < workers:
        assert time.monotonic() < deadline, f"only workers {sorted(seen)} answered"
        health = server.get("/healthz").json()
        seen[health["pid"]] = health["sessions"]
    return seen


async def test_two_workers_each_serve_some_of_the_sessions_and_every_session_answers(tmp_path: Path) -> None:
    with realtalk_serve(tmp_path, "--engines", "scripted", "--workers", "2") as server:
        await asyncio.to_thread(sessions_by_worker, server, 2)  # both are up
        clients = [await RealtimeClient.open(server.ws_url, ga=True) for _ in range(SESSIONS)]
        for client in clients:
            await client.until("conversation.created")
        spread = await asyncio.to_thread(sessions_by_worker, server, 2)
        scraped = await asyncio.to_thread(server.get, "/metrics")
        for client in clients:
            await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        answers = [(await client.until("response.done"))[-1]["response"]["status"] for client in clients]
        for client in clients:
            await client.close()
    assert server.process.pid not in spread  # the supervisor serves nothing itself
    assert len(spread) == 2 and min(spread.values()) >= 1 and sum(spread.values()) == SESSIONS, spread
    assert answers == ["completed"] * SESSIONS
    assert open_sessions(scraped.text) == SESSIONS  # whichever worker answered /metrics, it counted both


def open_sessions(exposition: str) -> float:
    """The `realtalk_active_sessions` samples of a `/metrics` page, added up over their labels."""
    samples = [line.split() for line in exposition.splitlines() if line.startswith("realtalk_active_sessions{")]
    return sum(float(value) for _, value in samples)
