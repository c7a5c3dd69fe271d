"""Test engines that let a test hold a response mid-stream, or make one fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from realtalk.engines.base import Completion, LLMEvent, LLMRequest, TextDelta


class GatedLLM:
    """Streams `text` word by word, then waits at `pause_after` words until the test opens the gate."""

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


class FailingLLM:
    """Streams one word, then breaks the way a backend does when its connection drops."""

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        yield TextDelta("Partial")
        raise ConnectionError("backend went away")
