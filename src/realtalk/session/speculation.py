"""Speculation: a turn's answer prepared while the silence window runs, used only if the turn ends there.

When the voice stops, nothing may be sent until the silence has lasted `silence_duration_ms` (or the
end-of-turn judge says so). That wait is dead time on the critical path, so the session spends it: it
transcribes the turn so far, builds the exact LLM request the response would make, starts the LLM and
synthesizes the first clauses of its answer — all held back, nothing emitted. When the turn ends at that
pause, the real response finds its request already running (`Prefetch.adopt`) and its first audio already
made, and streams the usual events in the usual order, only sooner. When the voice resumes, the work is
cancelled and forgotten; the client can tell it happened only by speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from realtalk.engines.base import (
    LLMEngine,
    LLMEvent,
    LLMRequest,
    Samples,
    TextDelta,
    TranscriptEvent,
    TranscriptFinal,
    TTSEngine,
)
from realtalk.engines.speech_text import SentenceChunker

log = logging.getLogger(__name__)
PREPARED_CLAUSES = 2  # how much of the answer is synthesized ahead: the rest follows as it plays
RECENT = 16  # stage timings kept of the last used speculations (for `realtalk bench latency`'s waterfall)


@dataclass
class SpeculationStats:
    """What speculation did in this server: how often it paid off, and the engine time it cost."""

    started: int = 0
    used: int = 0  # the turn ended at its pause: its transcript and answer went to the response
    discarded: int = 0  # the voice resumed: all of it thrown away
    stale: int = 0  # used, but its answer was made for a request that changed meanwhile
    wasted_seconds: float = 0.0  # engine time spent on work thrown away
    # when the stages of the last few used speculations ran (the system's monotonic clock, in seconds)
    recent: deque[dict[str, float]] = field(default_factory=lambda: deque(maxlen=RECENT))

    def as_dict(self) -> dict[str, Any]:
        decided = self.used + self.discarded
        return {
            "started": self.started,
            "used": self.used,
            "discarded": self.discarded,
            "stale": self.stale,
            "hit_rate": round(self.used / decided, 3) if decided else 0.0,
            "wasted_seconds": round(self.wasted_seconds, 3),
            "recent": [dict(stages) for stages in self.recent],
        }


@dataclass
class _Clause:
    """One clause's speech, as it is being synthesized: chunks so far, and whether it is complete."""

    chunks: list[Samples] = field(default_factory=list)
    grown: asyncio.Event = field(default_factory=asyncio.Event)
    done: bool = False


class Prefetch:
    """An LLM stream started ahead for one exact request, and the speech of its first clauses.

    Its events are kept from the start, so whoever adopts it replays them and then follows it live.
    """

    def __init__(
        self,
        request: LLMRequest,
        llm: LLMEngine,
        tts: TTSEngine,
        voice: str,
        speed: float,
        stages: dict[str, float] | None = None,
    ) -> None:
        self.request = request
        self._stages = stages if stages is not None else {}
        self._tts, self._voice, self._speed = tts, voice, speed
        self._events: list[LLMEvent | BaseException] = []
        self._grown = asyncio.Event()
        self._finished = False
        self._clauses: dict[str, _Clause] = {}
        self._ready: asyncio.Queue[str | None] = asyncio.Queue()
        self.busy_seconds = 0.0
        self._tasks = [
            asyncio.create_task(self._pump(llm), name="speculative llm"),
            asyncio.create_task(self._synthesize(), name="speculative tts"),
        ]

    async def _pump(self, llm: LLMEngine) -> None:
        chunker, spoken = SentenceChunker(), 0
        started = time.perf_counter()
        try:
            async for event in llm.stream(self.request):
                self._keep(event)
                if isinstance(event, TextDelta):
                    self._stages.setdefault("first_words", time.perf_counter())
                if isinstance(event, TextDelta) and spoken < PREPARED_CLAUSES:
                    for clause in chunker.push(event.text)[: PREPARED_CLAUSES - spoken]:
                        spoken += 1
                        self._ready.put_nowait(clause)
        except Exception as exc:  # handed to the adopter, which fails its response with it
            self._keep(exc)
        finally:
            self._finished = True
            self._grown.set()
            self._ready.put_nowait(None)
            self.busy_seconds += time.perf_counter() - started

    def _keep(self, event: LLMEvent | BaseException) -> None:
        self._events.append(event)
        self._grown.set()

    async def _synthesize(self) -> None:
        """Speak the first clauses as the LLM yields them, the way the response's TTS would."""
        while (clause := await self._ready.get()) is not None:
            text = clause.strip()
            if not text or text in self._clauses:
                continue
            entry = self._clauses[text] = _Clause()
            started = time.perf_counter()
            self._stages.setdefault("speech_started", started)
            try:
                async for samples in self._tts.synthesize(text, voice=self._voice, speed=self._speed):
                    entry.chunks.append(samples)
                    entry.grown.set()
            finally:
                entry.done = True
                entry.grown.set()
                self.busy_seconds += time.perf_counter() - started
                self._stages.setdefault("first_speech", time.perf_counter())

    async def events(self) -> AsyncIterator[LLMEvent]:
        """Every LLM event of the request, from the first: what was kept, then live as it comes."""
        index = 0
        while True:
            while index < len(self._events):
                event = self._events[index]
                index += 1
                if isinstance(event, BaseException):
                    raise event
                yield event
            if self._finished:
                return
            self._grown.clear()
            await self._grown.wait()

    def speech(self, clause: str, voice: str, speed: float) -> AsyncIterator[Samples] | None:
        """The prepared speech of `clause`, if it was prepared with this voice and speed."""
        entry = self._clauses.get(clause)
        if entry is None or (voice, speed) != (self._voice, self._speed):
            return None
        return _replay(entry)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _replay(entry: _Clause) -> AsyncIterator[Samples]:
    index = 0
    while True:
        while index < len(entry.chunks):
            index += 1
            yield entry.chunks[index - 1]
        if entry.done:
            return
        entry.grown.clear()
        await entry.grown.wait()


