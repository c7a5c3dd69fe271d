"""The server's internal event vocabulary: what happened, with no dialect's names or shapes.

The session emits these; each dialect's codec (`protocol.ga`, `protocol.beta`) renders them. One class
per distinct fact, so that a dialect that names a fact differently changes one line of its codec.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from realtalk.protocol.config import AudioFormatName, Modality, SessionConfig
from realtalk.protocol.errors import FieldPath, ProtocolError
from realtalk.protocol.items import Item

ResponseStatus = Literal["in_progress", "completed", "cancelled", "failed", "incomplete"]
StreamKind = Literal["text", "audio", "transcript"]


@dataclass
class Usage:
    input_text_tokens: int = 0
    input_audio_tokens: int = 0
    output_text_tokens: int = 0
    output_audio_tokens: int = 0

    @property
    def input_tokens(self) -> int:
        return self.input_text_tokens + self.input_audio_tokens

    @property
    def output_tokens(self) -> int:
        return self.output_text_tokens + self.output_audio_tokens


@dataclass
class StatusDetails:
    type: Literal["completed", "cancelled", "incomplete", "failed"]
    reason: Literal["turn_detected", "client_cancelled", "max_output_tokens", "content_filter"] | None = None
    error: dict[str, Any] | None = None


@dataclass
class Response:
    id: str
    conversation_id: str | None
    modality: Modality
    voice: str
    output_format: AudioFormatName
    temperature: float
    max_output_tokens: int | Literal["inf"]
    metadata: dict[str, str] | None = None
    status: ResponseStatus = "in_progress"
    status_details: StatusDetails | None = None
    output: list[Item] = field(default_factory=list)
    usage: Usage | None = None


@dataclass
class RateLimit:
    name: Literal["requests", "tokens"]
    limit: int
    remaining: int
    reset_seconds: float


@dataclass
class SessionInfo:
    id: str
    expires_at: int
    config: SessionConfig


# --- events -------------------------------------------------------------------------------------


@dataclass
class Error:
    """A refused client event or a failure; a codec names `path` (core names) in its dialect as `param`."""

    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    event_id: str | None = None
    path: FieldPath | None = None

    @classmethod
    def of(cls, exc: ProtocolError, event_id: str | None) -> Error:
        return cls(exc.message, exc.type, exc.code, exc.param, event_id, exc.path)

    def problem(self) -> ProtocolError:
        return ProtocolError(self.message, code=self.code or "", param=self.param, path=self.path, type=self.type)


@dataclass
class SessionCreated:
    session: SessionInfo


@dataclass
class SessionUpdated:
    session: SessionInfo


@dataclass
class ConversationCreated:
    conversation_id: str


@dataclass
class ItemCreated:
    item: Item
    previous_item_id: str | None


@dataclass
class ItemDone:
    """An item the model produced is final (GA `conversation.item.done`; beta has no such event)."""

    item: Item
    previous_item_id: str | None


@dataclass
class ItemRetrieved:
    item: Item


@dataclass
class OutputAudioBuffer:
    """Where a server-played answer stands (WebRTC, phone): it `started` playing, `stopped` (all of it
    was heard) or was `cleared` (cut off by the caller's speech or by `output_audio_buffer.clear`)."""

    response_id: str
    state: Literal["started", "stopped", "cleared"]


@dataclass
class DtmfReceived:
    """A telephone keypad press on a phone call (0 to 9, *, #, A to D), when the server received it (Unix seconds)."""

    digit: str
    received_at: int


@dataclass
class ItemTruncated:
    item_id: str
    content_index: int
    audio_end_ms: int


@dataclass
class ItemDeleted:
    item_id: str


@dataclass
class InputAudioCommitted:
    item_id: str
    previous_item_id: str | None


@dataclass
class InputAudioCleared:
    pass


@dataclass
class SpeechStarted:
    audio_start_ms: int
    item_id: str


@dataclass
class SpeechStopped:
    audio_end_ms: int
    item_id: str


@dataclass
class IdleTimeout:
    """No speech for `idle_timeout_ms` after the last response: the session prompts a response itself."""

    audio_start_ms: int
    audio_end_ms: int
    item_id: str


Logprobs = list[tuple[str, float]]


@dataclass
class TranscriptionDelta:
    item_id: str
    content_index: int
    delta: str
    logprobs: Logprobs | None = None


@dataclass
class TranscriptionCompleted:
    item_id: str
    content_index: int
    transcript: str
    audio_seconds: float
    logprobs: Logprobs | None = None


@dataclass
class TranscriptionFailed:
    item_id: str
    content_index: int
    message: str
    code: str = "transcription_failed"


@dataclass
class RateLimitsUpdated:
    rate_limits: list[RateLimit]


@dataclass
class ResponseCreated:
    response: Response


@dataclass
class ResponseDone:
    response: Response


@dataclass
class OutputItemAdded:
    response_id: str
    output_index: int
    item: Item


@dataclass
class OutputItemDone:
    response_id: str
    output_index: int
    item: Item


@dataclass
class ContentPartAdded:
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    part_type: Literal["text", "audio"]


@dataclass
class ContentPartDone:
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    part_type: Literal["text", "audio"]
    text: str


@dataclass
class ContentDelta:
    """A piece of streamed output: text, transcript text, or encoded audio bytes."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    kind: StreamKind
    delta: str | bytes


@dataclass
class ContentDone:
    """End of one stream of a content part; `text` is the full text or transcript (empty for audio)."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    kind: StreamKind
    text: str = ""


@dataclass
class FunctionArgumentsDelta:
    response_id: str
    item_id: str
    output_index: int
    call_id: str
    delta: str


@dataclass
class FunctionArgumentsDone:
    response_id: str
    item_id: str
    output_index: int
    call_id: str
    name: str
    arguments: str


ServerEvent = (
    Error
    | SessionCreated
    | SessionUpdated
    | ConversationCreated
    | ItemCreated
    | ItemDone
    | ItemRetrieved
    | ItemTruncated
    | ItemDeleted
    | OutputAudioBuffer
    | DtmfReceived
    | InputAudioCommitted
    | InputAudioCleared
    | SpeechStarted
    | SpeechStopped
    | IdleTimeout
    | TranscriptionDelta
    | TranscriptionCompleted
    | TranscriptionFailed
    | RateLimitsUpdated
    | ResponseCreated
    | ResponseDone
    | OutputItemAdded
    | OutputItemDone
    | ContentPartAdded
    | ContentPartDone
    | ContentDelta
    | ContentDone
    | FunctionArgumentsDelta
    | FunctionArgumentsDone
)

Emit = Callable[[ServerEvent], Awaitable[None]]  # an outbox: where a session's server events go
