"""An STT that hears what it is told to: a set transcript, streamed word by word."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from realtalk.engines.base import Samples, TranscriptDelta, TranscriptEvent, TranscriptFinal


@dataclass
class ScriptedSTT:
    transcript: str = "Hello."
    sample_rate: int = 16_000

    async def transcribe(
        self, audio: Samples, *, language: str | None, prompt: str | None
    ) -> AsyncIterator[TranscriptEvent]:
        words = self.transcript.split(" ")
        for index, word in enumerate(words):
            token = word if index == 0 else " " + word
            yield TranscriptDelta(token, ((token, 0.0),))
        yield TranscriptFinal(self.transcript, tuple((w if i == 0 else " " + w, 0.0) for i, w in enumerate(words)))
