"""`HeardAudio`: the input as the models hear it — one stream at the VAD's rate (16 kHz), denoised if asked.

Every appended chunk is decoded, resampled and denoised exactly once; voice activity detection, the
end-of-turn judge and transcription all read this one stream, so a turn's audio is never processed
twice. It keeps the samples of the turn in progress (trimmed as the input buffer is) on the session's
audio clock: milliseconds of audio received, whatever the wire format or chunking.
"""

from __future__ import annotations

import numpy as np

from realtalk.audio.formats import Resampler
from realtalk.audio.g711 import Int16Array
from realtalk.audio.noise import NoiseSuppressor
from realtalk.protocol.config import NoiseReduction

_EMPTY = np.zeros(0, dtype=np.int16)


class HeardAudio:
    def __init__(self, rate: int, input_rate: int, noise: NoiseReduction | None, origin_ms: float) -> None:
        self.rate = rate
        self._input_rate = input_rate
        self._resampler = Resampler(input_rate, rate)
        self.noise = noise
        self._suppressor = NoiseSuppressor(noise.type, rate) if noise else None
        self._chunks: list[Int16Array] = []
        self._kept = 0  # samples held in `_chunks`
        self.start_ms = origin_ms  # audio-clock time of the first kept sample

    @property
    def end_ms(self) -> float:
        """How far the heard stream reaches (it trails the input by the resampler's few samples)."""
        return self.start_ms + self._kept * 1000 / self.rate

    def hear(self, samples: Int16Array) -> Int16Array:
        """Process newly received input samples; return the new samples at `rate` (also kept)."""
        return self._keep(self._filtered(self._resampler.process(samples)))

    def set_input_rate(self, rate: int) -> Int16Array:
        """The wire format changed: flush the old resampler so no sample is lost, then start a new one.

        Returns the flushed samples (also kept), which the VAD has yet to hear.
        """
        if rate == self._input_rate:
            return _EMPTY
        flushed = self._keep(self._filtered(self._resampler.process(_EMPTY, last=True)))
        self._input_rate = rate
        self._resampler = Resampler(rate, self.rate)
        return flushed

    def set_noise_reduction(self, noise: NoiseReduction | None) -> Int16Array:
        """Flush the old filter so no sample is lost (and the clock does not slip); returns what it flushed."""
        if noise == self.noise:
            return _EMPTY
        flushed = self._keep(self._suppressor.process(_EMPTY, last=True)) if self._suppressor is not None else _EMPTY
        self.noise = noise
        self._suppressor = NoiseSuppressor(noise.type, self.rate) if noise else None
        return flushed

    def since(self, from_ms: float) -> Int16Array:
        """The kept samples from `from_ms` on."""
        return self._joined()[self._offset(from_ms) :]

    def take(self, until_ms: float | None = None) -> Int16Array:
        """The kept samples up to `until_ms` (default: all); they are no longer kept."""
        joined = self._joined()
        cut = len(joined) if until_ms is None else self._offset(until_ms)
        self._set(joined[cut:], self.start_ms + cut * 1000 / self.rate)
        return joined[:cut]

    def drop_before(self, ms: float) -> None:
        joined = self._joined()
        cut = self._offset(ms)
        self._set(joined[cut:], self.start_ms + cut * 1000 / self.rate)

    def clear(self) -> None:
        """Forget what is kept; what the resampler still holds comes next, so the clock runs on from `end_ms`."""
        self._set(_EMPTY, self.end_ms)

    def _filtered(self, samples: Int16Array) -> Int16Array:
        return self._suppressor.process(samples) if self._suppressor is not None else samples

    def _keep(self, samples: Int16Array) -> Int16Array:
        if len(samples):
            self._chunks.append(samples)
            self._kept += len(samples)
        return samples

    def _joined(self) -> Int16Array:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else _EMPTY

    def _set(self, samples: Int16Array, start_ms: float) -> None:
        self._chunks = [samples] if len(samples) else []
        self._kept = len(samples)
        self.start_ms = start_ms

    def _offset(self, ms: float) -> int:
        return max(0, min(self._kept, round((ms - self.start_ms) * self.rate / 1000)))
