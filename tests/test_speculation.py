"""Speculation: a turn's answer is prepared while the silence window runs, and nobody can tell but by speed.

The voice stops → the session transcribes the turn so far, builds the response's exact LLM request and
starts it, and synthesizes the first clauses — emitting nothing. The turn ends at that pause → the
response adopts the work; the voice resumes → the work is dropped unseen.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import numpy as np
import pytest

from realtalk.engines.registry import Engines
from realtalk.engines.scripted.llm import ScriptedLLM
from realtalk.session.speculation import SpeculationStats
from tests.engines import GatedLLM, GatedSTT, RecordingLLM
from tests.harness import SessionHarness, config, scripted_engines, types
from tests.signals import chunks, encode, silence, tone

pytestmark = pytest.mark.dialects("ga", "beta")

ONE_SENTENCE = np.concatenate([silence(500), tone(1000), silence(1000)])
# a 300 ms pause mid-sentence, then more words: one turn
PAUSED_SENTENCE = np.concatenate([silence(500), tone(800), silence(300), tone(600), silence(1000)])


def speculating(engines: Engines, stats: SpeculationStats | None, modality: str = "audio") -> SessionHarness:
    """A session with server_vad (500 ms of silence ends a turn), input transcription, speculating if `stats`."""
    audio_in = {"transcription": {"model": "whisper-1"}}
    return SessionHarness(config(modality=modality, input=audio_in), engines, speculation=stats)


async def speak(harness: SessionHarness, audio: np.ndarray[Any, Any], chunk_ms: int = 40) -> None:
    """Stream `audio`, letting the session's background work run between appends, as a real client's pace does."""
    for piece in chunks(encode(audio, "pcm16"), "pcm16", chunk_ms):
        await harness.send({"type": "input_audio_buffer.append", "audio": piece})
        for _ in range(5):
            await asyncio.sleep(0)


async def answered(harness: SessionHarness, audio: np.ndarray[Any, Any]) -> list[dict[str, Any]]:
    """What the session sends from its start to the end of the response to `audio`."""
    await harness.start()
    await speak(harness, audio)
    events = harness.events[:]
    if "response.done" not in types(events):
        events += await harness.until("response.done")
    return events


async def test_a_used_speculation_gives_the_same_events_and_audio_with_one_llm_request() -> None:
    plain_llm, fast_llm = RecordingLLM(ScriptedLLM()), RecordingLLM(ScriptedLLM())
    plain = await answered(speculating(scripted_engines(llm=plain_llm), None), ONE_SENTENCE)
    stats = SpeculationStats()
    fast = await answered(speculating(scripted_engines(llm=fast_llm), stats), ONE_SENTENCE)
    assert types(fast) == types(plain)
    audio = [
        b"".join(base64.b64decode(e["delta"]) for e in events if e["type"].endswith("audio.delta"))
        for events in (plain, fast)
    ]
    assert audio[0] == audio[1] and len(audio[1]) > 0
    assert len(fast_llm.requests) == 1  # the speculative request was the response's request
    assert fast_llm.requests[0] == plain_llm.requests[0]
    assert (stats.started, stats.used, stats.discarded, stats.stale) == (1, 1, 0, 0)
    stages = stats.as_dict()["recent"][0]
    order = ["paused", "transcribed", "requested", "first_words", "speech_started", "first_speech"]
    assert sorted(stages, key=stages.__getitem__) == order  # when each stage ran, in the order it must


async def test_speech_that_pauses_and_resumes_is_one_turn_and_the_dropped_speculation_leaves_no_trace() -> None:
    llm = RecordingLLM(ScriptedLLM())
    stats = SpeculationStats()
    harness = speculating(scripted_engines(llm=llm), stats, modality="text")
    events = await answered(harness, PAUSED_SENTENCE)
    assert types(events).count("input_audio_buffer.speech_started") == 1
    assert types(events).count("input_audio_buffer.speech_stopped") == 1
    assert types(events).count("response.created") == 1
    stopped = harness.only(events, "input_audio_buffer.speech_stopped")
    assert 2200 - 32 <= stopped["audio_end_ms"] <= 2200 + 532  # after the second stretch of speech
    assert [item.role for item in harness.session.conversation.items] == ["user", "assistant"]
    assert (stats.started, stats.used, stats.discarded) == (2, 1, 1)
    assert [m.role for m in llm.requests[-1].messages] == ["system", "user"]
    assert harness.session.pending_tasks() == 0


async def test_a_dropped_speculation_stops_its_llm_stream() -> None:
    llm = GatedLLM(pause_after=1)
    stats = SpeculationStats()
    harness = speculating(scripted_engines(llm=llm), stats, modality="text")
    await harness.start()
    await speak(harness, np.concatenate([silence(500), tone(800), silence(200)]))
    await asyncio.wait_for(llm.paused.wait(), 5)  # the speculative answer is being written
    assert harness.of(harness.drain(), "response.created") == []
    await speak(harness, tone(400))  # the voice resumes
    assert (llm.streams_open, llm.streams_closed) == (1, 1)
    assert (stats.discarded, harness.session.pending_tasks()) == (1, 0)


async def test_a_conversation_changed_during_the_silence_gets_a_fresh_request() -> None:
    llm = RecordingLLM(ScriptedLLM())
    stats = SpeculationStats()
    harness = speculating(scripted_engines(llm=llm), stats, modality="text")
    await harness.start()
    await speak(harness, np.concatenate([silence(500), tone(800), silence(200)]))
    await harness.say("and a note added meanwhile")
    await speak(harness, silence(800))
    await harness.until("response.done")
    assert (stats.used, stats.stale) == (1, 1)
    assert len(llm.requests) == 2
    assert [m.content for m in llm.requests[-1].messages[1:]] == ["and a note added meanwhile", "Hello."]


async def test_closing_a_session_mid_speculation_leaves_no_task() -> None:
    llm = GatedLLM(pause_after=1)
    harness = speculating(scripted_engines(llm=llm), SpeculationStats(), modality="text")
    await harness.start()
    await speak(harness, np.concatenate([silence(500), tone(800), silence(200)]))
    await asyncio.wait_for(llm.paused.wait(), 5)
    await harness.close()
    assert harness.session.pending_tasks() == 0
    assert llm.streams_closed == 1


async def test_without_speculation_nothing_runs_before_the_turn_ends() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = speculating(scripted_engines(llm=llm), None, modality="text")
    await harness.start()
    await speak(harness, np.concatenate([silence(500), tone(800), silence(400)]))
    assert llm.requests == []


async def test_a_turn_that_ends_before_its_words_are_known_still_uses_the_speculation() -> None:
    stt, llm, stats = GatedSTT("Hello."), RecordingLLM(ScriptedLLM()), SpeculationStats()
    harness = speculating(scripted_engines(stt=stt, llm=llm), stats, modality="text")
    await harness.start()
    await speak(harness, ONE_SENTENCE)  # the turn ends while the recognizer is still at work
    assert harness.of(harness.drain(), "input_audio_buffer.speech_stopped")
    stt.gate.set()
    await harness.until("response.done")
    assert (stats.used, stats.stale, len(llm.requests)) == (1, 0, 1)
    assert [m.content for m in llm.requests[0].messages[1:]] == ["Hello."]  # the turn's words, once
