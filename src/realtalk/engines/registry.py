"""Builds the session's engines from configuration: a preset, each engine overridable by name.

Embedded engines are imported only when chosen, so a scripted server never loads onnxruntime or a model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from realtalk.engines.base import (
    ChatMessage,
    EndOfTurnEngine,
    LLMEngine,
    LLMRequest,
    STTEngine,
    TTSEngine,
    VADEngine,
)
from realtalk.engines.embedded.packages import default_data_dir
from realtalk.engines.remote.http import RemoteEndpoint
from realtalk.engines.scripted.llm import ScriptedLLM
from realtalk.engines.scripted.stt import ScriptedSTT
from realtalk.engines.scripted.tts import ToneTTS
from realtalk.engines.scripted.turn import PitchTurn
from realtalk.engines.scripted.vad import EnergyVAD

KINDS = ("vad", "stt", "llm", "tts", "turn")


@dataclass
class Engines:
    vad: VADEngine
    stt: STTEngine
    llm: LLMEngine
    tts: TTSEngine
    turn: EndOfTurnEngine


@dataclass(frozen=True)
class EngineChoice:
    """Which implementation each engine uses, plus the options engines take."""

    vad: str = "scripted"
    stt: str = "scripted"
    llm: str = "scripted"
    tts: str = "scripted"
    turn: str = "scripted"
    script: Path | None = None
    transcript: str = "Hello."
    data_dir: Path = field(default_factory=default_data_dir)
    threads: int = 2
    seed: int | None = None
    # the user's own model files and their options; None: the packaged model
    llm_gguf: Path | None = None
    llm_chat_template: str | None = None
    llm_context_tokens: int | None = None
    llm_gpu_layers: int | None = None
    llm_computed_answers: bool = True
    whisper_model: str | None = None
    whisper_language: str = "auto"
    whisper_beam_size: int = 1
    kokoro_model: Path | None = None
    kokoro_voices: Path | None = None
    piper_voice: Path | None = None
    voices: dict[str, str] = field(default_factory=dict)  # OpenAI voice → the TTS's own voice
    remote: dict[str, RemoteEndpoint] = field(default_factory=dict)


PRESETS: dict[str, dict[str, str]] = {
    "embedded": {"vad": "silero", "stt": "whisper-tiny.en", "llm": "smollm2", "tts": "kokoro", "turn": "smart-turn-v3"},
    "scripted": {"vad": "scripted", "stt": "scripted", "llm": "scripted", "tts": "scripted", "turn": "scripted"},
}


def _silero(choice: EngineChoice) -> VADEngine:
    from realtalk.engines.embedded.silero_vad import SileroVAD

    return SileroVAD()


def _whisper(model: str) -> Callable[[EngineChoice], STTEngine]:
    def build(choice: EngineChoice) -> STTEngine:
        from realtalk.engines.embedded import whisper

        path = whisper.model_dir(choice.whisper_model or model, choice.data_dir)
        return whisper.WhisperSTT(
            path, threads=choice.threads, language=choice.whisper_language, beam_size=choice.whisper_beam_size
        )

    return build


def _smollm2(choice: EngineChoice) -> LLMEngine:
    from realtalk.engines.embedded.smollm import SmolLM

    return SmolLM(
        choice.llm_gguf,
        threads=choice.threads,
        seed=choice.seed,
        chat_template=choice.llm_chat_template,
        context_tokens=choice.llm_context_tokens,
        gpu_layers=choice.llm_gpu_layers,
        computed_answers=choice.llm_computed_answers,
    )


def _kokoro(choice: EngineChoice) -> TTSEngine:
    from realtalk.engines.embedded.kokoro import KokoroTTS

    return KokoroTTS(
        choice.data_dir,
        threads=choice.threads,
        model=choice.kokoro_model,
        voices_file=choice.kokoro_voices,
        voices=choice.voices,
    )


def _piper(choice: EngineChoice) -> TTSEngine:
    from realtalk.engines.embedded.piper import PiperTTS

    return PiperTTS(choice.piper_voice, threads=choice.threads, voices=choice.voices)


def _smart_turn(choice: EngineChoice) -> EndOfTurnEngine:
    from realtalk.engines.embedded.smart_turn import SmartTurn

    return SmartTurn(threads=choice.threads)


def _endpoint(choice: EngineChoice, kind: str) -> RemoteEndpoint:
    endpoint = choice.remote.get(kind)
    if endpoint is None:
        raise ValueError(f"--{kind} remote needs --{kind}-url (the base URL of an OpenAI-compatible server)")
    return endpoint


def _remote_llm(choice: EngineChoice) -> LLMEngine:
    from realtalk.engines.remote.llm import RemoteLLM

    return RemoteLLM(_endpoint(choice, "llm"))


def _remote_stt(choice: EngineChoice) -> STTEngine:
    from realtalk.engines.remote.stt import RemoteSTT

    return RemoteSTT(_endpoint(choice, "stt"))


def _remote_tts(choice: EngineChoice) -> TTSEngine:
    from realtalk.engines.remote.tts import RemoteTTS

    return RemoteTTS(_endpoint(choice, "tts"))


def _scripted_llm(choice: EngineChoice) -> LLMEngine:
    return ScriptedLLM.from_file(choice.script) if choice.script else ScriptedLLM()


_BUILDERS: dict[str, dict[str, Callable[[EngineChoice], Any]]] = {
    "vad": {"scripted": lambda c: EnergyVAD(), "silero": _silero},
    "stt": {
        "scripted": lambda c: ScriptedSTT(c.transcript),
        "whisper-tiny.en": _whisper("tiny.en"),
        "whisper-base": _whisper("base"),
        "remote": _remote_stt,
    },
    "llm": {"scripted": _scripted_llm, "smollm2": _smollm2, "remote": _remote_llm},
    "tts": {"scripted": lambda c: ToneTTS(), "kokoro": _kokoro, "piper": _piper, "remote": _remote_tts},
    "turn": {"scripted": lambda c: PitchTurn(), "smart-turn-v3": _smart_turn},
}


def available(kind: str) -> list[str]:
    return sorted(_BUILDERS[kind])


Loading = Callable[[str, str], Callable[[float], None]]  # (kind, name) → called with seconds when loaded


def build_engines(choice: EngineChoice, loading: Loading | None = None) -> Engines:
    """Build each engine; `loading` hears when each starts and how long it took (for a progress display)."""
    built = {}
    for kind in KINDS:
        name = getattr(choice, kind)
        builder = _BUILDERS[kind].get(name)
        if builder is None:
            raise ValueError(f"unknown {kind} engine {name!r}; available: {', '.join(available(kind))}")
        done = loading(kind, name) if loading else None
        started = time.perf_counter()
        built[kind] = builder(choice)
        if done:
            done(time.perf_counter() - started)
    return Engines(**built)


async def warm_up(engines: Engines) -> None:
    """Run each engine once, so the first real turn does not pay for lazy initialisation.

    A scripted LLM is left alone: warming it up would answer with the script's first turn, and the first
    `response.create` would get the second.
    """
    await engines.vad.open_stream().process(np.zeros(engines.vad.frame_samples, dtype=np.int16))
    async for _ in engines.stt.transcribe(
        np.zeros(engines.stt.sample_rate // 2, dtype=np.int16), language=None, prompt=None
    ):
        pass
    if not isinstance(engines.llm, ScriptedLLM):  # a script has nothing to warm, and each request spends a turn
        async for _ in engines.llm.stream(LLMRequest([ChatMessage("user", "Hi")], max_output_tokens=2)):
            pass
    async for _ in engines.tts.synthesize("Hello.", voice="alloy", speed=1.0):
        pass
    await engines.turn.probability(np.zeros(engines.turn.sample_rate // 2, dtype=np.int16))


def warm_up_blocking(engines: Engines) -> None:
    asyncio.run(warm_up(engines))
