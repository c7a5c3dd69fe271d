"""A session opens with `session.created`, then `conversation.created`, and holds the documented defaults."""

from __future__ import annotations

import pytest

from realtalk.protocol.config import SessionConfig
from tests.harness import SessionHarness, types

pytestmark = pytest.mark.dialects("ga", "beta")

DEFAULT_TURN_DETECTION = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "create_response": True,
    "interrupt_response": True,
}


async def test_session_created_comes_first_then_conversation_created() -> None:
    harness = SessionHarness()
    events = await harness.start()
    assert types(events) == ["session.created", "conversation.created"]
    assert events[1]["conversation"]["object"] == "realtime.conversation"
    assert events[1]["conversation"]["id"].startswith("conv_")


async def test_session_created_carries_the_documented_defaults() -> None:
    harness = SessionHarness()
    session = (await harness.start())[0]["session"]
    assert session["id"].startswith("sess_")
    assert session["object"] == "realtime.session"
    assert session["model"] == "gpt-4o-realtime-preview"
    assert session["tools"] == [] and session["tool_choice"] == "auto"
    if harness.ga:
        assert session["type"] == "realtime"
        assert session["output_modalities"] == ["audio"]
        assert session["max_output_tokens"] == "inf"
        assert session["truncation"] == "auto"
        assert session["audio"] == {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {**DEFAULT_TURN_DETECTION, "idle_timeout_ms": None},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
        }
    else:
        assert session["modalities"] == ["text", "audio"]
        assert session["voice"] == "alloy"
        assert session["input_audio_format"] == session["output_audio_format"] == "pcm16"
        assert session["turn_detection"] == DEFAULT_TURN_DETECTION
        assert session["temperature"] == 0.8
        assert session["max_response_output_tokens"] == "inf"
        assert session["speed"] == 1.0
        assert session["input_audio_transcription"] is None
        assert session["input_audio_noise_reduction"] is None


async def test_a_model_name_of_the_clients_own_is_echoed_in_ga_and_shown_as_gpt_realtime_in_beta() -> None:
    harness = SessionHarness(config=SessionConfig(model="llama-3.2-local"))
    session = (await harness.start())[0]["session"]
    assert session["model"] == ("llama-3.2-local" if harness.ga else "gpt-realtime")  # beta's types list models
    assert harness.session.config.model == "llama-3.2-local"


async def test_every_event_id_is_fresh() -> None:
    harness = SessionHarness()
    events = await harness.start()
    ids = [event["event_id"] for event in events]
    assert all(i.startswith("event_") for i in ids) and len(set(ids)) == len(ids)
