"""The three wire formats of the protocol and conversion between them and engine sample rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

from realtalk.audio import g711
from realtalk.audio.g711 import Int16Array
from realtalk.protocol.config import AudioFormatName


@dataclass(frozen=True)
class AudioFormat:
    """pcm16 is 24 kHz little-endian 16-bit mono; the G.711 laws are 8 kHz, one byte a sample."""

    name: AudioFormatName
    sample_rate: int
    bytes_per_sample: int

    def decode(self, data: bytes) -> Int16Array:
        if self.name == "pcm16":
            usable = len(data) - len(data) % 2
            return np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)
        return g711.decode(data, g711.ULAW_DECODE if self.name == "g711_ulaw" else g711.ALAW_DECODE)

    def encode(self, samples: Int16Array) -> bytes:
        if self.name == "pcm16":
            return samples.astype("<i2").tobytes()
        return g711.encode(samples, g711.ULAW_ENCODE if self.name == "g711_ulaw" else g711.ALAW_ENCODE)

    def duration_ms(self, nbytes: int) -> float:
        return nbytes // self.bytes_per_sample * 1000 / self.sample_rate

    def bytes_for_ms(self, ms: float) -> int:
        return int(ms * self.sample_rate / 1000) * self.bytes_per_sample


FORMATS: dict[str, AudioFormat] = {
    "pcm16": AudioFormat("pcm16", 24_000, 2),
    "g711_ulaw": AudioFormat("g711_ulaw", 8_000, 1),
    "g711_alaw": AudioFormat("g711_alaw", 8_000, 1),
}


class Resampler:
    """Streaming sample-rate conversion: chunk after chunk, with no clicks at chunk boundaries."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16")

    def process(self, samples: Int16Array, last: bool = False) -> Int16Array:
        if self._stream is None:
            return samples
        out: Int16Array = self._stream.resample_chunk(samples, last=last)
        return out


class AudioEncoder:
    """Engine audio (int16 at the engine's rate) → bytes in a wire format, one stream per response."""

    def __init__(self, source_rate: int, fmt: AudioFormat) -> None:
        self.format = fmt
        self._resampler = Resampler(source_rate, fmt.sample_rate)

    def encode(self, samples: Int16Array, last: bool = False) -> bytes:
        return self.format.encode(self._resampler.process(samples, last=last))
