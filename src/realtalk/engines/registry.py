"""Builds the session's engines from configuration: a preset, each engine overridable by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realtalk.engines.base import LLMEngine, STTEngine, TTSEngine, VADEngine
from realtalk.engines.scripted.llm import ScriptedLLM
from realtalk.engines.scripted.stt import ScriptedSTT
from realtalk.engines.scripted.tts import ToneTTS
from realtalk.engines.scripted.vad import EnergyVAD


@dataclass
class Engines:
    vad: VADEngine
    stt: STTEngine
    llm: LLMEngine
    tts: TTSEngine


@dataclass(frozen=True)
class EngineChoice:
    """Which implementation each engine uses, plus the options the scripted ones take."""

    vad: str = "scripted"
    stt: str = "scripted"
    llm: str = "scripted"
    tts: str = "scripted"
    script: Path | None = None
    transcript: str = "Hello."


def _silero() -> VADEngine:
    from realtalk.engines.embedded.silero_vad import SileroVAD  # imported on demand: it loads onnxruntime

    return SileroVAD()


def _scripted_llm(choice: EngineChoice) -> LLMEngine:
    return ScriptedLLM.from_file(choice.script) if choice.script else ScriptedLLM()


_BUILDERS: dict[str, dict[str, Callable[[EngineChoice], Any]]] = {
    "vad": {"scripted": lambda c: EnergyVAD(), "silero": lambda c: _silero()},
    "stt": {"scripted": lambda c: ScriptedSTT(c.transcript)},
    "llm": {"scripted": _scripted_llm},
    "tts": {"scripted": lambda c: ToneTTS()},
}

PRESETS = ("scripted",)


def available(kind: str) -> list[str]:
    return sorted(_BUILDERS[kind])


def build_engines(choice: EngineChoice) -> Engines:
    built = {}
    for kind in ("vad", "stt", "llm", "tts"):
        name = getattr(choice, kind)
        builder = _BUILDERS[kind].get(name)
        if builder is None:
            raise ValueError(f"unknown {kind} engine {name!r}; available: {', '.join(available(kind))}")
        built[kind] = builder(choice)
    return Engines(**built)
