"""GA field values ⇄ core values, for the session and `response.create` alike.

Where GA offers what realtalk cannot honour (MCP, custom voices, transcription tuning, noise-reduction
strength), the value is refused by name with the reason; it is never dropped.
"""

from __future__ import annotations

from typing import Any

from realtalk.protocol.common import not_one_of, refused
from realtalk.protocol.config import AudioFormatName, Modality
from realtalk.protocol.errors import FieldPath

WHY = {
    "mcp": "MCP tools are not supported: realtalk calls only the functions a client declares",
    "prompt": "stored prompts live on OpenAI's platform; send the instructions themselves",
    "reasoning": "realtalk's models do not reason in a separate budget",
    "voice_id": "custom voices are not supported; use one of the ten named voices",
    "image": "image input is not supported: realtalk's models do not see",
    "output_audio": "assistant audio cannot be created by a client",
    "strength": "noise reduction has no adjustable strength in realtalk; give only its type",
    "transcription_extras": "only model, language and prompt are supported for transcription",
}
_FORMATS: dict[str, AudioFormatName] = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}
_FORMAT_OBJECTS: dict[AudioFormatName, dict[str, Any]] = {
    "pcm16": {"type": "audio/pcm", "rate": 24000},
    "g711_ulaw": {"type": "audio/pcmu"},
    "g711_alaw": {"type": "audio/pcma"},
}
_TRANSCRIPTION_EXTRAS = ("delay", "keywords", "languages")


def format_name(value: Any, at: FieldPath) -> Any:
    """`{type: "audio/pcm", rate: 24000}` → `pcm16`; the beta names the GA guide also shows pass as they are."""
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    name = _FORMATS.get(kind) if isinstance(kind, str) else None
    if name is None or set(value) - {"type", "rate"} or (name == "pcm16" and value.get("rate", 24000) != 24000):
        raise not_one_of(value, _FORMAT_OBJECTS.values(), path=at)
    return name


def format_object(name: AudioFormatName) -> dict[str, Any]:
    return _FORMAT_OBJECTS[name]


def modality(value: Any, at: FieldPath) -> Modality:
    """`["audio"]` is speech with its transcript; GA allows no other mix."""
    if value == ["audio"]:
        return "audio"
    if value == ["text"]:
        return "text"
    raise not_one_of(value, (["audio"], ["text"]), path=at)


def voice(value: Any, at: FieldPath) -> Any:
    if isinstance(value, dict):
        raise refused(WHY["voice_id"], path=at)
    return value


def tools(value: Any, at: FieldPath) -> Any:
    for index, tool in enumerate(value if isinstance(value, list) else ()):
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            raise refused(WHY["mcp"], path=(*at, index, "type"))
    return value


def tool_choice(value: Any, at: FieldPath) -> Any:
    if isinstance(value, dict) and value.get("type") == "mcp":
        raise refused(WHY["mcp"], path=at)
    return value


def noise_reduction(value: Any, at: FieldPath) -> Any:
    if not isinstance(value, dict):
        return value
    if value.get("strength") is not None:
        raise refused(WHY["strength"], path=(*at, "strength"))
    return {key: setting for key, setting in value.items() if key != "strength"}


def transcription(value: Any, at: FieldPath) -> Any:
    if not isinstance(value, dict):
        return value
    for extra in _TRANSCRIPTION_EXTRAS:
        if value.get(extra) is not None:
            raise refused(WHY["transcription_extras"], path=(*at, extra))
    return {key: setting for key, setting in value.items() if key not in _TRANSCRIPTION_EXTRAS}
