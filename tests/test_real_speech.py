"""Turn detection with Silero on real speech (espeak-ng), streamed in 20-100 ms chunks in every format."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from realtalk.engines.embedded.silero_vad import SileroVAD
from tests.engines import GatedLLM
from tests.harness import AUDIO_CANCELLED_TAIL, SessionHarness, config, no_vad, only, scripted_engines, types
from tests.signals import chunks, encode, noise, silence
from tests.speech import Scene, scene, speak

pytestmark = pytest.mark.dialects("ga", "beta")
FRAME_MS = 32
TURN = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed"]
ITEM = ["conversation.item.added", "conversation.item.done"]


@pytest.fixture(scope="module")
def silero() -> Iterator[SileroVAD]:
    yield SileroVAD()


@pytest.fixture(scope="module")
def two_questions() -> Scene:
    return scene(1000, speak("What is the capital of France?"), 1500, speak("And what about Germany, please?"), 1500)


async def run(
    vad: SileroVAD, samples: np.ndarray, audio_format: str = "pcm16", chunk_ms: int = 40, **turn_detection: object
) -> tuple[SessionHarness, list[dict[str, object]]]:
    """The events of streaming `samples` to a session that detects turns (and does not answer them)."""
    turns = {"type": "server_vad", "create_response": False, **turn_detection}
    harness = SessionHarness(config(input={"format": audio_format, "turn_detection": turns}), scripted_engines(vad=vad))
    await harness.start()
    for piece in chunks(encode(samples, audio_format), audio_format, chunk_ms):
        await harness.send({"type": "input_audio_buffer.append", "audio": piece})
    return harness, harness.drain()


@pytest.mark.parametrize("audio_format", ["pcm16", "g711_ulaw", "g711_alaw"])
@pytest.mark.parametrize("chunk_ms", [20, 60, 100])
async def test_speech_silence_speech_gives_two_turns_at_the_right_times(
    silero: SileroVAD, two_questions: Scene, audio_format: str, chunk_ms: int
) -> None:
    harness, events = await run(silero, two_questions.samples, audio_format, chunk_ms)
    assert types(events) == harness.expect([*TURN, *ITEM] * 2)
    starts = [e["audio_start_ms"] for e in events if e["type"] == "input_audio_buffer.speech_started"]
    ends = [e["audio_end_ms"] for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    for (onset, end), start_ms, end_ms in zip(two_questions.spans, starts, ends, strict=True):
        assert abs(start_ms - (onset - 300)) <= FRAME_MS, (onset, start_ms)  # type: ignore[operator]
        assert abs(end_ms - (end + 500)) <= 2 * FRAME_MS, (end, end_ms)  # type: ignore[operator]


async def test_padding_and_silence_settings_move_the_times(silero: SileroVAD, two_questions: Scene) -> None:
    _, events = await run(silero, two_questions.samples, prefix_padding_ms=100, silence_duration_ms=800)
    (onset, end), _ = two_questions.spans
    first_turn = events[:3]
    assert abs(only(first_turn, "input_audio_buffer.speech_started")["audio_start_ms"] - (onset - 100)) <= FRAME_MS  # type: ignore[operator]
    assert abs(only(first_turn, "input_audio_buffer.speech_stopped")["audio_end_ms"] - (end + 800)) <= 2 * FRAME_MS  # type: ignore[operator]


async def test_the_threshold_decides_whether_doubtful_speech_is_a_turn(silero: SileroVAD) -> None:
    speech = speak("Can you hear me now?").samples.astype(np.float64)
    buried = speech + np.random.default_rng(1).normal(0, 0.3 * 32767, len(speech))  # Silero scores it below 0.7
    doubtful = np.concatenate([silence(300), np.clip(buried, -32768, 32767).astype(np.int16), silence(1000)])
    assert (await run(silero, doubtful, threshold=0.9))[1] == []
    assert "input_audio_buffer.speech_started" in types((await run(silero, doubtful, threshold=0.4))[1])


async def test_a_noise_only_stream_triggers_no_turn(silero: SileroVAD) -> None:
    hiss = np.concatenate([noise(4000, 0.1), noise(2000, 0.02, seed=3)])
    assert (await run(silero, hiss))[1] == []


async def test_barge_in_with_real_speech_cancels_the_spoken_answer(silero: SileroVAD) -> None:
    llm = GatedLLM("Paris is the capital of France, and it is famous for many things.", pause_after=7)
    harness = SessionHarness(config(), scripted_engines(vad=silero, llm=llm))
    await harness.start()
    await harness.send({"type": "response.create"})
    await harness.until(harness.name("response.output_audio.delta"))
    await llm.paused.wait()
    harness.drain()
    interruption = np.concatenate([silence(300), speak("Wait, stop!").samples, silence(800)])
    for piece in chunks(encode(interruption, "pcm16"), "pcm16", 40):
        await harness.send({"type": "input_audio_buffer.append", "audio": piece})
    events = await harness.until("response.created")
    assert types(events) == harness.expect(
        ["input_audio_buffer.speech_started", *AUDIO_CANCELLED_TAIL, *TURN[1:], *ITEM, "response.created"]
    )
    cancelled = only(events, "response.done")["response"]
    assert cancelled["status_details"]["reason"] == "turn_detected"  # type: ignore[index]
    llm.gate.set()


async def test_manual_mode_commits_exactly_what_was_sent(silero: SileroVAD, two_questions: Scene) -> None:
    harness = SessionHarness(no_vad(input={"format": "g711_alaw"}), scripted_engines(vad=silero))
    await harness.start()
    sent = encode(two_questions.samples, "g711_alaw")
    for piece in chunks(sent, "g711_alaw", 80):
        await harness.send({"type": "input_audio_buffer.append", "audio": piece})
    assert harness.drain() == []
    events = await harness.request({"type": "input_audio_buffer.commit"})
    assert types(events) == harness.expect(["input_audio_buffer.committed", *ITEM])
    assert harness.session.conversation.items[0].content[0].audio == sent
