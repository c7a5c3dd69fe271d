"""server_vad and semantic_vad turn taking, and barge-in, on a deterministic energy VAD (PROTOCOL §3.6 b, d).

Also what `session.update` does to a turn in progress (only what it changes, to the sample), and what the
models hear of a turn: one 16 kHz stream, made once, cut to exactly the committed span.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from realtalk.audio.formats import FORMATS, Resampler
from realtalk.audio.noise import NoiseSuppressor
from realtalk.engines.base import EndOfTurnEngine, Samples, TranscriptEvent
from realtalk.engines.registry import Engines
from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedTurn
from realtalk.engines.scripted.stt import ScriptedSTT
from realtalk.session.session import SessionLimits
from realtalk.session.turn_detection import FINISHED_PROBABILITY, FINISHED_WAIT_MS, UNFINISHED_WAIT_MS
from tests.engines import FixedTurn, GatedLLM, GatedTurn
from tests.harness import AUDIO_CANCELLED_TAIL, SessionHarness, config, no_vad, only, scripted_engines, types
from tests.signals import chunks, encode, noise, silence, tone

pytestmark = pytest.mark.dialects("ga", "beta")

FRAME_MS = 32  # the VAD frame: onsets and ends are located to within one of these
CHUNK_MS = 40  # how much audio each append carries, unless a test says otherwise
SPEECH = np.concatenate([silence(1000), tone(1000), silence(1000)])  # speech from 1000 to 2000 ms
COMMITTED = [
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.added",
    "conversation.item.done",
]
TRANSCRIBED = "conversation.item.input_audio_transcription.completed"


def session(
    turn_detection: dict[str, Any] | None = None, engines: Engines | None = None, **fields: Any
) -> SessionHarness:
    """A text session whose turn detection is server_vad with these settings (the defaults if none)."""
    audio_in = dict(fields.pop("input", {}))
    if turn_detection is not None:
        audio_in["turn_detection"] = {"type": "server_vad", **turn_detection}
    return SessionHarness(config(modality=fields.pop("modality", "text"), input=audio_in, **fields), engines)


async def stream(
    harness: SessionHarness, audio: Samples, audio_format: str = "pcm16", chunk_ms: int = CHUNK_MS
) -> None:
    for piece in chunks(encode(audio, audio_format), audio_format, chunk_ms):
        await harness.send({"type": "input_audio_buffer.append", "audio": piece})


async def through(harness: SessionHarness, event_type: str) -> list[dict[str, Any]]:
    """Every event not yet read, up to one of `event_type`, waiting for it if it has not come yet."""
    events = harness.drain()
    if event_type not in types(events):
        events += await harness.until(event_type)
    return events


def set_turn_detection(turn_detection: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A turn-detection change in GA's shape and beta's (for `harness.update(*...)`)."""
    return {"audio": {"input": {"turn_detection": turn_detection}}}, {"turn_detection": turn_detection}


