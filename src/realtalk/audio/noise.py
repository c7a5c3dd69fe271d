"""`input_audio_noise_reduction`: a streaming spectral gate applied to the 16 kHz audio VAD and STT hear.

How it works (and what the two settings mean):
- A short-time Fourier transform (512-sample sqrt-Hann frames, 50 % overlap) splits the audio into bins.
- Each bin's noise floor is tracked as the running minimum of its smoothed power (doubled, since a
  minimum sits below the mean), allowed to rise slowly (about 3 dB a second), so steady noise (fans, hum,
  hiss, road noise) is learned within a second or two while speech, which comes and goes, is not.
- Each bin is scaled by a Wiener-style gain `max(floor, 1 - over * noise / power)`, smoothed over time to
  avoid "musical" artefacts, and the frames are overlap-added back.
- `near_field` (a close microphone: headset, phone at the ear): over-subtraction 2, gain floor -20 dB,
  and an 80 Hz high-pass against handling rumble and breath pops.
- `far_field` (a laptop or conference microphone across the room): over-subtraction 3, floor -26 dB,
  and a 120 Hz high-pass, because room noise and reverberation sit higher relative to the voice.
The output is time-aligned with the input (the 16 ms algorithmic delay is removed), so VAD timestamps do
not move; the stored conversation audio is never altered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from realtalk.audio.g711 import Int16Array

FRAME = 512
HOP = FRAME // 2
_WINDOW = np.sqrt(np.hanning(FRAME + 1)[:FRAME]).astype(np.float64)
Float64Array = npt.NDArray[np.float64]
_MINIMUM_BIAS = 2.0


@dataclass(frozen=True)
class NoiseProfile:
    over_subtraction: float
    gain_floor: float
    highpass_hz: float


PROFILES: dict[str, NoiseProfile] = {
    "near_field": NoiseProfile(over_subtraction=2.0, gain_floor=0.1, highpass_hz=80.0),
    "far_field": NoiseProfile(over_subtraction=3.0, gain_floor=0.05, highpass_hz=120.0),
}


class NoiseSuppressor:
    """Streaming: feed any number of samples, get the same number back (minus what is still in flight)."""

    def __init__(self, kind: Literal["near_field", "far_field"], sample_rate: int = 16_000) -> None:
        self.profile = PROFILES[kind]
        bins = FRAME // 2 + 1
        self._highpass = np.fft.rfftfreq(FRAME, 1 / sample_rate) >= self.profile.highpass_hz
        self._input = np.zeros(HOP, dtype=np.float64)  # the first half-frame of history
        self._output = np.zeros(HOP, dtype=np.float64)  # overlap-add tail
        self._power: Float64Array | None = None
        self._noise: Float64Array = np.zeros(bins)
        self._gain: Float64Array = np.ones(bins)
        self._rise = 10 ** (3 / 10 * HOP / sample_rate)  # the floor may rise 3 dB a second
        self._skip = HOP  # the algorithmic delay, dropped so output aligns with input
        self._received = 0
        self._emitted = 0

    def process(self, samples: Int16Array, last: bool = False) -> Int16Array:
        """Filtered audio for what has been fed so far; with `last`, everything that is still in flight."""
        self._received += len(samples)
        data = np.concatenate([self._input, samples.astype(np.float64)])
        if last:
            data = np.concatenate([data, np.zeros(FRAME)])
        out: list[Float64Array] = []
        start = 0
        while start + FRAME <= len(data):
            out.append(self._frame(data[start : start + FRAME]))
            start += HOP
        self._input = data[start:]
        result = np.concatenate(out) if out else np.zeros(0)
        if self._skip:
            dropped = min(self._skip, len(result))
            result, self._skip = result[dropped:], self._skip - dropped
        if last:
            result = result[: self._received - self._emitted]
        self._emitted += len(result)
        return np.clip(np.round(result), -32768, 32767).astype(np.int16)

    def _frame(self, frame: Float64Array) -> Float64Array:
        spectrum = np.fft.rfft(frame * _WINDOW)
        power = spectrum.real**2 + spectrum.imag**2 + 1e-9
        if self._power is None:  # the first frame is the first estimate of the noise, and of the gain
            self._power = power.copy()
            self._noise = power.copy()
            self._gain = np.full_like(power, self.profile.gain_floor)
        self._power = 0.8 * self._power + 0.2 * power
        self._noise = np.minimum(self._noise * self._rise, self._power)
        noise = _MINIMUM_BIAS * self._noise  # a running minimum sits below the mean noise power
        gain = np.maximum(self.profile.gain_floor, 1.0 - self.profile.over_subtraction * noise / power)
        self._gain = 0.6 * self._gain + 0.4 * gain
        shaped = np.fft.irfft(spectrum * self._gain * self._highpass, FRAME) * _WINDOW
        shaped[:HOP] += self._output
        self._output = shaped[HOP:].copy()
        return shaped[:HOP]


def suppress(samples: Int16Array, kind: Literal["near_field", "far_field"], sample_rate: int = 16_000) -> Int16Array:
    """A whole clip at once (the STT path)."""
    return NoiseSuppressor(kind, sample_rate).process(samples, last=True)
