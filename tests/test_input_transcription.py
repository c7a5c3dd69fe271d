"""Input transcription runs beside the response, never before it, and reports failures (PROTOCOL §3.7)."""

from __future__ import annotations

import base64

import numpy as np
from realtalk.protocol.session_config import SessionConfig

from realtalk.engines.scripted.llm import ScriptedLLM
from tests.engines import GatedSTT, RecordingLLM
from tests.harness import SessionHarness, only, scripted_engines, types
from tests.signals import encode, noise


def config(**fields: object) -> SessionConfig:
    return SessionConfig.model_validate(
        {
            "model": "gpt-4o-realtime-preview",
            "modalities": ["text"],
            "turn_detection": None,
            "input_audio_transcription": {"model": "whisper-1"},
            **fields,
        }
    )


async def commit_speech(harness: SessionHarness, ms: int = 500) -> str:
    await harness.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\1\0" * 24 * ms).decode()})
    events = await harness.request({"type": "input_audio_buffer.commit"})
    return str(only(events, "input_audio_buffer.committed")["item_id"])


async def test_the_response_starts_before_a_slow_transcription_finishes() -> None:
    stt, llm = GatedSTT("Book a table."), RecordingLLM(ScriptedLLM())
    harness = SessionHarness(config(), scripted_engines(stt=stt, llm=llm))
    await harness.start()
    item_id = await commit_speech(harness)
    await harness.send({"type": "response.create"})
    early = await harness.until("rate_limits.updated")
    assert "response.created" in types(early) and "conversation.item.input_audio_transcription.completed" not in types(
        early
    )
    stt.gate.set()
    events = await harness.until("response.done")
    completed = only(events, "conversation.item.input_audio_transcription.completed")
    assert (completed["item_id"], completed["transcript"]) == (item_id, "Book a table.")
    assert llm.requests[-1].messages[-1].content == "Book a table."


async def test_the_stt_hears_16khz_audio() -> None:
    stt = GatedSTT()
    stt.gate.set()
    harness = SessionHarness(config(input_audio_format="g711_ulaw"), scripted_engines(stt=stt))
    await harness.start()
    await harness.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\xff" * 4000).decode()})
    await harness.send({"type": "input_audio_buffer.commit"})
    await harness.until("conversation.item.input_audio_transcription.completed")
    assert [len(audio) for audio in stt.heard] == [8000]  # 500 ms at 16 kHz


async def test_a_failed_transcription_is_reported_and_the_session_goes_on() -> None:
    stt = GatedSTT(fail=True)
    stt.gate.set()
    harness = SessionHarness(config(), scripted_engines(stt=stt))
    await harness.start()
    item_id = await commit_speech(harness)
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
    harness = SessionHarness(config(input_audio_noise_reduction=noise_reduction), scripted_engines(stt=stt))
    await harness.start()
    hiss = encode(noise(1500, 0.05), "pcm16")
    await harness.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(hiss).decode()})
    await harness.send({"type": "input_audio_buffer.commit"})
    await harness.until("conversation.item.input_audio_transcription.completed")
    return float(10 * np.log10(np.mean(stt.heard[0].astype(np.float64) ** 2)))


async def test_noise_reduction_is_applied_before_the_stt() -> None:
    plain = await heard_level_db(None)
    assert plain - await heard_level_db({"type": "near_field"}) >= 8.0
    assert plain - await heard_level_db({"type": "far_field"}) >= 10.0
