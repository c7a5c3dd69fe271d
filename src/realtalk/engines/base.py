"""Engine interfaces. Each is a stream, so a turn's first audio can leave before its last token exists.

Engines know nothing of sessions or the protocol: they see chat messages, text and int16 samples.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]


# --- language model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatMessage:
    """One turn of an OpenAI-style chat: what every LLM backend can render, local or remote."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolChoiceSpec:
    """`auto`: the model decides; `none`: text only; `required`: some tool; `function`: that one."""

    mode: Literal["auto", "none", "required", "function"]
    name: str | None = None


@dataclass(frozen=True)
class LLMRequest:
    messages: Sequence[ChatMessage]
    tools: Sequence[FunctionSpec] = ()
    tool_choice: ToolChoiceSpec = ToolChoiceSpec("auto")
    temperature: float = 0.8
    max_output_tokens: int | None = None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallStart:
    """A tool call begins; its arguments follow as deltas.

    `call_id` is the backend's own id for the call, or None when the model gave none: ids have a shape
    the protocol dictates, so the caller (the session, the HTTP API) assigns one rather than the engine.
    """

    call_id: str | None
    name: str


@dataclass(frozen=True)
class ToolCallArgumentsDelta:
    delta: str


@dataclass(frozen=True)
class Completion:
    """The last event of every LLM stream: why it stopped and what it cost, in the model's tokens."""

    finish_reason: Literal["stop", "length", "tool_calls"]
    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0  # of input_tokens, those the engine did not process again (a prompt cache hit)


LLMEvent = TextDelta | ToolCallStart | ToolCallArgumentsDelta | Completion


@dataclass(frozen=True)
class TokenCount:
    """What a request's prompt costs, split so that a caller can drop messages without counting again.

    `per_message[i]` is what `messages[i]` takes in the prompt on its own; `overhead` is everything else
    the engine adds (chat-template framing, default or priming messages, tool definitions, the opening of
    the answer). Dropping messages, other than a leading system message and the last one, leaves `overhead`
    as it is (or, in rare cases, makes it smaller), so the prompt of what is kept costs at most
    `overhead + sum(its per_message)`.
    """

    per_message: tuple[int, ...]
    overhead: int

    @property
    def total(self) -> int:
        """The whole prompt, as the engine would report it in `Completion.input_tokens`."""
        return self.overhead + sum(self.per_message)


class LLMEngine(Protocol):
    context_window: int
    """Tokens one request may hold, prompt and answer together: what a request really gets, not the model's
    nominal size (a server that splits its context among parallel slots gives each request one share)."""

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        """Text deltas and tool calls (a start, then argument deltas) in order, then one Completion."""
        ...

    async def count_tokens(self, request: LLMRequest) -> TokenCount:
        """The prompt `request` would make, counted per message; `per_message` is aligned with its messages.

        It takes the whole request, not just the messages, because the overhead depends on the tools and on
        the tool choice (an engine may render tools, or priming examples, only in some modes).
        """
        ...


# --- speech synthesis ---------------------------------------------------------------------------


class TTSEngine(Protocol):
    sample_rate: int

    def synthesize(self, text: str, *, voice: str, speed: float) -> AsyncIterator[Samples]:
        """Audio for one clause or sentence, as int16 mono chunks at `sample_rate`."""
        ...


# --- speech recognition -------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptDelta:
    text: str
    logprobs: Sequence[tuple[str, float]] = field(default_factory=tuple)


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    end: float
    text: str


@dataclass(frozen=True)
class TranscriptFinal:
    """The whole transcript. `language` is the code (ISO-639-1, as Whisper spells it) of the language the
    engine heard, detected or fixed, so a caller that asked for none can say what was spoken; None when the
    engine cannot say."""

    text: str
    logprobs: Sequence[tuple[str, float]] = field(default_factory=tuple)
    segments: Sequence[Segment] = field(default_factory=tuple)  # empty: the engine gives no timings
    language: str | None = None


TranscriptEvent = TranscriptDelta | TranscriptFinal


class UnsupportedLanguage(ValueError):
    """The recognizer does not know the language it was asked for. `reason` says so without the setting's
    name, for a caller that names the setting its own way (a transcription request's `language`); any other
    failure of the recognizer is its own, never the caller's choice of language."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.reason = reason


class STTEngine(Protocol):
    sample_rate: int

    def transcribe(self, audio: Samples, *, language: str | None, prompt: str | None) -> AsyncIterator[TranscriptEvent]:
        """Partial text as it firms up, then exactly one TranscriptFinal."""
        ...


# --- voice activity -----------------------------------------------------------------------------


class VADStream(Protocol):
    async def process(self, frames: Samples) -> list[float]:
        """Speech probability of each whole frame of `frame_samples` samples; the stream keeps its state.

        Async so an engine may run inference off the event loop and batch the frames of many sessions.
        """
        ...


class VADEngine(Protocol):
    sample_rate: int
    frame_samples: int

    def open_stream(self) -> VADStream:
        """A fresh per-session state (the model itself is shared)."""
        ...


# --- end of turn --------------------------------------------------------------------------------


class EndOfTurnEngine(Protocol):
    sample_rate: int

    async def probability(self, audio: Samples) -> float:
        """How likely the speaker has finished, judging the turn's audio so far (int16 mono at `sample_rate`).

        Silence alone cannot tell a finished question from a pause mid-sentence; this judges the speech
        itself. The caller passes the whole turn, pause included; the engine hears as much of it as it
        needs. Async so an engine may run inference off the event loop.
        """
        ...
