"""`input_audio_buffer.append / commit / clear` in manual mode (PROTOCOL §3.6 f)."""

from __future__ import annotations

import base64

import pytest
from realtalk.protocol.session_config import SessionConfig

from realtalk.engines.base import LLMEngine
from realtalk.engines.scripted.llm import ScriptedLLM
from tests.engines import RecordingLLM
from tests.harness import SessionHarness, only, scripted_engines, types


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pcm16(ms: int) -> bytes:
    return b"\x10\x00" * (24 * ms)


async def started(llm: LLMEngine | None = None, **fields: object) -> SessionHarness:
    config = SessionConfig.model_validate({"model": "gpt-4o-realtime-preview", "turn_detection": None, **fields})
    harness = SessionHarness(config, scripted_engines(llm=llm or ScriptedLLM()))
    await harness.start()
    return harness


async def append(harness: SessionHarness, audio: bytes) -> list[dict[str, object]]:
    return await harness.request({"type": "input_audio_buffer.append", "audio": b64(audio)})


async def test_append_is_silent_and_commit_creates_the_user_item() -> None:
    harness = await started()
    assert await append(harness, pcm16(200)) == []
    events = await harness.request({"type": "input_audio_buffer.commit"})
    assert types(events) == ["input_audio_buffer.committed", "conversation.item.created"]
    committed, created = events
    assert committed["item_id"] == created["item"]["id"]
    assert committed["previous_item_id"] is None and created["previous_item_id"] is None
    assert created["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert created["item"]["role"] == "user" and created["item"]["status"] == "completed"
    stored = harness.session.conversation.get(committed["item_id"]).content[0]
    assert stored.audio == pcm16(200)


async def test_commit_does_not_start_a_response_in_manual_mode() -> None:
    harness = await started()
    await append(harness, pcm16(200))
    await harness.request({"type": "input_audio_buffer.commit"})
    assert "response.created" not in types(harness.events)
    events = await harness.response()
    assert only(events, "response.done")["response"]["status"] == "completed"


@pytest.mark.parametrize(("audio_format", "bytes_per_ms"), [("pcm16", 48), ("g711_ulaw", 8), ("g711_alaw", 8)])
async def test_commit_needs_at_least_100_ms(audio_format: str, bytes_per_ms: int) -> None:
    harness = await started(input_audio_format=audio_format)
    await append(harness, b"\x00" * (99 * bytes_per_ms))
    error = only(await harness.request({"type": "input_audio_buffer.commit", "event_id": "c"}), "error")["error"]
    assert (error["code"], error["event_id"]) == ("input_audio_buffer_commit_empty", "c")
    assert "99.00ms" in error["message"]
    await append(harness, b"\x00" * bytes_per_ms)
    assert types(await harness.request({"type": "input_audio_buffer.commit"}))[0] == "input_audio_buffer.committed"


async def test_commit_of_an_empty_buffer_is_an_error() -> None:
    harness = await started()
    error = only(await harness.request({"type": "input_audio_buffer.commit"}), "error")["error"]
    assert error["code"] == "input_audio_buffer_commit_empty"


async def test_clear_empties_the_buffer() -> None:
    harness = await started()
    await append(harness, pcm16(300))
    assert types(await harness.request({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    assert only(await harness.request({"type": "input_audio_buffer.commit"}), "error")["error"]["code"] == (
        "input_audio_buffer_commit_empty"
    )


async def test_an_append_over_15_mib_is_refused() -> None:
    harness = await started()
    events = await append(harness, b"\x00" * (15 * 1024 * 1024 + 2))
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("audio_too_large", "audio")
    assert harness.session.input_audio.duration_ms == 0


async def test_invalid_base64_is_refused() -> None:
    harness = await started()
    events = await harness.request({"type": "input_audio_buffer.append", "audio": "not base64!", "event_id": "a1"})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "audio", "a1")


async def test_a_format_change_applies_to_the_audio_that_follows_and_converts_what_is_buffered() -> None:
    harness = await started()
    await append(harness, pcm16(50))
    await harness.request({"type": "session.update", "session": {"input_audio_format": "g711_ulaw"}})
    await append(harness, b"\xff" * 800)  # 100 ms of μ-law silence
    item_id = only(await harness.request({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")[
        "item_id"
    ]
    stored = harness.session.conversation.get(item_id).content[0]
    assert stored.audio_format == "g711_ulaw"
    assert len(stored.audio or b"") == 400 + 800  # the 50 ms buffered as pcm16, now 8 kHz μ-law, then the new
    assert (stored.audio or b"")[400:] == b"\xff" * 800


async def test_committed_audio_is_transcribed_when_transcription_is_on() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await started(llm, input_audio_transcription={"model": "whisper-1"}, modalities=["text"])
    await append(harness, pcm16(300))
    item_id = only(await harness.request({"type": "input_audio_buffer.commit"}), "input_audio_buffer.committed")[
        "item_id"
    ]
    done = only(
        await harness.until("conversation.item.input_audio_transcription.completed"),
        "conversation.item.input_audio_transcription.completed",
    )
    assert (done["item_id"], done["content_index"], done["transcript"]) == (item_id, 0, "Hello.")
    assert done["usage"] == {"type": "duration", "seconds": 0.3}
    retrieved = only(
        await harness.request({"type": "conversation.item.retrieve", "item_id": item_id}), "conversation.item.retrieved"
    )
    assert retrieved["item"]["content"][0]["transcript"] == "Hello."
    await harness.response()
    assert llm.requests[-1].messages[-1].content == "Hello."


async def test_the_llm_waits_for_a_running_transcription_not_the_response() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await started(llm, input_audio_transcription={"model": "whisper-1"}, modalities=["text"])
    await append(harness, pcm16(300))
    await harness.send({"type": "input_audio_buffer.commit"})
    await harness.send({"type": "response.create"})
    await harness.until("response.done")
    assert llm.requests[-1].messages[-1].content == "Hello."
