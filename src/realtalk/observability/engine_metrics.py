"""Engines wrapped so that each call is timed and each failure counted, whoever calls them.

Each wrapper is the engine to its callers (same interface, same attributes) and measures around it:
the time to the first output (the first token, transcript event or chunk of speech), the time to the
last, and failures by kind. The VAD runs on every audio frame, so only its failures are counted.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import Counter, Histogram

from realtalk.engines.base import (
    EndOfTurnEngine,
    LLMEngine,
    LLMEvent,
    LLMRequest,
    Samples,
    STTEngine,
    TokenCount,
    TranscriptEvent,
    TTSEngine,
    VADEngine,
    VADStream,
)
from realtalk.engines.registry import EngineChoice, Engines
from realtalk.engines.remote.http import RemoteEngineError
from realtalk.observability.metrics import ENGINE_ERROR_KINDS, Metrics, engine_labels

T = TypeVar("T")


def failure_kind(exc: BaseException) -> str:
    """What kind of failure an engine's exception is: timeout, connection, bad_response or internal."""
    if isinstance(exc, RemoteEngineError):
        return exc.kind
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionError):
        return "connection"
    return "internal"


@dataclass(frozen=True)
class EngineTimer:
    """One engine's metric series, resolved once (a label lookup per call would cost more than the timing)."""

    first_output: Histogram
    total: Histogram
    errors: dict[str, Counter]

    @classmethod
    def of(cls, metrics: Metrics, engine: str, backend: str) -> EngineTimer:
        labels = engine_labels(engine, backend)
        return cls(
            metrics.engine_first_output_seconds.labels(*labels),
            metrics.engine_seconds.labels(*labels),
            {kind: metrics.engine_errors.labels(*labels, kind) for kind in ENGINE_ERROR_KINDS},
        )

    def failed(self, exc: BaseException) -> None:
        self.errors[failure_kind(exc)].inc()

    async def stream(self, outputs: AsyncIterator[T]) -> AsyncIterator[T]:
        """`outputs` passed through, timed to the first and the last; one abandoned early is not timed."""
        started = time.perf_counter()
        first = True
        try:
            async for output in outputs:
                if first:
                    self.first_output.observe(time.perf_counter() - started)
                    first = False
                yield output
        except Exception as exc:
            self.failed(exc)
            raise
        self.total.observe(time.perf_counter() - started)


class TimedLLM:
    def __init__(self, inner: LLMEngine, timer: EngineTimer) -> None:
        self.context_window = inner.context_window
        self._inner, self._timer = inner, timer

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        return self._timer.stream(self._inner.stream(request))

    async def count_tokens(self, request: LLMRequest) -> TokenCount:
        return await self._inner.count_tokens(request)


class TimedTTS:
    def __init__(self, inner: TTSEngine, timer: EngineTimer) -> None:
        self.sample_rate = inner.sample_rate
        self._inner, self._timer = inner, timer

    def synthesize(self, text: str, *, voice: str, speed: float) -> AsyncIterator[Samples]:
        return self._timer.stream(self._inner.synthesize(text, voice=voice, speed=speed))


class TimedSTT:
    def __init__(self, inner: STTEngine, timer: EngineTimer) -> None:
        self.sample_rate = inner.sample_rate
        self._inner, self._timer = inner, timer

    def transcribe(self, audio: Samples, *, language: str | None, prompt: str | None) -> AsyncIterator[TranscriptEvent]:
        return self._timer.stream(self._inner.transcribe(audio, language=language, prompt=prompt))


class TimedTurn:
    """The end-of-turn judge: one answer per call, so its first output is its last."""

    def __init__(self, inner: EndOfTurnEngine, timer: EngineTimer) -> None:
        self.sample_rate = inner.sample_rate
        self._inner, self._timer = inner, timer

    async def probability(self, audio: Samples) -> float:
        started = time.perf_counter()
        try:
            probability = await self._inner.probability(audio)
        except Exception as exc:
            self._timer.failed(exc)
            raise
        elapsed = time.perf_counter() - started
        self._timer.first_output.observe(elapsed)
        self._timer.total.observe(elapsed)
        return probability


class CountedVAD:
    """Failures only: the VAD runs on every frame of every session, where even a timer would cost."""

    def __init__(self, inner: VADEngine, timer: EngineTimer) -> None:
        self.sample_rate, self.frame_samples = inner.sample_rate, inner.frame_samples
        self._inner, self._timer = inner, timer

    def open_stream(self) -> VADStream:
        return _CountedVADStream(self._inner.open_stream(), self._timer)


class _CountedVADStream:
    def __init__(self, inner: VADStream, timer: EngineTimer) -> None:
        self._inner, self._timer = inner, timer

    async def process(self, frames: Samples) -> list[float]:
        try:
            return await self._inner.process(frames)
        except Exception as exc:
            self._timer.failed(exc)
            raise


def instrument_engines(engines: Engines, choice: EngineChoice, metrics: Metrics) -> Engines:
    """The same engines, measured; each labelled with the backend `choice` names for it."""

    def timer(kind: str) -> EngineTimer:
        return EngineTimer.of(metrics, kind, getattr(choice, kind))

    return Engines(
        vad=CountedVAD(engines.vad, timer("vad")),
        stt=TimedSTT(engines.stt, timer("stt")),
        llm=TimedLLM(engines.llm, timer("llm")),
        tts=TimedTTS(engines.tts, timer("tts")),
        turn=TimedTurn(engines.turn, timer("turn")),
    )
