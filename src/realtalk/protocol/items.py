"""Conversation items as the core keeps them: dialect-neutral, audio held as raw bytes.

Assistant content is `output_text` / `output_audio` (beta's wire calls them `text` / `audio`; its codec
renames them). Clients create items through `ItemParam`, which a codec builds from its own wire shape;
the session creates assistant items itself. Codecs render `Item` into each dialect's JSON.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from realtalk.protocol import ids
from realtalk.protocol.config import AudioFormatName, StrictModel
from realtalk.protocol.errors import PARAM, FieldPath, ProtocolError

ItemType = Literal["message", "function_call", "function_call_output"]
ItemStatus = Literal["completed", "incomplete", "in_progress"]
Role = Literal["user", "assistant", "system"]
ContentType = Literal["input_text", "input_audio", "output_text", "output_audio"]

_ROLE_CONTENT: dict[str, set[str]] = {
    "system": {"input_text"},
    "user": {"input_text", "input_audio"},
    "assistant": {"output_text"},
}


@dataclass
class Content:
    type: ContentType
    text: str | None = None
    transcript: str | None = None
    audio: bytes | bytearray | None = None  # a response's audio grows in place while it streams
    audio_format: AudioFormatName | None = None
    id: str | None = None


@dataclass
class Item:
    id: str
    type: ItemType
    status: ItemStatus = "completed"
    role: Role | None = None
    content: list[Content] = field(default_factory=list)
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None

    def text(self) -> str:
        """What a language model reads of this item: its texts and transcripts, joined."""
        parts = [c.text if c.text is not None else c.transcript for c in self.content]
        return " ".join(p for p in parts if p)


class ContentParam(StrictModel):
    """A content part as given; a codec has already decoded inline base64 audio into bytes."""

    type: ContentType
    text: str | None = None
    audio: bytes | None = None
    transcript: str | None = None
    id: str | None = None


class ItemParam(StrictModel):
    """An item as a client may send it (`conversation.item.create`, `response.create.input`), in core names."""

    id: str | None = Field(None, max_length=64)
    type: Literal["message", "function_call", "function_call_output", "item_reference"] = "message"
    object: Literal["realtime.item"] | None = None
    status: ItemStatus | None = None
    role: Role | None = None
    content: list[ContentParam] | None = None
    call_id: str | None = Field(None, max_length=64)
    name: str | None = None
    arguments: str | None = None
    output: str | None = None

    def check(self) -> None:
        """The rules of each item type; raised with a path relative to the item."""
        if self.type == "message":
            _check_message(self)
        elif self.type == "function_call":
            _require(self.call_id is not None, ("call_id",), "A function_call item needs 'call_id'.")
            _require(self.name is not None, ("name",), "A function_call item needs 'name'.")
        elif self.type == "function_call_output":
            _require(self.call_id is not None, ("call_id",), "A function_call_output item needs 'call_id'.")
            _require(self.output is not None, ("output",), "A function_call_output item needs 'output'.")
        else:
            _require(self.id is not None, ("id",), "An item_reference needs the 'id' of an existing item.")

    def to_item(self, input_format: AudioFormatName) -> Item:
        """A fresh `Item`; user audio given inline is tagged with the session's input format."""
        self.check()
        if self.type == "item_reference":
            raise ProtocolError(
                f"Invalid value for {PARAM}: an item_reference may only appear in a response's input.",
                code="invalid_value",
                path=("type",),
            )
        content = [_content(part, input_format) for part in self.content or []]
        return Item(
            id=self.id or ids.item_id(),
            type=self.type,
            status="completed",
            role=self.role,
            content=content,
            call_id=self.call_id,
            name=self.name,
            arguments=self.arguments if self.type != "function_call" else (self.arguments or ""),
            output=self.output,
        )


def _check_message(param: ItemParam) -> None:
    _require(param.role is not None, ("role",), "A message item needs a 'role'.")
    assert param.role is not None
    _require(param.content is not None, ("content",), "A message item needs 'content'.")
    for index, part in enumerate(param.content or []):
        allowed = _ROLE_CONTENT[param.role]
        if part.type not in allowed:
            raise ProtocolError(
                f"Invalid value for {PARAM}: '{part.type}'. A {param.role} message accepts content of type "
                + ", ".join(f"'{t}'" for t in sorted(allowed))
                + ".",
                code="invalid_value",
                path=("content", index, "type"),
            )
        if part.type in ("input_text", "output_text"):
            _require(part.text is not None, ("content", index, "text"), f"Content of type '{part.type}' needs 'text'.")
        if part.type == "input_audio":
            _require(
                part.audio is not None or part.transcript is not None,
                ("content", index, "audio"),
                "Content of type 'input_audio' needs 'audio' (base64) or a 'transcript'.",
            )


def _require(ok: bool, path: FieldPath, message: str) -> None:
    if not ok:
        raise ProtocolError(message, code="missing_required_parameter", path=path)


def _content(part: ContentParam, input_format: AudioFormatName) -> Content:
    return Content(
        type=part.type,
        text=part.text,
        transcript=part.transcript,
        audio=part.audio,
        audio_format=input_format if part.audio is not None else None,
        id=part.id,
    )


def decode_base64(data: str, param: str) -> bytes:
    """Base64 from the wire; `param` names where it came from (in the codec's own names)."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(
            f"Invalid value for '{param}': not valid base64.", code="invalid_value", param=param
        ) from None
