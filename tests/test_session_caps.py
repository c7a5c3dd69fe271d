"""Per-session caps: each refusal is a client error in the protocol's shape, and the session goes on."""

from __future__ import annotations

import base64

import pytest

from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedToolCall, ScriptedTurn
from realtalk.session.session import SessionLimits
from tests.harness import SessionHarness, config, no_vad, scripted_engines, types

pytestmark = pytest.mark.dialects("ga", "beta")

FULL = "The conversation holds at most 2 items; delete some first."
WEATHER = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}


def user_text(text: str, event_id: str = "evt_add") -> dict[str, object]:
    return {
        "type": "conversation.item.create",
        "event_id": event_id,
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    }


def append(audio: bytes) -> dict[str, object]:
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(audio).decode()}


async def full_conversation(session_config: object = None, **engines: object) -> SessionHarness:
    """A session whose conversation (capped at two items) already holds two."""
    harness = SessionHarness(
        no_vad(modality="text") if session_config is None else session_config,  # type: ignore[arg-type]
        scripted_engines(**engines),
        limits=SessionLimits(max_conversation_items=2),
    )
    await harness.start()
    await harness.send(user_text("one"))
    await harness.send(user_text("two"))
    harness.drain()
    return harness


async def test_an_item_past_the_cap_is_refused_by_name() -> None:
    harness = await full_conversation()
    (error,) = await harness.request(user_text("three", "evt_third"))
    assert error["type"] == "error"
    assert error["error"] == {
        "type": "invalid_request_error",
        "code": "conversation_full",
        "message": FULL,
        "param": None,
        "event_id": "evt_third",
    }


async def test_a_refused_commit_keeps_the_buffered_audio_for_after_a_delete() -> None:
    harness = await full_conversation()
    await harness.send(append(b"\x01\x00" * 4800))  # 200 ms
    (error,) = await harness.request({"type": "input_audio_buffer.commit"})
    assert error["error"]["code"] == "conversation_full"
    first = harness.session.conversation.items[0].id
    await harness.send({"type": "conversation.item.delete", "item_id": first})
    harness.drain()
    events = await harness.request({"type": "input_audio_buffer.commit"})
    assert types(events)[0] == "input_audio_buffer.committed"
    assert harness.session.conversation.items[-1].content[0].audio == b"\x01\x00" * 4800


async def test_a_response_with_no_room_for_its_output_is_refused_before_it_starts() -> None:
    harness = await full_conversation()
    (error,) = await harness.request({"type": "response.create", "event_id": "evt_respond"})
    assert (error["error"]["code"], error["error"]["message"]) == ("conversation_full", FULL)
    out_of_band = await harness.response({"conversation": "none", "input": []})
    assert harness.only(out_of_band, "response.done")["response"]["status"] == "completed"


async def test_a_response_that_fills_the_conversation_midway_fails_as_the_clients_error() -> None:
    call = ScriptedToolCall("get_weather", {"city": "Paris"})
    harness = SessionHarness(
        no_vad(modality="text", tools=[WEATHER]),
        scripted_engines(llm=ScriptedLLM([ScriptedTurn("Let me look.", tool_calls=(call,))])),
        limits=SessionLimits(max_conversation_items=2),
    )
    await harness.start()
    await harness.send(user_text("Weather in Paris?"))
    events = await harness.response()
    done = harness.only(events, "response.done")["response"]
    assert done["status"] == "failed"
    assert done["status_details"]["error"] == {
        "type": "invalid_request_error",
        "code": "conversation_full",
        "message": FULL,
    }
    assert [item["type"] for item in done["output"]] == ["message"]  # the call never appeared anywhere
    assert not harness.of(events, "response.function_call_arguments.delta")


async def test_a_voice_turn_into_a_full_conversation_is_reported_not_answered() -> None:
    harness = await full_conversation(config(modality="text"))
    events = await harness.request(append(b"\x00\x00" * 2400 + b"\xff\x3f" * 24000 + b"\x00\x00" * 24000))
    assert types(events) == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "error"]
    assert events[2]["error"]["code"] == "conversation_full"


CAP = 1024 * 1024  # bytes of audio a session may hold here: about 22 s of pcm16


async def audio_capped(limit: int = CAP, **fields: object) -> SessionHarness:
    harness = SessionHarness(no_vad(**fields), limits=SessionLimits(max_audio_bytes=limit))
    await harness.start()
    return harness


async def test_appends_past_the_sessions_audio_cap_are_refused_until_the_buffer_is_cleared() -> None:
    harness = await audio_capped()
    assert await harness.request(append(b"\x00" * (CAP - 2))) == []
    (error,) = await harness.request(append(b"\x00" * 4))
    assert error["error"]["code"] == "session_audio_full"
    assert error["error"]["param"] == "audio"
    assert error["error"]["message"] == (
        "The session holds at most 1 MiB of audio, buffered and in the conversation (1.0 MiB now); "
        "clear the buffer or delete audio items first."
    )
    assert harness.session.input.buffer.size == CAP - 2
    assert types(await harness.request({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    assert await harness.request(append(b"\x00" * CAP)) == []


async def test_committed_audio_counts_until_its_item_is_deleted() -> None:
    harness = await audio_capped()
    await harness.send(append(b"\x00" * (CAP // 2)))
    committed, *_ = await harness.request({"type": "input_audio_buffer.commit"})
    assert committed["type"] == "input_audio_buffer.committed"
    (error,) = await harness.request(append(b"\x00" * (CAP // 2 + 2)))
    assert error["error"]["code"] == "session_audio_full"
    await harness.send({"type": "conversation.item.delete", "item_id": committed["item_id"]})
    harness.drain()
    assert await harness.request(append(b"\x00" * CAP)) == []


async def test_an_audio_item_past_the_cap_is_refused_naming_its_content() -> None:
    harness = await audio_capped()
    item = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "audio": base64.b64encode(b"\x00" * (CAP + 2)).decode()}],
    }
    (error,) = await harness.request({"type": "conversation.item.create", "item": item})
    assert (error["error"]["code"], error["error"]["param"]) == ("session_audio_full", "item.content")
    assert len(harness.session.conversation) == 0


async def test_the_assistants_speech_counts_once_its_response_is_done() -> None:
    harness = await audio_capped(modality="audio")
    events = await harness.response()
    spoken = sum(len(base64.b64decode(e["delta"])) for e in harness.of(events, "response.output_audio.delta"))
    assert spoken > 0
    (error,) = await harness.request(append(b"\x00" * (CAP - spoken + 2)))
    assert error["error"]["code"] == "session_audio_full"
    assert await harness.request(append(b"\x00" * (CAP - spoken))) == []
