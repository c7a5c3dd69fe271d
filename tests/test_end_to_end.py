"""The whole offline stack over a real socket, in each dialect: speak, be understood, hear an answer that says
what it shows."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import numpy as np
import pytest

from realtalk.audio.formats import Resampler
from realtalk.config import Settings
from realtalk.engines.base import TranscriptFinal
from realtalk.engines.registry import Engines
from realtalk.server.app import create_app
from tests.harness import event_name
from tests.live import LiveServer
from tests.signals import silence
from tests.wer import word_error_rate
from tests.wsclient import RealtimeClient

pytestmark = [pytest.mark.models, pytest.mark.live, pytest.mark.dialects("ga", "beta")]
QUESTION = "What is the capital of France?"
CHUNK_MS = 40
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"],
    },
}


@pytest.fixture
def server(embedded: Engines) -> Iterator[LiveServer]:
    with LiveServer(create_app(Settings(engines="scripted"), engines=embedded)) as live:
        yield live


async def open_session(
    server: LiveServer, dialect: str, ga_session: dict[str, Any], beta_session: dict[str, Any]
) -> RealtimeClient:
    """A session in `dialect`, updated with the same settings written in each dialect's shape."""
    ga = dialect == "ga"
    client = await RealtimeClient.open(server.ws_url + "?model=gpt-realtime", ga=ga)
    await client.until("conversation.created")
    session = {"type": "realtime", **ga_session} if ga else beta_session
    await client.send({"type": "session.update", "session": session})
    await client.until("session.updated")
    return client


async def hear(engines: Engines, pcm16: bytes) -> str:
    samples = Resampler(24_000, engines.stt.sample_rate).process(
        np.frombuffer(pcm16, dtype="<i2").astype(np.int16), last=True
    )
    events = [e async for e in engines.stt.transcribe(samples, language="en", prompt=None)]
    final = events[-1]
    assert isinstance(final, TranscriptFinal)
    return final.text


async def test_a_spoken_question_gets_a_spoken_answer_that_matches_its_transcript(
    server: LiveServer, embedded: Engines, session_dialect: str
) -> None:
    speech = np.concatenate([c async for c in embedded.tts.synthesize(QUESTION, voice="marin", speed=1.0)])
    audio = np.concatenate([silence(600), speech, silence(1200)]).astype("<i2").tobytes()
    client = await open_session(
        server,
        session_dialect,
        {
            "audio": {"input": {"turn_detection": {"type": "server_vad"}, "transcription": {"model": "whisper-1"}}},
            "max_output_tokens": 60,
        },
        {
            "turn_detection": {"type": "server_vad"},
            "input_audio_transcription": {"model": "whisper-1"},
            "max_response_output_tokens": 60,
        },
    )
    step = 24 * CHUNK_MS * 2
    for start in range(0, len(audio), step):  # in real time, as a microphone would
        await client.send(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(audio[start : start + step]).decode()}
        )
        await asyncio.sleep(CHUNK_MS / 1000)
    events = await client.until("response.done")
    while "conversation.item.input_audio_transcription.completed" not in [e["type"] for e in events]:
        events.append(await client.receive())
    kinds = [e["type"] for e in events]
    assert kinds[:4] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        event_name(session_dialect, "conversation.item.added"),
    ]
    heard = next(e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert word_error_rate(QUESTION, heard["transcript"]) <= 0.20, heard["transcript"]
    audio_delta = event_name(session_dialect, "response.output_audio.delta")
    answer_audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == audio_delta)
    transcript_done = event_name(session_dialect, "response.output_audio_transcript.done")
    transcript = next(e for e in events if e["type"] == transcript_done)["transcript"]
    assert len(answer_audio) > 24_000 and transcript.strip()  # over half a second of speech
    spoken = await hear(embedded, answer_audio)
    assert word_error_rate(transcript, spoken) <= 0.35, (transcript, spoken)
    done = events[kinds.index("response.done")]["response"]
    assert done["status"] in ("completed", "incomplete") and done["usage"]["output_token_details"]["audio_tokens"] > 0
    await client.close()


async def test_a_text_turn(server: LiveServer, session_dialect: str) -> None:
    client = await open_session(
        server,
        session_dialect,
        {"output_modalities": ["text"], "max_output_tokens": 40},
        {"modalities": ["text"], "max_response_output_tokens": 40},
    )
    await client.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What is two plus two?"}],
            },
        }
    )
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    text_done = event_name(session_dialect, "response.output_text.done")
    text = next(e for e in events if e["type"] == text_done)["text"]
    assert text.strip() and events[-1]["response"]["usage"]["output_tokens"] > 0
    await client.close()


async def test_a_forced_tool_call_has_arguments_valid_for_the_tool(server: LiveServer, session_dialect: str) -> None:
    client = await open_session(
        server,
        session_dialect,
        {"output_modalities": ["text"], "tools": [WEATHER], "tool_choice": {"type": "function", "name": "get_weather"}},
        {"modalities": ["text"], "tools": [WEATHER], "tool_choice": "get_weather"},
    )
    await client.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Is it cold in Oslo?"}],
            },
        }
    )
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    call = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    jsonschema.validate(json.loads(call["arguments"]), WEATHER["parameters"])
    item = events[-1]["response"]["output"][0]
    assert (item["type"], item["name"], item["status"]) == ("function_call", "get_weather", "completed")
    await client.close()


async def test_the_assistant_speaks_first_on_an_empty_conversation(server: LiveServer, session_dialect: str) -> None:
    client = await open_session(server, session_dialect, {"max_output_tokens": 60}, {"max_response_output_tokens": 60})
    instructions = "Greet the caller and ask how you can help."
    await client.send({"type": "response.create", "response": {"instructions": instructions}})
    events = await client.until("response.done")
    done = events[-1]["response"]
    assert done["status"] in ("completed", "incomplete")
    assert [(o["type"], o["role"]) for o in done["output"]] == [("message", "assistant")]
    transcript_done = event_name(session_dialect, "response.output_audio_transcript.done")
    transcript = next(e for e in events if e["type"] == transcript_done)["transcript"]
    audio_delta = event_name(session_dialect, "response.output_audio.delta")
    audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == audio_delta)
    assert transcript.strip() and len(audio) > 24_000, (transcript, len(audio))  # over half a second of speech
    await client.close()
