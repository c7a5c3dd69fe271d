"""Test engines that let a test hold a response mid-stream, or make one fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from realtalk.engines.base import (
    Completion,
    LLMEngine,
    LLMEvent,
    LLMRequest,
    Samples,
    TextDelta,
    TokenCount,
    TranscriptEvent,
    TranscriptFinal,
)
from realtalk.engines.scripted.llm import DEFAULT_CONTEXT_WINDOW, word_tokens


class GatedLLM:
    """Streams `text` word by word, then waits at `pause_after` words until the test opens the gate."""

    context_window = DEFAULT_CONTEXT_WINDOW

    def __init__(self, text: str = "One two three four.", pause_after: int = 2) -> None:
        self.words = text.split(" ")
        self.pause_after = pause_after
        self.gate = asyncio.Event()
        self.paused = asyncio.Event()
        self.streams_open = 0
        self.streams_closed = 0

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        self.streams_open += 1
        try:
            for index, word in enumerate(self.words):
                if index == self.pause_after:
                    self.paused.set()
                    await self.gate.wait()
                yield TextDelta(word if index == 0 else " " + word)
            yield Completion("stop", 3, len(self.words))
        finally:
            self.streams_closed += 1

    async def count_tokens(self, request: LLMRequest) -> TokenCount:
        return word_tokens(request)


class RecordingLLM:
    """Wraps any LLM and keeps the requests it is given, so a test can check what the session asked."""

    def __init__(self, llm: LLMEngine) -> None:
        self.llm = llm
        self.context_window = llm.context_window
        self.requests: list[LLMRequest] = []

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        self.requests.append(request)
        return self.llm.stream(request)

    async def count_tokens(self, request: LLMRequest) -> TokenCount:
        return await self.llm.count_tokens(request)


class FailingLLM:
    """Streams one word, then breaks the way a backend does when its connection drops."""

    context_window = DEFAULT_CONTEXT_WINDOW

    async def count_tokens(self, request: LLMRequest) -> TokenCount:
        return word_tokens(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        yield TextDelta("Partial")
        raise ConnectionError("backend went away")


class GatedSTT:
    """Hears `text`, but only once the test opens the gate; or fails, like a broken backend."""

    sample_rate = 16_000

    def __init__(self, text: str = "Slow words.", fail: bool = False) -> None:
        self.text = text
        self.fail = fail
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()  # set once a transcription waits at the gate
        self.heard: list[Samples] = []
        self.languages: list[str | None] = []  # the language each transcription was asked for

    async def transcribe(
        self, audio: Samples, *, language: str | None, prompt: str | None
    ) -> AsyncIterator[TranscriptEvent]:
        self.heard.append(audio)
        self.languages.append(language)
        self.waiting.set()
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("the recognizer crashed")
        yield TranscriptFinal(self.text)


class FixedTurn:
    """An end-of-turn model that always gives the same probability."""

    sample_rate = 16_000

    def __init__(self, probability: float) -> None:
        self.value = probability

    async def probability(self, audio: Samples) -> float:
        return self.value


class GatedTurn:
    """An end-of-turn model that answers "finished" only once the test opens the gate."""

    sample_rate = 16_000

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def probability(self, audio: Samples) -> float:
        self.waiting.set()
        await self.gate.wait()
        return 1.0
