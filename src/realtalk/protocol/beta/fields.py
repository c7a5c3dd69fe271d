"""Beta field values ⇄ core values, for the session and `response.create` alike."""

from __future__ import annotations

from typing import Any

from realtalk.protocol.common import not_one_of
from realtalk.protocol.config import Modality, NamedFunction, ToolChoice
from realtalk.protocol.errors import FieldPath

_MODES = ("auto", "none", "required")
_MIXES: dict[Modality, list[str]] = {"text": ["text"], "audio": ["text", "audio"]}


def modality(value: Any, at: FieldPath) -> Modality:
    """`["text"]` is text; any mix with `"audio"` is speech with its transcript."""
    if value == ["text"]:
        return "text"
    if value in (["audio"], ["text", "audio"], ["audio", "text"]):
        return "audio"
    raise not_one_of(value, _MIXES.values(), path=at)


def modalities(modality: Modality) -> list[str]:
    return list(_MIXES[modality])


def tool_choice(value: Any, at: FieldPath) -> Any:
    """Beta names the one function to call by its bare name."""
    if isinstance(value, str) and value not in _MODES:
        return {"type": "function", "name": value}
    return value


def tool_choice_name(choice: ToolChoice) -> str:
    return choice.name if isinstance(choice, NamedFunction) else choice
