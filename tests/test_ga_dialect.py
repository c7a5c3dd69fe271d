"""The GA dialect through a session: GA shapes in and out, and what only GA has (PROTOCOL §4).

How each GA field decodes, and what is refused by name, is the codec's and tested in `test_codec_ga.py`;
here a session takes GA events and answers in GA. Every event is checked against `openai.types.realtime`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedToolCall, ScriptedTurn
from realtalk.protocol.config import LOGPROBS, SessionConfig
from realtalk.protocol.ga import GADialect
from tests.engines import RecordingLLM
from tests.harness import SessionHarness, config, only, scripted_engines, types
from tests.signals import chunks, encode, silence, tone

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


async def ga(session: SessionConfig | None = None, **engines: Any) -> SessionHarness:
    harness = SessionHarness(session or config(), scripted_engines(**engines), dialect=GADialect())
    await harness.start()
    return harness


async def update(harness: SessionHarness, **session: Any) -> list[dict[str, Any]]:
    return await harness.request(
        {"type": "session.update", "event_id": "u1", "session": {"type": "realtime", **session}}
    )


async def test_session_update_maps_the_nested_audio_settings() -> None:
    harness = await ga()
    events = await update(
        harness,
        output_modalities=["text"],
        max_output_tokens=200,
        audio={
            "input": {
                "format": {"type": "audio/pcmu"},
                "turn_detection": {"type": "server_vad", "idle_timeout_ms": 6000},
                "transcription": {"model": "gpt-4o-transcribe", "language": "en"},
                "noise_reduction": {"type": "far_field"},
            },
            "output": {"format": {"type": "audio/pcma"}, "voice": "marin", "speed": 1.2},
        },
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
    )
    session = only(events, "session.updated")["session"]
    assert session["output_modalities"] == ["text"] and session["max_output_tokens"] == 200
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["input"]["turn_detection"]["idle_timeout_ms"] == 6000
    assert session["audio"]["output"] == {"format": {"type": "audio/pcma"}, "voice": "marin", "speed": 1.2}
    assert session["tool_choice"] == {"type": "function", "name": "get_weather"}
    current = harness.session.config
    assert (current.input.format, current.output.format, current.output.voice) == ("g711_ulaw", "g711_alaw", "marin")


async def test_an_update_changes_only_what_it_names() -> None:
    harness = await ga(config(output={"format": "g711_ulaw"}))
    await update(harness, audio={"output": {"voice": "cedar"}})
    await update(harness, instructions="Be brief.")
    current = harness.session.config
    assert (current.output.voice, current.output.format, current.instructions) == ("cedar", "g711_ulaw", "Be brief.")


@pytest.mark.parametrize(
    ("session", "param"),
    [
        ({"max_output_tokens": 0}, "session.max_output_tokens"),
        (
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 2}}}},
            "session.audio.input.turn_detection.threshold",
        ),
        ({"audio": {"output": {"voice": "nova"}}}, "session.audio.output.voice"),
        ({"audio": {"output": {"speed": 3}}}, "session.audio.output.speed"),
        (
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 100}}}},
            "session.audio.input.turn_detection.idle_timeout_ms",
        ),
    ],
)
async def test_errors_name_the_ga_field(session: dict[str, Any], param: str) -> None:
    harness = await ga()
    error = only(await update(harness, **session), "error")["error"]
    assert error["param"] == param and f"'{param}'" in error["message"]


async def test_the_session_type_cannot_change() -> None:
    harness = await ga()
    before = harness.session.config
    error = only(await update(harness, type="transcription"), "error")["error"]
    assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "session.type", "u1")
    assert harness.session.config == before


GA_TEXT = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 3,  # "You", " said:", " hi"
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


async def test_a_text_response_uses_the_ga_event_names() -> None:
    harness = await ga(config(modality="text"))
    created = await harness.say("hi")
    assert types(created) == ["conversation.item.added", "conversation.item.done"]
    events = await harness.response()
    assert types(events) == GA_TEXT
    item = only(events, "conversation.item.done")["item"]
    assert item["content"] == [{"type": "output_text", "text": "You said: hi"}] and item["status"] == "completed"
    response = only(events, "response.done")["response"]
    assert response["output_modalities"] == ["text"] and "modalities" not in response
    assert response["audio"] == {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"}}


async def test_function_call_arguments_done_carries_the_name() -> None:
    llm = ScriptedLLM([ScriptedTurn(tool_calls=(ScriptedToolCall("get_weather", {"city": "Rome"}),))])
    harness = await ga(config(tools=[WEATHER]), llm=llm)
    events = await harness.response()
    done = only(events, "response.function_call_arguments.done")
    assert done["name"] == "get_weather" and json.loads(done["arguments"]) == {"city": "Rome"}


async def test_response_create_takes_ga_overrides() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await ga(llm=llm)
    events = await harness.response(
        {
            "output_modalities": ["text"],
            "max_output_tokens": 2,
            "audio": {"output": {"voice": "ash"}},
            "instructions": "Short.",
        }
    )
    response = only(events, "response.done")["response"]
    assert (response["output_modalities"], response["max_output_tokens"], response["status"]) == (
        ["text"],
        2,
        "incomplete",
    )
    assert response["audio"]["output"]["voice"] == "ash" and llm.requests[-1].messages[0].content == "Short."


@pytest.mark.dialects("ga", "beta")  # both dialects take `parallel_tool_calls` in response.create
async def test_parallel_tool_calls_false_stops_after_one_call() -> None:
    calls = (ScriptedToolCall("get_weather", {"city": "Oslo"}), ScriptedToolCall("get_weather", {"city": "Rome"}))
    llm = ScriptedLLM([ScriptedTurn(tool_calls=calls), ScriptedTurn(tool_calls=calls)])
    harness = SessionHarness(config(tools=[WEATHER]), scripted_engines(llm=llm))
    await harness.start()
    both = only(await harness.response(), "response.done")["response"]["output"]
    one = only(await harness.response({"parallel_tool_calls": False}), "response.done")["response"]["output"]
    assert (len(both), len(one)) == (2, 1)


async def test_a_ga_assistant_item_is_added_and_done_with_output_text() -> None:
    harness = await ga()
    assistant = await harness.request(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Earlier answer."}],
            },
        }
    )
    assert types(assistant) == ["conversation.item.added", "conversation.item.done"]
    assert only(assistant, "conversation.item.done")["item"]["content"] == [
        {"type": "output_text", "text": "Earlier answer."}
    ]


async def test_idle_timeout_prompts_a_response_after_silence() -> None:
    harness = await ga(
        config(modality="text", input={"turn_detection": {"type": "server_vad", "idle_timeout_ms": 5000}})
    )
    await harness.response()
    for piece in chunks(encode(silence(5600), "pcm16"), "pcm16", 100):
        await harness.send({"type": "input_audio_buffer.append", "audio": piece})
    events = await harness.until("response.done")
    assert types(events)[:5] == [
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]
    timeout = events[0]
    # checked as each 100 ms append is judged: within one append (and one VAD frame) of the deadline
    assert timeout["audio_start_ms"] == 0 and 5000 <= timeout["audio_end_ms"] <= 5000 + 100 + 32
    assert timeout["item_id"] == events[1]["item_id"]


# --- transcription sessions --------------------------------------------------------------------------

SPEECH = np.concatenate([silence(500), tone(800), silence(1000)])
HEARD_TURN = [
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.added",
    "conversation.item.done",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
]


async def transcription(**fields: Any) -> SessionHarness:
    """A transcription session in the dialect of the run."""
    harness = SessionHarness(config(type="transcription", **fields))
    await harness.start()
    return harness


async def speak(harness: SessionHarness) -> list[dict[str, Any]]:
    """One spoken turn, and the events up to its transcript."""
    for piece in chunks(encode(SPEECH, "pcm16"), "pcm16", 40):
        await harness.send({"type": "input_audio_buffer.append", "audio": piece})
    return await harness.until("conversation.item.input_audio_transcription.completed")


@pytest.mark.dialects("ga", "beta")
async def test_a_transcription_session_transcribes_turns_and_never_responds() -> None:
    harness = await transcription(include=[LOGPROBS])
    created = harness.events[0]
    if harness.ga:
        assert created["type"] == "session.created"
        assert (created["session"]["type"], created["session"]["object"]) == (
            "transcription",
            "realtime.transcription_session",
        )
    else:
        assert created["type"] == "transcription_session.created"
    events = await speak(harness)
    assert types(events) == harness.expect(HEARD_TURN)
    completed, delta = events[-1], events[-2]
    assert completed["transcript"] == "Hello." and completed["logprobs"][0]["token"] == "Hello."
    assert delta["delta"] == "Hello." and delta["logprobs"] == [
        {"token": "Hello.", "logprob": 0.0, "bytes": list(b"Hello.")}
    ]
    refused = await harness.request({"type": "response.create"})
    assert only(refused, "error")["error"]["code"] == "unsupported_event"


@pytest.mark.dialects("ga", "beta")
async def test_logprobs_come_only_when_included() -> None:
    harness = await transcription()
    completed = (await speak(harness))[-1]
    assert "logprobs" not in completed


async def test_a_ga_transcription_session_is_updated_with_session_update() -> None:
    harness = await transcription()
    events = await harness.request(
        {
            "type": "session.update",
            "session": {
                "type": "transcription",
                "audio": {
                    "input": {
                        "transcription": {"model": "gpt-4o-transcribe", "language": "en"},
                        "turn_detection": {"type": "server_vad", "silence_duration_ms": 300, "create_response": True},
                    }
                },
            },
        }
    )
    audio = only(events, "session.updated")["session"]["audio"]["input"]
    assert audio["transcription"]["model"] == "gpt-4o-transcribe"
    assert audio["turn_detection"]["create_response"] is False  # a transcription session never responds


@pytest.mark.dialects("beta")
async def test_a_beta_transcription_session_uses_transcription_session_update() -> None:
    harness = await transcription()
    assert harness.events[0]["type"] == "transcription_session.created"
    events = await harness.request(
        {
            "type": "transcription_session.update",
            "session": {
                "input_audio_transcription": {"model": "gpt-4o-mini-transcribe"},
                "input_audio_format": "g711_ulaw",
            },
        }
    )
    session = only(events, "transcription_session.updated")["session"]
    assert session["input_audio_transcription"]["model"] == "gpt-4o-mini-transcribe"
    assert session["input_audio_format"] == "g711_ulaw" and session["client_secret"] is None
    refused = await harness.request({"type": "transcription_session.update", "session": {"voice": "ash"}})
    assert only(refused, "error")["error"]["param"] == "session.voice"
