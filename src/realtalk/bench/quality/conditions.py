"""How a spoken question reaches the server: clean pcm16, μ-law as a phone line carries it, or pcm16 under
white noise at 10 dB SNR. Each is the same synthesized speech, with the same silence around it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtalk.audio.formats import FORMATS
from realtalk.bench import client
from realtalk.engines.base import Samples
from realtalk.protocol.config import AudioFormatName

PAD_MS = 300  # silence before and after the speech, as from a microphone opened before it and closed after
CHUNK_MS = 100  # each append's audio; sent at once, not in real time: only what is heard is judged


@dataclass(frozen=True)
class Condition:
    name: str
    audio_format: AudioFormatName = "pcm16"
    snr_db: float | None = None  # white noise this far below the speech's power

    def audio(self, speech: Samples, seed: int) -> Samples:
        padded = np.concatenate([client.silence(PAD_MS), speech, client.silence(PAD_MS)])
        return padded if self.snr_db is None else with_noise(padded, speech, self.snr_db, seed)

    def events(self, speech: Samples, seed: int) -> list[str]:
        return client.frames(self.audio(speech, seed), CHUNK_MS, FORMATS[self.audio_format])


def with_noise(audio: Samples, speech: Samples, snr_db: float, seed: int) -> Samples:
    """`audio` plus Gaussian white noise whose power is `snr_db` below that of `speech` (the speech alone,
    not its silences), the same noise for the same seed."""
    power = float(np.mean(speech.astype(np.float64) ** 2))
    noise = np.random.default_rng(seed).normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), len(audio))
    return np.clip(np.round(audio + noise), -32768, 32767).astype(np.int16)


CLEAN = Condition("clean")
ULAW = Condition("ulaw", "g711_ulaw")
NOISE = Condition("noise", snr_db=10.0)
CONDITIONS = (CLEAN, ULAW, NOISE)
