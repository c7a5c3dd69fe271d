"""The client events the session understands, in the core's vocabulary, as a dialect's decoder makes them.

A codec checks each event's wire shape and renames its fields; value rules live in the core's models
(`ResponseOverrides` here, `SessionConfig`, `ItemParam`), whose errors name fields by their core path.
Values that depend on session state (a session patch, item references) are checked by the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator

from realtalk.protocol.config import (
    AudioFormatName,
    FunctionTool,
    MaxTokens,
    Modality,
    SessionPatch,
    StrictModel,
    ToolChoice,
    Voice,
)
from realtalk.protocol.items import ItemParam


class ResponseOverrides(StrictModel):
    """`response.create`'s `response`: per-response overrides of the session configuration."""

    modality: Modality | None = None
    instructions: str | None = Field(None, max_length=256_000)
    voice: Voice | None = None
    output_format: AudioFormatName | None = None
    tools: list[FunctionTool] | None = Field(None, max_length=128)
    tool_choice: ToolChoice | None = None
    temperature: float | None = Field(None, ge=0.6, le=1.2)
    max_output_tokens: MaxTokens | None = None
    conversation: Literal["auto", "none"] = "auto"
    metadata: dict[str, str] | None = None
    input: list[ItemParam] | None = None
    parallel_tool_calls: bool | None = None

    @field_validator("metadata")
    @classmethod
    def _check_metadata(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if len(value) > 16:
            raise ValueError("metadata holds at most 16 pairs")
        for key, text in value.items():
            if len(key) > 64 or len(text) > 512:
                raise ValueError("metadata keys are at most 64 characters and values at most 512")
        return value


@dataclass
class UpdateSession:
    event_id: str | None
    patch: SessionPatch


@dataclass
class AppendInputAudio:
    event_id: str | None
    audio: bytes


@dataclass
class CommitInputAudio:
    event_id: str | None


@dataclass
class ClearInputAudio:
    event_id: str | None


@dataclass
class ClearOutputAudio:
    event_id: str | None


@dataclass
class CreateItem:
    event_id: str | None
    item: ItemParam
    previous_item_id: str | None


@dataclass
class RetrieveItem:
    event_id: str | None
    item_id: str


@dataclass
class TruncateItem:
    event_id: str | None
    item_id: str
    content_index: int
    audio_end_ms: int


@dataclass
class DeleteItem:
    event_id: str | None
    item_id: str


@dataclass
class CreateResponse:
    event_id: str | None
    overrides: ResponseOverrides


@dataclass
class CancelResponse:
    event_id: str | None
    response_id: str | None


ClientEvent = (
    UpdateSession
    | AppendInputAudio
    | CommitInputAudio
    | ClearInputAudio
    | ClearOutputAudio
    | CreateItem
    | RetrieveItem
    | TruncateItem
    | DeleteItem
    | CreateResponse
    | CancelResponse
)
