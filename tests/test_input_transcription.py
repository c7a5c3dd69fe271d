"""Input transcription runs beside the response, never before it, and reports failures (PROTOCOL §3.7)."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from realtalk.engines.scripted.llm import ScriptedLLM
from realtalk.protocol.config import SessionConfig
from tests.engines import GatedSTT, RecordingLLM
from tests.harness import SessionHarness, no_vad, only, scripted_engines, types
from tests.signals import encode, noise

pytestmark = pytest.mark.dialects("ga", "beta")


def transcribed(**audio_in: Any) -> SessionConfig:
    """Manual turns in text, each committed turn transcribed; `audio_in` adds input settings."""
    return no_vad(modality="text", input={"transcription": {"model": "whisper-1"}, **audio_in})


async def started(stt: GatedSTT, llm: RecordingLLM | None = None, **audio_in: Any) -> SessionHarness:
    harness = SessionHarness(transcribed(**audio_in), scripted_engines(stt=stt, llm=llm or ScriptedLLM()))
    await harness.start()
    return harness


async def commit(harness: SessionHarness, audio: bytes) -> str:
    await harness.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(audio).decode()})
    events = await harness.request({"type": "input_audio_buffer.commit"})
    return str(only(events, "input_audio_buffer.committed")["item_id"])


def speech(ms: int = 500) -> bytes:
    return b"\1\0" * 24 * ms


async def test_the_response_starts_before_a_slow_transcription_finishes() -> None:
    stt, llm = GatedSTT("Book a table."), RecordingLLM(ScriptedLLM())
    harness = await started(stt, llm)
    item_id = await commit(harness, speech())
    await harness.send({"type": "response.create"})
    early = await harness.until("rate_limits.updated")
    assert "response.created" in types(early)
    assert "conversation.item.input_audio_transcription.completed" not in types(early)
    stt.gate.set()
    events = await harness.until("response.done")
    completed = only(events, "conversation.item.input_audio_transcription.completed")
    assert (completed["item_id"], completed["transcript"]) == (item_id, "Book a table.")
    assert types(events).index("conversation.item.input_audio_transcription.completed") < types(events).index(
        "response.output_item.added"
    )
    assert llm.requests[-1].messages[-1].content == "Book a table."


async def test_the_stt_hears_16khz_audio() -> None:
    stt = GatedSTT()
    stt.gate.set()
    harness = await started(stt, format="g711_ulaw")
    await commit(harness, b"\xff" * 4000)
    await harness.until("conversation.item.input_audio_transcription.completed")
    assert [len(audio) for audio in stt.heard] == [8000]  # 500 ms at 16 kHz


async def test_the_stt_is_asked_for_the_sessions_language() -> None:
    stt = GatedSTT()
    stt.gate.set()
    harness = await started(stt, transcription={"model": "whisper-1", "language": "fr"})
    await commit(harness, speech())
    await harness.until("conversation.item.input_audio_transcription.completed")
    assert stt.languages == ["fr"]


async def test_a_failed_transcription_is_reported_and_the_session_goes_on() -> None:
    stt = GatedSTT(fail=True)
    stt.gate.set()
    harness = await started(stt)
    item_id = await commit(harness, speech())
    failed = only(
        await harness.until("conversation.item.input_audio_transcription.failed"),
        "conversation.item.input_audio_transcription.failed",
    )
    assert failed["item_id"] == item_id and failed["content_index"] == 0
    assert failed["error"]["type"] == "transcription_error" and "recognizer crashed" in failed["error"]["message"]
    assert only(await harness.response(), "response.done")["response"]["status"] == "completed"


async def heard_level_db(noise_reduction: dict[str, str] | None) -> float:
    stt = GatedSTT()
    stt.gate.set()
    harness = await started(stt, noise_reduction=noise_reduction)
    await commit(harness, encode(noise(1500, 0.05), "pcm16"))
    await harness.until("conversation.item.input_audio_transcription.completed")
    return float(10 * np.log10(np.mean(stt.heard[0].astype(np.float64) ** 2)))


async def test_noise_reduction_is_applied_before_the_stt() -> None:
    plain = await heard_level_db(None)
    assert plain - await heard_level_db({"type": "near_field"}) >= 8.0
    assert plain - await heard_level_db({"type": "far_field"}) >= 10.0