RequestFor = Callable[[str], Awaitable[LLMRequest]]  # the user's words → the request the response would make


class Speculation:
    """The work for one pause: the transcript of the turn so far, then the prefetched answer to it."""

    def __init__(
        self,
        pause_ms: float,
        transcribe: AsyncIterator[TranscriptEvent],
        *,
        request_for: RequestFor | None,
        llm: LLMEngine,
        tts: TTSEngine,
        voice: str,
        speed: float,
        stats: SpeculationStats,
    ) -> None:
        self.pause_ms = pause_ms
        self.busy_seconds = 0.0
        self._stats = stats
        self.stages: dict[str, float] = {"paused": time.perf_counter()}  # when each stage began or ended
        stats.started += 1
        self._prefetch: Prefetch | None = None
        self._llm, self._tts, self._voice, self._speed = llm, tts, voice, speed
        self.transcript = asyncio.create_task(self._transcribe(transcribe), name="speculative stt")
        self._answer = (
            asyncio.create_task(self._prepare(request_for), name="speculative answer") if request_for else None
        )

    async def _transcribe(self, results: AsyncIterator[TranscriptEvent]) -> list[TranscriptEvent]:
        started = time.perf_counter()
        try:
            return [result async for result in results]
        finally:
            self.stages["transcribed"] = time.perf_counter()
            self.busy_seconds += self.stages["transcribed"] - started

    async def _prepare(self, request_for: RequestFor) -> None:
        final = next((r for r in await self.transcript if isinstance(r, TranscriptFinal)), None)
        if final is not None:
            request = await request_for(final.text)
            self.stages["requested"] = time.perf_counter()
            self._prefetch = Prefetch(request, self._llm, self._tts, self._voice, self._speed, self.stages)

    def use(self) -> None:
        """The turn ended at this pause: its transcript (and answer, if the request matches) will be used."""
        self._stats.used += 1
        self._stats.recent.append(self.stages)  # the same dict: stages still to come show up there too

    async def take(self, request: LLMRequest) -> Prefetch | None:
        """The prefetched answer if it was made for exactly `request` (the response then owns it), else None."""
        if self._answer is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._answer)
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None and prefetch.request != request:
            self._stats.stale += 1  # the conversation or settings moved on since it was made
            await self._waste(prefetch)
            return None
        return prefetch

    async def release(self) -> None:
        """Stop preparing an answer nobody will take (the transcript, already in use, is left alone)."""
        if self._answer is not None:
            self._answer.cancel()
            await asyncio.gather(self._answer, return_exceptions=True)
        prefetch, self._prefetch = self._prefetch, None
        await self._waste(prefetch)

    async def discard(self) -> None:
        """The voice resumed (or the session changed): stop everything; nothing of it was ever seen."""
        self.transcript.cancel()
        await asyncio.gather(self.transcript, return_exceptions=True)
        await self.release()
        self._stats.discarded += 1
        self._stats.wasted_seconds += self.busy_seconds

    async def _waste(self, prefetch: Prefetch | None) -> None:
        if prefetch is not None:
            await prefetch.close()
            self._stats.wasted_seconds += prefetch.busy_seconds

    def tasks(self) -> list[asyncio.Task[None] | asyncio.Task[list[TranscriptEvent]]]:
        return [t for t in (self.transcript, self._answer) if t is not None and not t.done()]


class Speculator:
    """The session's speculation, one at a time: started when the voice stops, dropped when it resumes,
    handed over when the turn ends at its pause. Without stats (`--no-speculate`) it never starts one."""

    def __init__(self, stats: SpeculationStats | None, llm: LLMEngine, tts: TTSEngine) -> None:
        self._stats, self._llm, self._tts = stats, llm, tts
        self._current: Speculation | None = None

    async def start(
        self,
        pause_ms: float,
        transcribe: Callable[[], AsyncIterator[TranscriptEvent]],
        request_for: RequestFor | None,
        voice: str,
        speed: float,
    ) -> None:
        await self.drop()
        if self._stats is not None:
            self._current = Speculation(
                pause_ms,
                transcribe(),
                request_for=request_for,
                llm=self._llm,
                tts=self._tts,
                voice=voice,
                speed=speed,
                stats=self._stats,
            )

    async def ended(self, pause_ms: float | None) -> Speculation | None:
        """The speculation for the pause the turn ended at (now in use), if there is one; any other is dropped."""
        current, self._current = self._current, None
        if current is not None and current.pause_ms == pause_ms:
            current.use()
            return current
        if current is not None:
            await current.discard()
        return None

    async def drop(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            await current.discard()

    def tasks(self) -> list[asyncio.Task[None] | asyncio.Task[list[TranscriptEvent]]]:
        return self._current.tasks() if self._current is not None else []
