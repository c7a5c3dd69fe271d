"""The official `openai` SDK against a live realtalk: the conformance check that matters to users."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from openai import AsyncOpenAI

from realtalk.config import Settings
from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedToolCall, ScriptedTurn
from realtalk.server.app import create_app
from tests.harness import scripted_engines
from tests.live import LiveServer

pytestmark = pytest.mark.live
KEY = "sk-sdk-test"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def server() -> Iterator[LiveServer]:
    llm = ScriptedLLM(
        [
            ScriptedTurn("Hello from realtalk."),
            ScriptedTurn(tool_calls=(ScriptedToolCall("get_weather", {"city": "Paris"}),)),
        ]
    )
    with LiveServer(create_app(Settings(api_key=[KEY]), engines=scripted_engines(llm=llm))) as live:
        yield live


def sdk(server: LiveServer, api_key: str = KEY) -> AsyncOpenAI:
    return AsyncOpenAI(
        api_key=api_key, base_url=f"{server.http_url}/v1", websocket_base_url=f"ws://127.0.0.1:{server.port}/v1"
    )


async def respond(conn: Any) -> list[Any]:
    """`response.create`, then every event up to and including its `response.done`."""
    await conn.response.create()
    events = []
    async for event in conn:
        events.append(event)
        if event.type == "response.done":
            return events
    raise AssertionError("the connection closed before response.done")


def first(events: list[Any], event_type: str) -> Any:
    return next(event for event in events if event.type == event_type)


async def test_sdk_text_turn_and_function_call_round_trip(server: LiveServer) -> None:
    client = sdk(server)
    async with client.beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        await conn.session.update(session={"modalities": ["text"], "tools": [WEATHER]})  # type: ignore[list-item]
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi!"}]}
        )
        events = await respond(conn)
        assert "".join(e.delta for e in events if e.type == "response.text.delta") == "Hello from realtalk."
        assert events[-1].response.status == "completed"

        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]}
        )
        call = first(await respond(conn), "response.function_call_arguments.done")
        assert json.loads(call.arguments) == {"city": "Paris"}

        await conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": json.dumps({"sky": "clear"})}
        )
        events = await respond(conn)
        assert first(events, "response.text.done").text == 'The tool returned: {"sky": "clear"}'
        assert events[-1].response.status == "completed"


async def test_sdk_audio_turn(server: LiveServer) -> None:
    async with sdk(server).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        events = await respond(conn)
        audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.audio.delta")
        assert len(audio) == len("Hello from realtalk.") * 20 * 48


async def test_sdk_minted_secret_opens_a_session_with_its_config(server: LiveServer) -> None:
    secret = await sdk(server).beta.realtime.sessions.create(
        model="gpt-4o-realtime-preview", voice="coral", instructions="Be kind."
    )
    assert secret.client_secret.value.startswith("ek_") and secret.voice == "coral"
    async with sdk(server, secret.client_secret.value).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        async for event in conn:
            assert event.type == "session.created"
            assert (event.session.voice, event.session.instructions) == ("coral", "Be kind.")
            break


async def test_sdk_transcription_session_minting(server: LiveServer) -> None:
    minted = await sdk(server).beta.realtime.transcription_sessions.create(
        input_audio_transcription={"model": "gpt-4o-mini-transcribe"}
    )
    assert minted.client_secret.value.startswith("ek_")
    assert minted.input_audio_transcription is not None
    assert minted.input_audio_transcription.model == "gpt-4o-mini-transcribe"


# --- the GA client (`client.realtime`) ---------------------------------------------------------------


async def test_ga_sdk_text_turn_and_function_call_round_trip(server: LiveServer) -> None:
    client = sdk(server)
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER]})  # type: ignore[list-item]
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi!"}]}
        )
        events = await respond(conn)
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Hello from realtalk."

        call = first(await respond(conn), "response.function_call_arguments.done")
        assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}

        await conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "clear"}'}
        )
        events = await respond(conn)
        assert first(events, "response.output_text.done").text == 'The tool returned: {"sky": "clear"}'
        assert events[-1].response.status == "completed"


async def test_ga_client_secret_opens_sessions_with_its_config(server: LiveServer) -> None:
    secret = await sdk(server).realtime.client_secrets.create(
        session={"type": "realtime", "instructions": "Be kind.", "audio": {"output": {"voice": "coral"}}}
    )
    assert secret.value.startswith("ek_") and secret.session.type == "realtime"
    for _ in range(2):  # one secret opens several sessions until it expires
        async with sdk(server, secret.value).realtime.connect(model="gpt-realtime") as conn:
            async for event in conn:
                assert event.type == "session.created" and event.session.type == "realtime"
                assert event.session.instructions == "Be kind." and event.session.audio.output.voice == "coral"  # type: ignore[union-attr]
                break


async def test_ga_transcription_secret(server: LiveServer) -> None:
    secret = await sdk(server).realtime.client_secrets.create(
        session={"type": "transcription", "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}}}
    )
    assert secret.session.type == "transcription"
    async with sdk(server, secret.value).realtime.connect(model="gpt-realtime") as conn:
        async for event in conn:
            assert event.type == "session.created" and event.session.type == "transcription"
            break
