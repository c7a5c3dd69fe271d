"""Beta field values ⇄ core values, for the session and `response.create` alike."""

from __future__ import annotations

from typing import Any

from realtalk.protocol.common import not_one_of
from realtalk.protocol.config import Modality, NamedFunction, ToolChoice
from realtalk.protocol.errors import FieldPath

_MODES = ("auto", "none", "required")
# OpenAI's beta types list the realtime models by name (a closed Literal): the SDK refuses a session that
# names any other. GA types take any name, so only beta shows a model of the client's own as a listed one.
_LISTED_MODELS = (
    "gpt-realtime",
    "gpt-realtime-2025-08-28",
    "gpt-4o-realtime-preview",
    "gpt-4o-realtime-preview-2024-10-01",
    "gpt-4o-realtime-preview-2024-12-17",
    "gpt-4o-realtime-preview-2025-06-03",
    "gpt-4o-mini-realtime-preview",
    "gpt-4o-mini-realtime-preview-2024-12-17",
)
_MIXES: dict[Modality, list[str]] = {"text": ["text"], "audio": ["text", "audio"]}


def modality(value: Any, at: FieldPath) -> Modality:
    """`["text"]` is text; any mix with `"audio"` is speech with its transcript."""
    if value == ["text"]:
        return "text"
    if value in (["audio"], ["text", "audio"], ["audio", "text"]):
        return "audio"
    raise not_one_of(value, _MIXES.values(), path=at)


def model_name(model: str) -> str:
    """The session's model as beta may show it: its own name if listed, else `gpt-realtime`."""
    return model if model in _LISTED_MODELS else _LISTED_MODELS[0]


def modalities(modality: Modality) -> list[str]:
    return list(_MIXES[modality])


def tool_choice(value: Any, at: FieldPath) -> Any:
    """Beta names the one function to call by its bare name."""
    if isinstance(value, str) and value not in _MODES:
        return {"type": "function", "name": value}
    return value


def tool_choice_name(choice: ToolChoice) -> str:
    return choice.name if isinstance(choice, NamedFunction) else choice
