"""Synthetic test signals: tones and silences at known positions, in every wire format."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import numpy as np

from realtalk.audio.formats import FORMATS, Resampler
from realtalk.engines.base import Samples


def tone(ms: int, rate: int = 24_000, freq: float = 300.0, level: float = 0.3) -> Samples:
    t = np.arange(rate * ms // 1000) / rate
    return (level * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def silence(ms: int, rate: int = 24_000) -> Samples:
    return np.zeros(rate * ms // 1000, dtype=np.int16)


def noise(ms: int, level: float, rate: int = 24_000, seed: int = 7) -> Samples:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, level * 32767, rate * ms // 1000), -32768, 32767).astype(np.int16)


def encode(samples: Samples, audio_format: str, rate: int = 24_000) -> bytes:
    fmt = FORMATS[audio_format]
    return fmt.encode(Resampler(rate, fmt.sample_rate).process(samples, last=True))


def chunks(data: bytes, audio_format: str, chunk_ms: int) -> Iterator[str]:
    """Base64 appends of `chunk_ms` each, as a client streams them."""
    size = FORMATS[audio_format].bytes_for_ms(chunk_ms)
    for start in range(0, len(data), size):
        yield base64.b64encode(data[start : start + size]).decode()
