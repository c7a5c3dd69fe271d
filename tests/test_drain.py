"""A draining server (SIGTERM): answers under way finish, then every session is told and closed with 1012.

Each test runs `realtalk serve` in its own process, its LLM a backend the test holds mid-answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.backends import HeldChat
from tests.phone_client import TwilioCaller
from tests.rtc_client import RtcClient
from tests.server_process import ServerProcess, events_until_closed, realtalk_serve
from tests.test_webrtc_calls import connect
from tests.test_websocket import wait_until
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live
ASK_LONG = {
    "type": "conversation.item.create",
    "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Something long."}]},
}
TEXT_ONLY = {"type": "response.create", "response": {"output_modalities": ["text"]}}


@pytest.fixture
def chat() -> Iterator[tuple[HeldChat, str]]:
    backend = HeldChat()
    with backend.running() as url:
        yield backend, url


def serving(tmp_path: Path, llm_url: str, drain_seconds: float) -> Any:
    return realtalk_serve(
        tmp_path, "--engines", "scripted", "--llm", "remote", "--llm-url", llm_url,
        "--drain-seconds", str(drain_seconds), "--webrtc-host-ip", "127.0.0.1", "--allow-unsigned-phone-streams",
    )  # fmt: skip


async def held_answer(server: ServerProcess) -> RealtimeClient:
    """A session whose answer has begun (its first words are out) and is held there."""
    client = await RealtimeClient.open(server.ws_url, ga=True)
    await client.until("session.created")
    await client.send(ASK_LONG)
    await client.send(TEXT_ONLY)
    await client.until("response.output_text.delta")
    return client


def tail(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Each event's type and what it says of its end: a response's status, an error's code."""
    said = {"response.done": lambda e: e["response"]["status"], "error": lambda e: e["error"]["code"]}
    return [(e["type"], said.get(e["type"], lambda e: None)(e)) for e in events]


async def test_an_answer_under_way_finishes_then_the_session_is_told_and_closed_with_1012(
    tmp_path: Path, chat: tuple[HeldChat, str]
) -> None:
    backend, url = chat
    with serving(tmp_path, url, drain_seconds=30) as server:
        client = await held_answer(server)
        server.signal()
        assert (await asyncio.to_thread(server.until_draining))["reasons"] == ["draining: the server is shutting down"]
        backend.release()
        events, close_code = await events_until_closed(client)
        assert tail(events)[-2:] == [("response.done", "completed"), ("error", "server_shutting_down")]
        assert events[-1]["error"]["type"] == "server_error"
        assert close_code == 1012
        assert await asyncio.to_thread(server.exit_code, 10) == 0


async def test_past_the_drain_seconds_an_answer_is_cut_and_the_session_closed(
    tmp_path: Path, chat: tuple[HeldChat, str]
) -> None:
    _, url = chat
    with serving(tmp_path, url, drain_seconds=0.5) as server:
        client = await held_answer(server)
        signalled = time.monotonic()
        server.signal()
        events, close_code = await events_until_closed(client)
        closed_after = time.monotonic() - signalled
        assert tail(events) == [("error", "server_shutting_down")]  # the held answer never finished
        assert close_code == 1012
        assert 0.5 <= closed_after < 3
        assert await asyncio.to_thread(server.exit_code, 10) == 0


async def test_a_session_with_nothing_under_way_is_closed_at_once(tmp_path: Path, chat: tuple[HeldChat, str]) -> None:
    _, url = chat
    with serving(tmp_path, url, drain_seconds=30) as server:
        client = await RealtimeClient.open(server.ws_url, ga=True)
        await client.until("conversation.created")
        signalled = time.monotonic()
        server.signal()
        events, close_code = await events_until_closed(client)
        assert (tail(events), close_code) == ([("error", "server_shutting_down")], 1012)
        assert time.monotonic() - signalled < 2
        assert await asyncio.to_thread(server.exit_code, 10) == 0


async def test_while_draining_new_sessions_and_requests_get_503_server_draining(
    tmp_path: Path, chat: tuple[HeldChat, str]
) -> None:
    backend, url = chat
    with serving(tmp_path, url, drain_seconds=30) as server:
        client = await held_answer(server)  # keeps the server draining until released
        server.signal()
        await asyncio.to_thread(server.until_draining)
        with pytest.raises(InvalidStatus) as refused:
            await RealtimeClient.open(server.ws_url, ga=True)
        models = await asyncio.to_thread(server.get, "/v1/models")
        alive = await asyncio.to_thread(server.get, "/healthz")
        backend.release()
        await events_until_closed(client)
    assert refused.value.response.status_code == 503
    assert b'"code":"server_draining"' in refused.value.response.body
    assert (models.status_code, models.json()["error"]["code"], models.json()["error"]["type"]) == (
        503,
        "server_draining",
        "server_error",
    )
    assert alive.status_code == 200


async def test_a_webrtc_call_is_told_on_its_data_channel_and_hung_up(
    tmp_path: Path, chat: tuple[HeldChat, str]
) -> None:
    _, url = chat
    with serving(tmp_path, url, drain_seconds=30) as server:
        async with RtcClient() as caller, httpx.AsyncClient(base_url=server.http_url) as http:
            await connect(http, caller)
            server.signal()
            told = await caller.next_event("error")
            channel = caller.channel
            assert channel is not None
            hung_up = await wait_until(lambda: channel.readyState == "closed")
            assert await asyncio.to_thread(server.exit_code, 10) == 0
    assert (told["error"]["type"], told["error"]["code"]) == ("server_error", "server_shutting_down")
    assert hung_up


async def test_a_phone_call_is_hung_up(tmp_path: Path, chat: tuple[HeldChat, str]) -> None:
    _, url = chat
    with serving(tmp_path, url, drain_seconds=30) as server:
        stream = server.ws_url.replace("/v1/realtime", "/telephony/twilio/stream")
        async with TwilioCaller(stream) as caller:
            assert await wait_until(lambda: server.get("/healthz").json()["calls"] == 1)
            server.signal()
            await asyncio.wait_for(caller.closed.wait(), 10)
            assert await asyncio.to_thread(server.exit_code, 10) == 0
