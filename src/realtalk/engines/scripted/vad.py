"""An energy VAD: a frame is speech when it is louder than a fixed level. Tones count as speech."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtalk.engines.base import Samples


@dataclass
class EnergyVADStream:
    threshold_dbfs: float

    def speech_probability(self, frame: Samples) -> float:
        if frame.size == 0:
            return 0.0
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) / 32768.0
        return 1.0 if rms > 0 and 20 * np.log10(rms) > self.threshold_dbfs else 0.0


@dataclass
class EnergyVAD:
    sample_rate: int = 16_000
    frame_samples: int = 512
    threshold_dbfs: float = -40.0

    def open_stream(self) -> EnergyVADStream:
        return EnergyVADStream(self.threshold_dbfs)
