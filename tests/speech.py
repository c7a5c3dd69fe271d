"""Real speech for the audio tests, synthesized offline by Debian's espeak-ng, with its extent measured."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest

from realtalk.audio.formats import Resampler
from realtalk.engines.base import Samples

RATE = 24_000


@dataclass(frozen=True)
class Utterance:
    samples: Samples  # 24 kHz, trimmed to the speech itself
    text: str

    @property
    def ms(self) -> float:
        return len(self.samples) * 1000 / RATE


@cache
def speak(text: str, voice: str = "en-us", words_per_minute: int = 160) -> Utterance:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (make test installs it)")
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "--stdout", text], check=True, capture_output=True
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        raw = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    samples = Resampler(rate, RATE).process(raw.astype(np.int16), last=True)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 500)
    return Utterance(samples[loud[0] : loud[-1] + 1], text)


@dataclass(frozen=True)
class Scene:
    """Utterances separated by silences, with where each one starts and ends (ms)."""

    samples: Samples
    spans: list[tuple[float, float]]


def scene(*parts: Utterance | int) -> Scene:
    """`scene(1000, speak("Hi."), 1500, speak("Bye."), 1500)`: ints are milliseconds of silence."""
    pieces: list[Samples] = []
    spans: list[tuple[float, float]] = []
    at = 0.0
    for part in parts:
        if isinstance(part, int):
            pieces.append(np.zeros(RATE * part // 1000, dtype=np.int16))
            at += part
        else:
            pieces.append(part.samples)
            spans.append((at, at + part.ms))
            at += part.ms
    return Scene(np.concatenate(pieces), spans)
