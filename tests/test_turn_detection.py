"""server_vad and semantic_vad turn taking, and barge-in, on a deterministic energy VAD (PROTOCOL §3.6 b, d)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedTurn
from realtalk.engines.scripted.stt import ScriptedSTT
from realtalk.protocol.session_config import SessionConfig
from realtalk.session.turn_detection import FINISHED_WAIT_MS, UNFINISHED_WAIT_MS, looks_finished
from tests.engines import GatedLLM
from tests.harness import AUDIO_CANCELLED_TAIL, SessionHarness, only, scripted_engines, types
from tests.signals import chunks, encode, noise, silence, tone

FRAME_MS = 32  # the VAD frame: onsets and ends are located to within one of these


def session(turn_detection: dict[str, Any] | None = None, **fields: Any) -> SessionHarness:
    engines = fields.pop("engines", None)
    config = {"model": "gpt-4o-realtime-preview", "modalities": ["text"], **fields}
    if turn_detection is not None:
        config["turn_detection"] = {"type": "server_vad", **turn_detection}
    return SessionHarness(SessionConfig.model_validate(config), engines)


async def stream(harness: SessionHarness, audio: np.ndarray, audio_format: str = "pcm16", chunk_ms: int = 40) -> None:
    for piece in chunks(encode(audio, audio_format), audio_format, chunk_ms):
        await harness.send({"type": "input_audio_buffer.append", "audio": piece})


SPEECH = np.concatenate([silence(1000), tone(1000), silence(1000)])  # speech from 1000 to 2000 ms


async def test_a_turn_is_detected_committed_and_answered() -> None:
    harness = session({})
    await harness.start()
    await stream(harness, SPEECH)
    events = await harness.until("response.done")
    assert types(events)[:6] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
        "response.created",
        "rate_limits.updated",
    ]
    started, stopped, committed, created = events[:4]
    item_id = started["item_id"]
    assert stopped["item_id"] == committed["item_id"] == created["item"]["id"] == item_id
    assert created["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert abs(started["audio_start_ms"] - (1000 - 300)) <= FRAME_MS
    assert abs(stopped["audio_end_ms"] - (2000 + 500)) <= FRAME_MS


@pytest.mark.parametrize("audio_format", ["pcm16", "g711_ulaw", "g711_alaw"])
@pytest.mark.parametrize("chunk_ms", [20, 50, 100])
async def test_times_are_audio_milliseconds_whatever_the_format_and_chunking(audio_format: str, chunk_ms: int) -> None:
    harness = session({"create_response": False}, input_audio_format=audio_format)
    await harness.start()
    await stream(harness, SPEECH, audio_format, chunk_ms)
    events = harness.drain()
    started = only(events, "input_audio_buffer.speech_started")
    stopped = only(events, "input_audio_buffer.speech_stopped")
    assert abs(started["audio_start_ms"] - 700) <= FRAME_MS
    assert abs(stopped["audio_end_ms"] - 2500) <= FRAME_MS


async def test_the_committed_audio_runs_from_the_padded_onset_to_the_stop() -> None:
    harness = session({"create_response": False, "prefix_padding_ms": 200, "silence_duration_ms": 300})
    await harness.start()
    await stream(harness, SPEECH)
    events = harness.drain()
    started = only(events, "input_audio_buffer.speech_started")
    stopped = only(events, "input_audio_buffer.speech_stopped")
    stored = harness.session.conversation.get(started["item_id"]).content[0].audio or b""
    assert abs(len(stored) / 48 - (stopped["audio_end_ms"] - started["audio_start_ms"])) <= 1
    assert abs(started["audio_start_ms"] - 800) <= FRAME_MS and abs(stopped["audio_end_ms"] - 2300) <= FRAME_MS


async def test_two_turns_are_two_items_in_order() -> None:
    harness = session({"create_response": False})
    await harness.start()
    await stream(harness, np.concatenate([SPEECH, tone(600), silence(1000)]))
    events = harness.drain()
    starts = [e["audio_start_ms"] for e in events if e["type"] == "input_audio_buffer.speech_started"]
    assert [abs(s - t) <= FRAME_MS for s, t in zip(starts, [700, 2700], strict=True)] == [True, True]
    committed = [e for e in events if e["type"] == "input_audio_buffer.committed"]
    assert committed[1]["previous_item_id"] == committed[0]["item_id"]


async def test_threshold_decides_what_counts_as_speech() -> None:
    quiet = np.concatenate([silence(500), tone(800, level=0.005), silence(1000)])  # about -49 dBFS
    harness = session({"create_response": False})
    await harness.start()
    await stream(harness, quiet)
    assert harness.drain() == []


async def test_without_create_response_vad_events_still_come() -> None:
    harness = session({"create_response": False})
    await harness.start()
    await stream(harness, SPEECH)
    assert types(harness.drain()) == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
    ]


async def test_turn_detection_null_means_manual_commits() -> None:
    harness = SessionHarness(SessionConfig(model="gpt-4o-realtime-preview", turn_detection=None))
    await harness.start()
    await stream(harness, SPEECH)
    assert harness.drain() == []
    assert types(await harness.request({"type": "input_audio_buffer.commit"})) == [
        "input_audio_buffer.committed",
        "conversation.item.created",
    ]


async def test_turning_vad_on_later_starts_detection_from_then() -> None:
    harness = SessionHarness(SessionConfig(model="gpt-4o-realtime-preview", turn_detection=None))
    await harness.start()
    await stream(harness, silence(500))
    await harness.request(
        {"type": "session.update", "session": {"turn_detection": {"type": "server_vad", "create_response": False}}}
    )
    await stream(harness, SPEECH)
    started = only(harness.drain(), "input_audio_buffer.speech_started")
    assert abs(started["audio_start_ms"] - (500 + 700)) <= FRAME_MS


async def test_noise_reduction_keeps_steady_noise_from_starting_turns() -> None:
    hum = np.concatenate([noise(3000, level=0.03), silence(200)])  # about -30 dBFS of hiss
    plain = session({"create_response": False})
    await plain.start()
    await stream(plain, hum)
    assert "input_audio_buffer.speech_started" in types(plain.drain())
    filtered = session({"create_response": False}, input_audio_noise_reduction={"type": "far_field"})
    await filtered.start()
    await stream(filtered, hum)
    assert filtered.drain() == []


# --- barge-in ---------------------------------------------------------------------------------------


async def test_speech_before_any_output_cancels_the_pending_response() -> None:
    llm = GatedLLM(pause_after=0)
    harness = session({"create_response": False}, engines=scripted_engines(llm=llm))
    await harness.start()
    await harness.send({"type": "response.create"})
    await llm.paused.wait()
    harness.drain()
    await stream(harness, np.concatenate([silence(200), tone(300)]))
    events = harness.drain()
    assert types(events) == ["input_audio_buffer.speech_started", "response.done"]
    done = events[1]["response"]
    assert done["status"] == "cancelled" and done["output"] == []
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}


async def test_speech_mid_output_closes_the_response_and_no_audio_follows() -> None:
    llm = GatedLLM("Here is a rather long first clause, and then a second one that never comes.", pause_after=8)
    harness = session({"create_response": False}, modalities=["text", "audio"], engines=scripted_engines(llm=llm))
    await harness.start()
    await harness.send({"type": "response.create"})
    await harness.until("response.audio.delta")
    await llm.paused.wait()
    harness.drain()
    await stream(harness, np.concatenate([silence(100), tone(300)]))
    events = harness.drain()
    assert types(events) == ["input_audio_buffer.speech_started", *AUDIO_CANCELLED_TAIL]
    assert only(events, "response.output_item.done")["item"]["status"] == "incomplete"
    done = only(events, "response.done")["response"]
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    item_id = done["output"][0]["id"]
    truncated = await harness.request(
        {"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 200}
    )
    assert only(truncated, "conversation.item.truncated")["audio_end_ms"] == 200
    assert len(harness.session.conversation.get(item_id).content[0].audio or b"") == 200 * 48


async def test_without_interrupt_response_speech_does_not_cancel() -> None:
    llm = GatedLLM(pause_after=1)
    harness = session({"create_response": False, "interrupt_response": False}, engines=scripted_engines(llm=llm))
    await harness.start()
    await harness.send({"type": "response.create"})
    await llm.paused.wait()
    await stream(harness, np.concatenate([silence(100), tone(300)]))
    assert "response.done" not in types(harness.drain())
    llm.gate.set()
    assert only(await harness.until("response.done"), "response.done")["response"]["status"] == "completed"


async def test_a_detected_turn_after_barge_in_gets_its_own_response() -> None:
    llm = GatedLLM(pause_after=1)
    harness = session({}, engines=scripted_engines(llm=llm))
    await harness.start()
    await harness.send({"type": "response.create"})
    await llm.paused.wait()
    llm.gate.set()
    await stream(harness, SPEECH)
    events = await harness.until("response.done")  # the first, cancelled or finished
    events += await harness.until("response.done")
    assert "input_audio_buffer.committed" in types(events)
    assert types(events).count("response.created") == 2


# --- semantic_vad -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "finished"),
    [
        ("What is the capital of France?", True),
        ("Thanks, that's all.", True),
        ("I would like to", False),
        ("Book a table for two and", False),
        ("So, um", False),
        ("the weather today", False),
        ("", True),
    ],
)
def test_what_looks_like_a_finished_turn(text: str, finished: bool) -> None:
    assert looks_finished(text) is finished


@pytest.mark.parametrize("eagerness", ["low", "medium", "high", "auto"])
@pytest.mark.parametrize(("heard", "finished"), [("Is it raining?", True), ("I was wondering if", False)])
async def test_semantic_vad_waits_longer_for_unfinished_words(eagerness: str, heard: str, finished: bool) -> None:
    config = SessionConfig.model_validate(
        {
            "model": "gpt-4o-realtime-preview",
            "modalities": ["text"],
            "turn_detection": {"type": "semantic_vad", "eagerness": eagerness, "create_response": False},
        }
    )
    harness = SessionHarness(config, scripted_engines(stt=ScriptedSTT(heard), llm=ScriptedLLM([ScriptedTurn("ok")])))
    await harness.start()
    await stream(harness, np.concatenate([silence(500), tone(800), silence(9000)]))
    stopped = only(harness.drain(), "input_audio_buffer.speech_stopped")
    wait = (FINISHED_WAIT_MS if finished else UNFINISHED_WAIT_MS)[eagerness]
    assert abs(stopped["audio_end_ms"] - (1300 + wait)) <= FRAME_MS