async def test_a_turn_is_detected_committed_and_answered() -> None:
    harness = session()
    await harness.start()
    await stream(harness, SPEECH)
    events = await harness.until("response.done")
    head = harness.expect(["input_audio_buffer.speech_started", *COMMITTED, "response.created", "rate_limits.updated"])
    assert types(events)[: len(head)] == head
    started, stopped, committed, created = events[:4]
    item_id = started["item_id"]
    assert stopped["item_id"] == committed["item_id"] == created["item"]["id"] == item_id
    assert created["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert abs(started["audio_start_ms"] - (1000 - 300)) <= FRAME_MS
    assert abs(stopped["audio_end_ms"] - (2000 + 500)) <= FRAME_MS


@pytest.mark.parametrize("audio_format", ["pcm16", "g711_ulaw", "g711_alaw"])
@pytest.mark.parametrize("chunk_ms", [20, 50, 100])
async def test_times_are_audio_milliseconds_whatever_the_format_and_chunking(audio_format: str, chunk_ms: int) -> None:
    harness = session({"create_response": False}, input={"format": audio_format})
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
    assert types(harness.drain()) == harness.expect(["input_audio_buffer.speech_started", *COMMITTED])


async def test_turn_detection_null_means_manual_commits() -> None:
    harness = SessionHarness(no_vad())
    await harness.start()
    await stream(harness, SPEECH)
    assert harness.drain() == []
    assert types(await harness.request({"type": "input_audio_buffer.commit"})) == harness.expect(COMMITTED[1:])


async def test_turning_vad_on_later_starts_detection_from_then() -> None:
    harness = SessionHarness(no_vad())
    await harness.start()
    await stream(harness, silence(500))
    await harness.update(*set_turn_detection({"type": "server_vad", "create_response": False}))
    await stream(harness, SPEECH)
    started = only(harness.drain(), "input_audio_buffer.speech_started")
    assert abs(started["audio_start_ms"] - (500 + 700)) <= FRAME_MS


async def test_noise_reduction_keeps_steady_noise_from_starting_turns() -> None:
    hum = np.concatenate([noise(3000, level=0.03), silence(200)])  # about -30 dBFS of hiss
    plain = session({"create_response": False})
    await plain.start()
    await stream(plain, hum)
    assert "input_audio_buffer.speech_started" in types(plain.drain())
    filtered = session({"create_response": False}, input={"noise_reduction": {"type": "far_field"}})
    await filtered.start()
    await stream(filtered, hum)
    assert filtered.drain() == []


# --- session.update in the middle of a turn ---------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One detected turn as the client and the models saw it."""

    start_ms: int
    end_ms: int
    audio: bytes  # the committed item's audio, as conversation.item.retrieve returns it
    heard: Samples  # what the STT was given to transcribe


@dataclass
class ListeningSTT(ScriptedSTT):
    """The scripted STT, keeping the samples it is given."""

    heard: list[Samples] = field(default_factory=list)

    def transcribe(self, audio: Samples, *, language: str | None, prompt: str | None) -> AsyncIterator[TranscriptEvent]:
        self.heard.append(audio)
        return super().transcribe(audio, language=language, prompt=prompt)


def transcribed(turn_detection: dict[str, Any], **input_settings: Any) -> tuple[SessionHarness, ListeningSTT]:
    """A session whose turns are transcribed by an STT that keeps what it hears."""
    stt = ListeningSTT()
    audio_in = {"transcription": {"model": "whisper-1"}, **input_settings}
    return session({"create_response": False, **turn_detection}, scripted_engines(stt=stt), input=audio_in), stt


async def speak(
    turn_detection: dict[str, Any] | None = None,
    *,
    update: tuple[dict[str, Any], dict[str, Any]] | None = None,
    at_ms: int = 1520,
    tail_format: str = "pcm16",
    audio: Samples = SPEECH,
    mid_turn: bool = True,
    **input_settings: Any,
) -> Turn:
    """Stream `audio` into a fresh session, sending `update` (GA, beta) at `at_ms` (by default, mid-turn)."""
    harness, stt = transcribed(turn_detection or {}, **input_settings)
    await harness.start()
    cut = 24 * at_ms
    await stream(harness, audio[:cut])
    head = harness.drain()
    assert types(head) == (["input_audio_buffer.speech_started"] if mid_turn else [])
    if update is not None:
        assert types(await harness.update(*update)) == ["session.updated"]
    await stream(harness, audio[cut:], tail_format)
    events = head + await through(harness, TRANSCRIBED)
    started = only(events, "input_audio_buffer.speech_started")
    stopped = only(events, "input_audio_buffer.speech_stopped")
    item_id = started["item_id"]
    retrieved = await harness.request({"type": "conversation.item.retrieve", "item_id": item_id})
    content = only(retrieved, "conversation.item.retrieved")["item"]["content"][0]
    (heard,) = stt.heard
    return Turn(started["audio_start_ms"], stopped["audio_end_ms"], base64.b64decode(content["audio"]), heard)


async def test_an_update_of_what_the_model_does_leaves_the_turn_untouched_to_the_sample() -> None:
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
    ga = {"instructions": "Be brief.", "tools": [tool], "audio": {"output": {"voice": "verse"}}}
    beta = {"instructions": "Be brief.", "tools": [tool], "voice": "verse", "temperature": 1.1}
    plain, updated = await speak(), await speak(update=(ga, beta))
    assert (updated.start_ms, updated.end_ms) == (plain.start_ms, plain.end_ms)
    assert updated.audio == plain.audio
    assert np.array_equal(updated.heard, plain.heard)


async def test_a_new_input_format_mid_turn_keeps_the_turn_and_converts_what_is_buffered() -> None:
    ga = {"audio": {"input": {"format": {"type": "audio/pcmu"}}}}
    plain = await speak()
    switched = await speak(update=(ga, {"input_audio_format": "g711_ulaw"}), tail_format="g711_ulaw")
    assert (switched.start_ms, switched.end_ms) == (plain.start_ms, plain.end_ms)
    assert len(switched.audio) == 8 * (switched.end_ms - switched.start_ms)  # all of it μ-law now, at 8 kHz
    samples = FORMATS["g711_ulaw"].decode(switched.audio)
    buffered_tone = samples[8 * (1000 - switched.start_ms) : 8 * (1520 - switched.start_ms)]  # came as pcm16
    assert rms(buffered_tone) == pytest.approx(rms(tone(520)), rel=0.02)
    assert abs(len(switched.heard) - len(plain.heard)) <= 2


def rms(samples: Samples) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


async def test_new_turn_detection_settings_apply_from_the_next_frame_without_moving_measured_times() -> None:
    longer = {"type": "server_vad", "create_response": False, "silence_duration_ms": 800}
    raised = await speak(update=set_turn_detection(longer), at_ms=2320)  # 320 ms into the silence
    plain, long_from_the_start = await speak(at_ms=2320), await speak({"silence_duration_ms": 800}, at_ms=2320)
    assert raised.start_ms == plain.start_ms
    assert raised.end_ms == long_from_the_start.end_ms == plain.end_ms + 300
    assert raised.audio == long_from_the_start.audio


async def test_turning_noise_reduction_off_keeps_the_audio_clock() -> None:
    ga = {"audio": {"input": {"noise_reduction": None}}}
    off = (ga, {"input_audio_noise_reduction": None})
    plain = await speak(at_ms=520, mid_turn=False)
    turned_off = await speak(update=off, at_ms=520, mid_turn=False, noise_reduction={"type": "near_field"})
    assert (turned_off.start_ms, turned_off.end_ms) == (plain.start_ms, plain.end_ms)
    assert np.array_equal(turned_off.heard, plain.heard)


# --- what the models hear ---------------------------------------------------------------------------


def heard_stream(audio: Samples, chunk_ms: int = CHUNK_MS) -> Samples:
    """pcm16 input as streamed in `chunk_ms` appends, resampled to 16 kHz chunk by chunk."""
    resampler, step = Resampler(24_000, 16_000), 24 * chunk_ms
    return np.concatenate([resampler.process(audio[at : at + step]) for at in range(0, len(audio), step)])


async def test_the_stt_hears_the_committed_span_at_16khz() -> None:
    turn = await speak(at_ms=1200)
    committed_ms = len(turn.audio) / 48
    assert committed_ms == turn.end_ms - turn.start_ms
    assert abs(len(turn.heard) - committed_ms * 16) <= 2
    start = turn.start_ms * 16
    assert np.array_equal(turn.heard, heard_stream(SPEECH)[start : start + len(turn.heard)])


async def test_noise_reduction_is_applied_once_to_what_the_stt_hears() -> None:
    turn = await speak(at_ms=1200, noise_reduction={"type": "near_field"})
    plain = heard_stream(SPEECH)
    denoised = NoiseSuppressor("near_field").process(plain)
    start, end = turn.start_ms * 16, turn.start_ms * 16 + len(turn.heard)
    assert abs(len(turn.heard) - (turn.end_ms - turn.start_ms) * 16) <= 2
    assert np.array_equal(turn.heard, denoised[start:end])
    assert not np.array_equal(turn.heard, plain[start:end])


@pytest.mark.parametrize("detection", ["server_vad", "semantic_vad"])
async def test_a_turn_the_conversation_has_no_room_for_is_reported(detection: str) -> None:
    harness = SessionHarness(
        config(modality="text", input={"turn_detection": {"type": detection, "create_response": False}}),
        scripted_engines(stt=ScriptedSTT("Is it raining?")),
        limits=SessionLimits(max_conversation_items=1),
    )
    await harness.start()
    await harness.say("The one item there is room for.")
    await stream(harness, np.concatenate([silence(500), tone(800), silence(3000)]))
    events = await through(harness, "error")
    assert types(events) == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "error"]
    assert events[2]["error"]["code"] == "conversation_full"


