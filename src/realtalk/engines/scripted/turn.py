"""An end-of-turn engine that hears pitch: a turn ending on a low tone is finished, on a high tone it is not.

As a statement ends on a falling pitch, a test (or a client's CI, over the wire) says whether the speaker
has finished by the tone it sends last. The pitch is read from the zero crossings of the last 32 ms of
sound (samples above -40 dBFS), so trailing silence does not count. A turn with no sound at all counts as
finished: nothing is left unsaid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtalk.engines.base import Samples


@dataclass
class PitchTurn:
    sample_rate: int = 16_000
    split_hz: float = 400.0  # below: finished; the default test tone, 300 Hz, ends a turn
    level: int = 328  # -40 dBFS: quieter samples are silence
    window_samples: int = 512  # 32 ms at 16 kHz

    async def probability(self, audio: Samples) -> float:
        """1.0 when the last sound is pitched below `split_hz`, else 0.0."""
        sounding = np.flatnonzero(np.abs(audio.astype(np.int32)) > self.level)
        if not sounding.size:
            return 1.0
        end = int(sounding[-1]) + 1
        negative = np.signbit(audio[max(0, end - self.window_samples) : end])
        crossings = np.count_nonzero(negative[1:] != negative[:-1])
        pitch = crossings * self.sample_rate / (2 * len(negative))
        return 1.0 if pitch < self.split_hz else 0.0
