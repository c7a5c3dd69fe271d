"""An energy VAD: a frame is speech when it is louder than a fixed level. Tones count as speech."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtalk.engines.base import Samples


@dataclass
class EnergyVADStream:
    frame_samples: int
    threshold_dbfs: float

    async def process(self, frames: Samples) -> list[float]:
        rows = frames.astype(np.float64).reshape(-1, self.frame_samples) / 32768.0
        rms = np.sqrt(np.mean(rows**2, axis=1))
        level = 20 * np.log10(np.maximum(rms, 1e-10))
        return [1.0 if db > self.threshold_dbfs else 0.0 for db in level]


@dataclass
class EnergyVAD:
    sample_rate: int = 16_000
    frame_samples: int = 512
    threshold_dbfs: float = -40.0

    def open_stream(self) -> EnergyVADStream:
        return EnergyVADStream(self.frame_samples, self.threshold_dbfs)
