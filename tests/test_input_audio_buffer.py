"""`input_audio_buffer.append / commit / clear` in manual mode (PROTOCOL §3.6 f)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from realtalk.engines.base import LLMEngine
from realtalk.engines.scripted.llm import ScriptedLLM
from realtalk.protocol.config import SessionConfig
from realtalk.session.session import SessionLimits
from tests.engines import RecordingLLM
from tests.harness import SessionHarness, no_vad, only, scripted_engines, types

pytestmark = pytest.mark.dialects("ga", "beta")
TRANSCRIBED = no_vad(modality="text", input={"transcription": {"model": "whisper-1"}})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pcm16(ms: int) -> bytes:
    return b"\x10\x00" * (24 * ms)


async def started(config: SessionConfig | None = None, llm: LLMEngine | None = None) -> SessionHarness:
    harness = SessionHarness(config or no_vad(), scripted_engines(llm=llm or ScriptedLLM()))
    await harness.start()
    return harness


async def append(harness: SessionHarness, audio: bytes) -> list[dict[str, Any]]:
    return await harness.request({"type": "input_audio_buffer.append", "audio": b64(audio)})


async def commit(harness: SessionHarness) -> str:
    """Commit the buffer; the id of the user item it became."""
    events = await harness.request({"type": "input_audio_buffer.commit"})
    return str(only(events, "input_audio_buffer.committed")["item_id"])


async def retrieved_audio(harness: SessionHarness, item_id: str) -> bytes:
    events = await harness.request({"type": "conversation.item.retrieve", "item_id": item_id})
    return base64.b64decode(only(events, "conversation.item.retrieved")["item"]["content"][0]["audio"])


async def test_append_is_silent_and_commit_creates_the_user_item() -> None:
    harness = await started()
    assert await append(harness, pcm16(200)) == []
    events = await harness.request({"type": "input_audio_buffer.commit"})
    assert types(events) == harness.expect(
        ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
    )
    committed, created = only(events, "input_audio_buffer.committed"), harness.only(events, "conversation.item.added")
    assert committed["item_id"] == created["item"]["id"]
    assert committed["previous_item_id"] is None and created["previous_item_id"] is None
    assert created["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert created["item"]["role"] == "user" and created["item"]["status"] == "completed"
    assert await retrieved_audio(harness, committed["item_id"]) == pcm16(200)


async def test_a_second_commit_follows_the_first_item() -> None:
    harness = await started()
    await append(harness, pcm16(100))
    first = await commit(harness)
    await append(harness, pcm16(100))
    events = await harness.request({"type": "input_audio_buffer.commit"})
    assert only(events, "input_audio_buffer.committed")["previous_item_id"] == first
    assert harness.only(events, "conversation.item.added")["previous_item_id"] == first


async def test_commit_does_not_start_a_response_in_manual_mode() -> None:
    harness = await started()
    await append(harness, pcm16(200))
    await commit(harness)
    assert "response.created" not in types(harness.events)
    events = await harness.response()
    assert only(events, "response.done")["response"]["status"] == "completed"


@pytest.mark.parametrize(("audio_format", "bytes_per_ms"), [("pcm16", 48), ("g711_ulaw", 8), ("g711_alaw", 8)])
async def test_commit_needs_at_least_100_ms(audio_format: str, bytes_per_ms: int) -> None:
    harness = await started(no_vad(input={"format": audio_format}))
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
    assert harness.session.conversation.items == []


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
    assert harness.session.input.buffer.duration_ms == 0


async def test_invalid_base64_is_refused() -> None:
    harness = await started()
    events = await harness.request({"type": "input_audio_buffer.append", "audio": "not base64!", "event_id": "a1"})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "audio", "a1")
    assert harness.session.input.buffer.duration_ms == 0


async def test_a_format_change_applies_to_the_audio_that_follows_and_converts_what_is_buffered() -> None:
    harness = await started()
    await append(harness, pcm16(50))
    await harness.update({"audio": {"input": {"format": {"type": "audio/pcmu"}}}}, {"input_audio_format": "g711_ulaw"})
    await append(harness, b"\xff" * 800)  # 100 ms of μ-law silence
    item_id = await commit(harness)
    assert harness.session.conversation.get(item_id).content[0].audio_format == "g711_ulaw"
    audio = await retrieved_audio(harness, item_id)
    assert len(audio) == 400 + 800  # the 50 ms buffered as pcm16, now 8 kHz μ-law, then the new
    assert audio[400:] == b"\xff" * 800


async def test_committed_audio_is_transcribed_when_transcription_is_on() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await started(TRANSCRIBED, llm)
    await append(harness, pcm16(300))
    item_id = await commit(harness)
    done = only(
        await harness.until("conversation.item.input_audio_transcription.completed"),
        "conversation.item.input_audio_transcription.completed",
    )
    assert (done["item_id"], done["content_index"], done["transcript"]) == (item_id, 0, "Hello.")
    assert done["usage"] == {"type": "duration", "seconds": 0.3}
    events = await harness.request({"type": "conversation.item.retrieve", "item_id": item_id})
    assert only(events, "conversation.item.retrieved")["item"]["content"][0]["transcript"] == "Hello."
    await harness.response()
    assert llm.requests[-1].messages[-1].content == "Hello."


async def test_the_llm_waits_for_a_running_transcription_not_the_response() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await started(TRANSCRIBED, llm)
    await append(harness, pcm16(300))
    await harness.send({"type": "input_audio_buffer.commit"})
    await harness.send({"type": "response.create"})
    await harness.until("response.done")
    assert llm.requests[-1].messages[-1].content == "Hello."


async def test_a_pcm16_append_of_an_odd_number_of_bytes_is_refused_and_buffers_nothing() -> None:
    harness = await started()
    await append(harness, pcm16(50))
    events = await harness.request({"type": "input_audio_buffer.append", "audio": b64(pcm16(50) + b"\x01")})
    error = only(events, "error")["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "invalid_value", "audio")
    assert error["message"] == (
        "Invalid value for 'audio': pcm16 audio is whole 16-bit samples, 2 bytes each, but this chunk is 2401 bytes."
    )
    assert await append(harness, pcm16(50)) == []
    assert await retrieved_audio(harness, await commit(harness)) == pcm16(100)


@pytest.mark.parametrize("law", ["g711_ulaw", "g711_alaw"])
async def test_g711_appends_of_any_length_are_whole_samples(law: str) -> None:
    harness = await started(no_vad(input={"format": law}))
    assert await append(harness, b"\x55" * 801) == []
    assert await retrieved_audio(harness, await commit(harness)) == b"\x55" * 801


async def test_a_commit_the_conversation_has_no_room_for_keeps_the_audio() -> None:
    harness = SessionHarness(no_vad(), limits=SessionLimits(max_conversation_items=1))
    await harness.start()
    await harness.say("The one item there is room for.")
    await append(harness, pcm16(200))
    events = await harness.request({"type": "input_audio_buffer.commit"})
    assert only(events, "error")["error"]["code"] == "conversation_full"
    (said,) = harness.session.conversation.items
    assert types(await harness.request({"type": "conversation.item.delete", "item_id": said.id})) == [
        "conversation.item.deleted"
    ]
    assert await retrieved_audio(harness, await commit(harness)) == pcm16(200)
