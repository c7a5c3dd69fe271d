"""The benchmark's spoken questions: synthesized once by the embedded Kokoro, trimmed so that where each
one's speech ends is known to the sample."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtalk.engines.base import Samples, TTSEngine

RATE = 24_000
QUESTIONS = (
    "What is the capital of France?",
    "How far away is the moon?",
    "Can you tell me a joke?",
    "What time is it in Tokyo?",
    "How do I boil an egg?",
    "What is the weather like today?",
    "Who wrote Romeo and Juliet?",
    "How many legs does a spider have?",
    "What is two plus two?",
    "Recommend a good book, please.",
    "Why is the sky blue?",
    "How do plants make food?",
    "What is the tallest mountain?",
    "Set a timer for five minutes.",
    "What does a cat eat?",
    "How do I say hello in Spanish?",
    "Where is the Eiffel Tower?",
    "What is the speed of light?",
    "Tell me about the ocean.",
    "What should I cook tonight?",
    "How old is the universe?",
    "What is your favourite colour?",
)


@dataclass(frozen=True)
class Utterance:
    text: str
    speech: Samples  # 24 kHz, from the first to the last sample above the noise floor

    @property
    def seconds(self) -> float:
        return len(self.speech) / RATE


def synthesize(count: int, voice: str = "alloy", data_dir: Path | None = None) -> list[Utterance]:
    texts = [QUESTIONS[i % len(QUESTIONS)] for i in range(count)]
    return speak(texts, kokoro(data_dir), voice)


def kokoro(data_dir: Path | None = None) -> TTSEngine:
    from realtalk.engines.embedded.kokoro import KokoroTTS

    return KokoroTTS(data_dir or Path(tempfile.gettempdir()) / "realtalk-bench")


def speak(texts: Sequence[str], tts: TTSEngine, voice: str = "alloy") -> list[Utterance]:
    """Each text said by `tts` (24 kHz), trimmed to its speech."""

    async def one(text: str) -> Utterance:
        audio = np.concatenate([c async for c in tts.synthesize(text, voice=voice, speed=1.0)])
        loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > 300)
        return Utterance(text, audio[loud[0] : loud[-1] + 1])

    async def all_of() -> list[Utterance]:
        return [await one(text) for text in texts]

    return asyncio.run(all_of())
