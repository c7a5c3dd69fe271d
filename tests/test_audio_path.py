"""Resampling and noise suppression: streaming equals whole-signal, no clicks, time-aligned; G.711 on speech."""

from __future__ import annotations

import numpy as np
import pytest

from realtalk.audio.formats import FORMATS, Resampler
from realtalk.audio.noise import NoiseSuppressor, suppress
from tests.signals import noise, tone
from tests.speech import speak


def chunked(resampler: Resampler, samples: np.ndarray, size: int) -> np.ndarray:
    parts = [resampler.process(samples[i : i + size]) for i in range(0, len(samples), size)]
    parts.append(resampler.process(np.zeros(0, dtype=np.int16), last=True))
    return np.concatenate(parts)


@pytest.mark.parametrize(
    ("source", "target"), [(24_000, 16_000), (8_000, 16_000), (24_000, 8_000), (22_050, 24_000), (16_000, 24_000)]
)
@pytest.mark.parametrize("chunk_ms", [10, 20, 37, 100])
def test_chunked_resampling_equals_whole_signal_resampling(source: int, target: int, chunk_ms: int) -> None:
    signal = tone(1000, rate=source, freq=440.0) + noise(1000, 0.01, rate=source)
    whole = Resampler(source, target).process(signal, last=True)
    streamed = chunked(Resampler(source, target), signal, source * chunk_ms // 1000)
    assert len(streamed) == len(whole) == target  # one second in, one second out
    difference = streamed.astype(np.float64) - whole.astype(np.float64)
    assert np.max(np.abs(difference)) <= 2  # int16 rounding only: -84 dBFS
    assert np.sqrt(np.mean(difference**2)) <= 1.0


def test_resampled_chunks_join_without_clicks() -> None:
    signal = tone(1000, rate=24_000, freq=440.0)
    out = chunked(Resampler(24_000, 16_000), signal, 480).astype(np.float64)
    steps = np.abs(np.diff(out[100:-100]))
    # a 440 Hz sine at 0.3 full scale moves at most 2*pi*440/16000*0.3*32767 ≈ 1700 per sample
    assert steps.max() < 1800


def test_noise_suppression_attenuates_steady_noise_and_keeps_the_voice() -> None:
    rate = 16_000
    voice = np.concatenate([np.zeros(rate * 2, dtype=np.int16), tone(1000, rate=rate, freq=440.0)])
    hiss = noise(3000, 0.03, rate=rate)
    mixed = np.clip(voice.astype(np.int32) + hiss, -32768, 32767).astype(np.int16)
    for kind, at_least_db in (("near_field", 8.0), ("far_field", 10.0)):
        out = suppress(mixed, kind)  # type: ignore[arg-type]
        assert len(out) == len(mixed)
        noise_only = slice(rate, 2 * rate)
        attenuation = 10 * np.log10(
            np.mean(mixed[noise_only].astype(float) ** 2) / np.mean(out[noise_only].astype(float) ** 2)
        )
        assert attenuation >= at_least_db, (kind, attenuation)
        voiced = slice(2 * rate + 2000, 3 * rate - 2000)
        kept = 10 * np.log10(np.mean(out[voiced].astype(float) ** 2) / np.mean(mixed[voiced].astype(float) ** 2))
        assert kept > -1.0, (kind, kept)


def test_noise_suppression_streams_exactly_as_it_filters_a_whole_clip() -> None:
    clip = noise(2000, 0.05, rate=16_000) + tone(2000, rate=16_000)
    streaming = NoiseSuppressor("near_field")
    parts = [streaming.process(clip[i : i + 333]) for i in range(0, len(clip), 333)]
    parts.append(streaming.process(np.zeros(0, dtype=np.int16), last=True))
    assert np.array_equal(np.concatenate(parts), suppress(clip, "near_field"))


def test_noise_suppression_does_not_move_sound_in_time() -> None:
    click = np.zeros(8000, dtype=np.int16)
    click[4000] = 20000
    assert int(np.argmax(np.abs(suppress(click, "far_field")))) == 4000


@pytest.mark.parametrize(("name", "min_snr_db"), [("g711_ulaw", 30.0), ("g711_alaw", 30.0)])
def test_g711_round_trip_of_real_speech_keeps_it_clear(name: str, min_snr_db: float) -> None:
    speech = speak("The quick brown fox jumps over the lazy dog.").samples
    fmt = FORMATS[name]
    narrow = Resampler(24_000, 8_000).process(speech, last=True)
    back = fmt.decode(fmt.encode(narrow)).astype(np.float64)
    error = back - narrow.astype(np.float64)
    snr = 10 * np.log10(np.sum(narrow.astype(np.float64) ** 2) / np.sum(error**2))
    assert snr >= min_snr_db