async def test_after_a_clear_the_stt_still_hears_exactly_the_committed_span() -> None:
    harness, stt = transcribed({})
    await harness.start()
    await stream(harness, SPEECH[: 24 * 520])
    assert types(await harness.request({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    await stream(harness, SPEECH[24 * 520 :])
    started = only(await through(harness, TRANSCRIBED), "input_audio_buffer.speech_started")
    (heard,) = stt.heard
    start = started["audio_start_ms"] * 16
    assert np.array_equal(heard, heard_stream(SPEECH)[start : start + len(heard)])


# --- barge-in ---------------------------------------------------------------------------------------


async def test_speech_before_any_output_cancels_the_pending_response() -> None:
    llm = GatedLLM(pause_after=0)
    harness = session({"create_response": False}, scripted_engines(llm=llm))
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
    harness = session({"create_response": False}, scripted_engines(llm=llm), modality="audio")
    await harness.start()
    await harness.send({"type": "response.create"})
    await harness.until(harness.name("response.output_audio.delta"))
    await llm.paused.wait()
    harness.drain()
    await stream(harness, np.concatenate([silence(100), tone(300)]))
    events = harness.drain()
    assert types(events) == harness.expect(["input_audio_buffer.speech_started", *AUDIO_CANCELLED_TAIL])
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
    harness = session({"create_response": False, "interrupt_response": False}, scripted_engines(llm=llm))
    await harness.start()
    await harness.send({"type": "response.create"})
    await llm.paused.wait()
    await stream(harness, np.concatenate([silence(100), tone(300)]))
    assert "response.done" not in types(harness.drain())
    llm.gate.set()
    assert only(await harness.until("response.done"), "response.done")["response"]["status"] == "completed"


async def test_a_detected_turn_after_barge_in_gets_its_own_response() -> None:
    llm = GatedLLM(pause_after=1)
    harness = session({}, scripted_engines(llm=llm))
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


def semantic(turn: EndOfTurnEngine | None = None, eagerness: str = "auto") -> SessionHarness:
    """A session with semantic_vad whose end-of-turn model is `turn` (else the scripted PitchTurn)."""
    engines = scripted_engines(llm=ScriptedLLM([ScriptedTurn("ok")]), **({"turn": turn} if turn else {}))
    return session({"type": "semantic_vad", "eagerness": eagerness, "create_response": False}, engines)


FALLING, RISING = 300.0, 500.0  # PitchTurn hears a last tone under 400 Hz as a finished turn


@pytest.mark.parametrize("eagerness", ["low", "medium", "high", "auto"])
@pytest.mark.parametrize(("pitch", "finished"), [(FALLING, True), (RISING, False)])
async def test_semantic_vad_waits_longer_when_the_turn_sounds_unfinished(
    eagerness: str, pitch: float, finished: bool
) -> None:
    harness = semantic(eagerness=eagerness)
    await harness.start()
    await stream(harness, np.concatenate([silence(500), tone(800, freq=pitch), silence(9000)]))
    stopped = only(await through(harness, "input_audio_buffer.speech_stopped"), "input_audio_buffer.speech_stopped")
    wait = (FINISHED_WAIT_MS if finished else UNFINISHED_WAIT_MS)[eagerness]
    assert abs(stopped["audio_end_ms"] - (1300 + wait)) <= FRAME_MS


@pytest.mark.parametrize(("eagerness", "probability", "finished"), [
    ("high", 0.3, True), ("high", 0.29, False), ("auto", 0.5, True), ("auto", 0.49, False),
    ("low", 0.7, True), ("low", 0.69, False),
])  # fmt: skip
async def test_eagerness_sets_how_sure_the_model_must_be(eagerness: str, probability: float, finished: bool) -> None:
    harness = semantic(FixedTurn(probability), eagerness)
    await harness.start()
    await stream(harness, np.concatenate([silence(500), tone(800), silence(9000)]))
    stopped = only(await through(harness, "input_audio_buffer.speech_stopped"), "input_audio_buffer.speech_stopped")
    assert FINISHED_PROBABILITY[eagerness] == pytest.approx(probability if finished else probability + 0.01)
    wait = (FINISHED_WAIT_MS if finished else UNFINISHED_WAIT_MS)[eagerness]
    assert abs(stopped["audio_end_ms"] - (1300 + wait)) <= FRAME_MS


async def semantic_turn_end(audio: Samples) -> int:
    """Where semantic_vad ends the one turn in `audio` when its judge answers at once."""
    harness = semantic()
    await harness.start()
    await stream(harness, audio)
    events = await through(harness, "input_audio_buffer.speech_stopped")
    end: int = only(events, "input_audio_buffer.speech_stopped")["audio_end_ms"]
    return end


async def verdicts_in(harness: SessionHarness) -> None:
    """Let the judge's task finish (its verdict re-enters the session in the session's lane)."""
    judging = harness.session.input.tasks()
    assert judging
    await asyncio.wait_for(asyncio.gather(*judging), 5)


async def test_the_judge_thinks_off_the_readers_path() -> None:
    turn = GatedTurn()
    harness = semantic(turn)
    await harness.start()
    await stream(harness, np.concatenate([silence(500), tone(800), silence(1000)]))
    await turn.waiting.wait()  # the model is hearing the turn so far
    assert types(harness.drain()) == ["input_audio_buffer.speech_started"]
    assert types(await harness.say("Meanwhile.")) == harness.expect(
        ["conversation.item.added", "conversation.item.done"]
    )
    await stream(harness, silence(2000))
    assert harness.session.input.buffer.received_ms == 4300
    assert harness.drain() == []  # no verdict yet, so the turn goes on
    turn.gate.set()
    stopped = only(await harness.until("input_audio_buffer.speech_stopped"), "input_audio_buffer.speech_stopped")
    assert stopped["audio_end_ms"] == await semantic_turn_end(np.concatenate([silence(500), tone(800), silence(3000)]))
    assert abs(stopped["audio_end_ms"] - (1300 + FINISHED_WAIT_MS["auto"])) <= FRAME_MS


async def test_a_verdict_that_arrives_after_speech_resumed_is_discarded() -> None:
    turn = GatedTurn()
    harness = semantic(turn)
    await harness.start()
    await stream(harness, np.concatenate([silence(500), tone(800), silence(400)]))
    await turn.waiting.wait()  # judging the pause from 1300 ms
    await stream(harness, tone(600))  # the speaker goes on before the verdict
    turn.gate.set()
    await verdicts_in(harness)
    assert types(harness.drain()) == ["input_audio_buffer.speech_started"]  # one turn, still open
    await stream(harness, silence(3000))
    events = await through(harness, "input_audio_buffer.speech_stopped")
    assert "input_audio_buffer.speech_started" not in types(events)
    stopped = only(events, "input_audio_buffer.speech_stopped")
    assert abs(stopped["audio_end_ms"] - (2300 + FINISHED_WAIT_MS["auto"])) <= FRAME_MS
