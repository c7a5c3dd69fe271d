"""Silero VAD: one model, a state per session, the frames of concurrent sessions batched off the loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from realtalk.audio.formats import Resampler
from realtalk.engines.embedded.onnx import cpu_session
from realtalk.engines.embedded.silero_vad import FRAME, SileroVAD, model_path
from tests.signals import silence
from tests.speech import speak


@pytest.fixture(scope="module")
def silero() -> Iterator[SileroVAD]:
    yield SileroVAD()


def frames(samples: np.ndarray, rate: int = 24_000) -> np.ndarray:
    audio = Resampler(rate, 16_000).process(samples, last=True)
    return audio[: len(audio) // FRAME * FRAME]


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return frames(np.concatenate([silence(300), speak("Hello there, how are you?").samples, silence(300)]))


async def test_speech_scores_high_and_silence_low(silero: SileroVAD, speech: np.ndarray) -> None:
    probabilities = await silero.open_stream().process(speech)
    assert max(probabilities[:5]) < 0.2 and max(probabilities) > 0.9


async def test_each_stream_keeps_its_own_state(silero: SileroVAD, speech: np.ndarray) -> None:
    alone = await silero.open_stream().process(speech)
    quiet = np.zeros_like(speech)
    together = await asyncio.gather(silero.open_stream().process(speech), silero.open_stream().process(quiet))
    assert np.allclose(together[0], alone, atol=1e-5)
    assert max(together[1]) < 0.1


class CountingModel:
    """The packaged Silero session, noting each inference's batch size and the thread it ran on."""

    def __init__(self) -> None:
        self.model = cpu_session(str(model_path()))
        self.calls: list[tuple[int, str]] = []

    def run(self, output_names: list[str] | None, input_feed: dict[str, Any]) -> list[Any]:
        self.calls.append((input_feed["input"].shape[0], threading.current_thread().name))
        result: list[Any] = self.model.run(output_names, input_feed)
        return result


async def test_concurrent_streams_are_batched_into_one_inference_per_frame(speech: np.ndarray) -> None:
    model = CountingModel()
    silero = SileroVAD(model)
    streams = [silero.open_stream() for _ in range(20)]
    await asyncio.gather(*(stream.process(speech[: 3 * FRAME]) for stream in streams))
    assert [size for size, _ in model.calls] == [20, 20, 20]
    assert all(name.startswith("silero") for _, name in model.calls)  # never on the event loop's thread


async def test_partial_frames_are_refused(silero: SileroVAD) -> None:
    with pytest.raises(ValueError):
        await silero.open_stream().process(np.zeros(FRAME + 1, dtype=np.int16))
