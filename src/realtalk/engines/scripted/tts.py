"""A TTS that speaks tones: each character lasts a fixed time, each voice has its own pitch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from realtalk.engines.base import Samples

_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")


@dataclass
class ToneTTS:
    sample_rate: int = 24_000
    ms_per_char: float = 20.0
    chunk_ms: int = 100

    def duration_samples(self, text: str, speed: float) -> int:
        return int(len(text) * self.ms_per_char / 1000 / speed * self.sample_rate)

    async def synthesize(self, text: str, *, voice: str, speed: float) -> AsyncIterator[Samples]:
        total = self.duration_samples(text, speed)
        pitch = 220.0 + 40.0 * (_VOICES.index(voice) if voice in _VOICES else 0)
        t = np.arange(total) / self.sample_rate
        tone = (0.3 * 32767 * np.sin(2 * np.pi * pitch * t)).astype(np.int16)
        step = self.sample_rate * self.chunk_ms // 1000
        for start in range(0, total, step):
            yield tone[start : start + step]
