"""Smart Turn v3: the model hears what pipecat feeds it, off the event loop, and tells a finished sentence
from one cut off mid-way."""

from __future__ import annotations

import importlib.util
import threading
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from realtalk.audio.formats import Resampler
from realtalk.engines.embedded.packages import package_dir
from realtalk.engines.embedded.smart_turn import WINDOW, SmartTurn, features
from realtalk.engines.registry import Engines
from tests.signals import noise, silence

# Kokoro's "echo" voice; a cut sentence is synthesized as it stands (said alone it still sounds unfinished).
PAIRS = [
    ("What is the capital of France?", "I would like to book a table for"),
    ("Can you tell me the weather in Paris tomorrow?", "Can you tell me the weather in"),
    ("My favourite colour is blue.", "My favourite colour is"),
    ("Remind me to call my mother tonight.", "Remind me to call my mother and"),
]


def pipecat_whisper_features() -> ModuleType:
    """pipecat's own numpy feature code, loaded from its file: importing pipecat needs its dependencies."""
    path = package_dir("pipecat") / "audio" / "turn" / "smart_turn" / "_whisper_features.py"
    spec = importlib.util.spec_from_file_location("pipecat_whisper_features", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pipecat_features(audio: np.ndarray) -> np.ndarray:
    """What `LocalSmartTurnAnalyzerV3._predict_endpoint` feeds the model: the last 8 s, zeros on the left."""
    samples = audio.astype(np.float32) / 32768.0
    samples = samples[-WINDOW:]
    samples = np.pad(samples, (WINDOW - len(samples), 0), mode="constant", constant_values=0)
    result: np.ndarray = pipecat_whisper_features().compute_whisper_log_mel_features(samples, do_normalize=True)
    return result


def speechlike(seconds: float) -> np.ndarray:
    """Noise under a 4 Hz syllable envelope, at 16 kHz: loud and quiet stretches, like speech."""
    audio = noise(int(seconds * 1000), level=0.2, rate=16_000).astype(np.float64)
    envelope = np.abs(np.sin(np.pi * 4 * np.arange(len(audio)) / 16_000))
    return (audio * envelope).astype(np.int16)


def test_features_are_80_mel_bins_by_800_frames_of_10_ms() -> None:
    result = features(speechlike(3))
    assert (result.shape, result.dtype) == ((80, 800), np.float32)


@pytest.mark.parametrize("seconds", [0.0, 0.5, 3.0, 8.0, 12.5])
def test_features_equal_pipecats_to_the_bit(seconds: float) -> None:
    audio = speechlike(seconds)
    assert np.array_equal(features(audio), pipecat_features(audio))


def test_only_the_last_8_seconds_count() -> None:
    audio = speechlike(11)
    assert np.array_equal(features(audio), features(audio[-WINDOW:]))


def test_a_short_turn_is_padded_with_silence_before_it() -> None:
    audio = speechlike(2)
    assert np.array_equal(features(audio), features(np.concatenate([silence(4000, rate=16_000), audio])))


class RecordingModel:
    """Stands in for the ONNX session: notes each input and the thread it ran on, answers 0.25."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, str]] = []

    def run(self, output_names: list[str] | None, input_feed: dict[str, Any]) -> list[Any]:
        self.calls.append((input_feed["input_features"], threading.current_thread().name))
        return [np.array([[0.25]], dtype=np.float32)]


async def test_a_decision_runs_on_the_worker_thread_over_the_last_8_seconds() -> None:
    model = RecordingModel()
    audio = speechlike(10)
    probability = await SmartTurn(model).probability(audio)
    [(fed, thread)] = model.calls
    assert probability == 0.25
    assert thread.startswith("smart-turn")  # never on the event loop's thread
    assert np.array_equal(fed, features(audio[-WINDOW:])[np.newaxis])


async def turn_audio(engines: Engines, text: str) -> np.ndarray:
    """`text` spoken by Kokoro as a turn reaches the engine: 16 kHz, 0.5 s before, a 0.2 s pause after."""
    speech = np.concatenate([c async for c in engines.tts.synthesize(text, voice="echo", speed=1.0)])
    return Resampler(24_000, 16_000).process(np.concatenate([silence(500), speech, silence(200)]), last=True)


@pytest.mark.models
async def test_finished_sentences_score_above_one_half_and_cut_ones_below(embedded: Engines) -> None:
    scores = {
        text: await embedded.turn.probability(await turn_audio(embedded, text)) for pair in PAIRS for text in pair
    }
    finished, unfinished = zip(*PAIRS, strict=True)
    assert all(scores[text] > 0.5 for text in finished), scores
    assert all(scores[text] < 0.5 for text in unfinished), scores
