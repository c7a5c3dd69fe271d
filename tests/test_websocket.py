"""The realtime WebSocket transport against a live server: ordering, framing, limits and clean-up."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator

import pytest

from realtalk.config import Settings
from realtalk.server.app import create_app
from tests.engines import GatedLLM
from tests.harness import scripted_engines, types
from tests.live import LiveServer
from tests.virtual_clock import VirtualClock
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live


@pytest.fixture
def llm() -> GatedLLM:
    return GatedLLM(pause_after=2)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def server(llm: GatedLLM, clock: VirtualClock) -> Iterator[LiveServer]:
    app = create_app(Settings(max_event_mb=1.0), engines=scripted_engines(llm=llm), clock=clock)
    with LiveServer(app) as live:
        yield live


async def test_events_sent_before_session_created_are_queued_not_dropped(server: LiveServer) -> None:
    client = await RealtimeClient.open(server.ws_url + "?model=gpt-4o-realtime-preview")
    await client.send({"type": "session.update", "session": {"instructions": "early"}})
    await client.send({"type": "input_audio_buffer.clear"})
    events = [await client.receive() for _ in range(4)]
    assert types(events) == ["session.created", "conversation.created", "session.updated", "input_audio_buffer.cleared"]
    assert events[0]["session"]["model"] == "gpt-4o-realtime-preview"
    assert events[2]["session"]["instructions"] == "early"
    await client.close()


async def test_the_beta_header_is_accepted(server: LiveServer) -> None:
    client = await RealtimeClient.open(server.ws_url, headers={"OpenAI-Beta": "realtime=v1"})
    assert (await client.receive())["type"] == "session.created"
    await client.close()


async def test_bad_frames_get_errors_and_the_session_goes_on(server: LiveServer) -> None:
    client = await RealtimeClient.open(server.ws_url)
    await client.until("conversation.created")
    await client.send("{broken")
    await client.connection.send(b"\x01\x02")
    await client.send(
        json.dumps({"type": "input_audio_buffer.append", "event_id": "big", "audio": "A" * (3 * 512 * 1024)})
    )
    errors = [await client.receive() for _ in range(3)]
    assert [e["error"]["code"] for e in errors] == ["invalid_json", "invalid_event", "event_too_large"]
    await client.send({"type": "input_audio_buffer.clear"})
    assert (await client.receive())["type"] == "input_audio_buffer.cleared"
    await client.close()


async def test_a_full_text_turn_over_the_socket(server: LiveServer, llm: GatedLLM) -> None:
    llm.gate.set()
    client = await RealtimeClient.open(server.ws_url)
    await client.until("conversation.created")
    await client.send({"type": "response.create", "response": {"modalities": ["text"]}})
    events = await client.until("response.done")
    assert "".join(e["delta"] for e in events if e["type"] == "response.text.delta") == "One two three four."
    await client.close()


async def wait_until(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_client_vanishing_mid_response_leaves_no_task_running(server: LiveServer, llm: GatedLLM) -> None:
    baseline = server.call(lambda: len(asyncio.all_tasks()))
    client = await RealtimeClient.open(server.ws_url)
    await client.until("conversation.created")
    await client.send({"type": "response.create", "response": {"modalities": ["text"]}})
    await client.until("response.text.delta")
    assert server.call(lambda: len(server.app.state.sessions)) == 1
    client.connection.transport.abort()  # gone: no close frame, no goodbye
    assert await wait_until(lambda: server.call(lambda: len(server.app.state.sessions)) == 0)
    assert await wait_until(lambda: llm.streams_closed == llm.streams_open == 1)
    assert await wait_until(lambda: server.call(lambda: len(asyncio.all_tasks())) <= baseline)


async def test_the_session_ends_at_its_maximum_duration(server: LiveServer, clock: VirtualClock) -> None:
    client = await RealtimeClient.open(server.ws_url)
    await client.until("conversation.created")
    server.call(lambda: clock.advance(30 * 60))
    error = await client.receive()
    assert error["type"] == "error" and error["error"]["code"] == "session_expired"
    await asyncio.wait_for(client.connection.wait_closed(), 5)
    assert client.connection.close_code == 1000


async def test_ga_is_served_to_clients_without_the_beta_header(server: LiveServer) -> None:
    client = await RealtimeClient.open(server.ws_url + "?model=gpt-realtime", ga=True)
    created = await client.receive()
    assert created["type"] == "session.created" and created["session"]["type"] == "realtime"
    await client.close()


async def test_intent_transcription_opens_a_transcription_session(server: LiveServer) -> None:
    client = await RealtimeClient.open(server.ws_url + "?intent=transcription", ga=True)
    session = (await client.receive())["session"]
    assert (session["type"], session["object"]) == ("transcription", "realtime.transcription_session")
    await client.send({"type": "response.create"})
    assert (await client.until("error"))[-1]["error"]["code"] == "unsupported_event"
    await client.close()
    beta = await RealtimeClient.open(server.ws_url + "?intent=transcription")
    assert (await beta.receive())["type"] == "transcription_session.created"
    await beta.close()
