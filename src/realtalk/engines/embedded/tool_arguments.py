"""A tool's arguments held to what the user said, for a model too small to copy them right.

Left to fill a free string, SmolLM2-135M writes its own words ("Q: Play a song" for the song the user named),
and a free number is as likely any number as the one asked for. So, where the user's message is short enough,
each top-level parameter of the routed tool is narrowed in the grammar: a plain string (no enum, pattern or
format) to a run of up to `MAX_SPAN_WORDS` consecutive words of the message; an enum to the values the
message says, when it says any; a number to the numbers the message says, in digits or words, that the
parameter allows, when it says any. Anything else, and anything the message gives no value for, is left as
declared: the model writes it as before.
"""

from __future__ import annotations

import re
from typing import Any

from realtalk.engines.base import FunctionSpec
from realtalk.text.number_words import is_number, numbers_as_digits

MAX_SPAN_WORDS = 8
MAX_MESSAGE_WORDS = 40  # a longer message leaves strings free: its spans would bloat the grammar
_WORD = re.compile(r"[A-Za-z0-9]+(?:['.,-][A-Za-z0-9]+)*")
_FREE_STRING_KEYS = ("enum", "const", "pattern", "format")


def grounded(tool: FunctionSpec, said: str) -> FunctionSpec:
    """`tool` with its parameters narrowed to the values `said` offers (see the module's docstring)."""
    parameters = tool.parameters or {}
    properties = parameters.get("properties")
    words = _WORD.findall(said)
    if not isinstance(properties, dict) or not 0 < len(words) <= MAX_MESSAGE_WORDS:
        return tool
    narrowed = {name: _narrowed(spec, words) for name, spec in properties.items()}
    return FunctionSpec(tool.name, tool.description, {**parameters, "properties": narrowed})


def _narrowed(spec: Any, words: list[str]) -> Any:
    if not isinstance(spec, dict):
        return spec
    kind = spec.get("type")
    if kind == "string" and not any(key in spec for key in _FREE_STRING_KEYS):
        return {**spec, "enum": spans(words)}
    if isinstance(spec.get("enum"), list):
        said = {word.lower() for word in words}
        named = [value for value in spec["enum"] if isinstance(value, str) and value.lower() in said]
        return {**spec, "enum": named} if named else spec
    if kind in ("integer", "number") and "const" not in spec:
        allowed = [n for n in numbers(words) if _allows(spec, n) and (kind == "number" or n == int(n))]
        return {**spec, "enum": [int(n) if n == int(n) else n for n in allowed]} if allowed else spec
    return spec


def spans(words: list[str]) -> list[str]:
    """Every run of up to `MAX_SPAN_WORDS` consecutive words, each once, shortest first."""
    found = dict.fromkeys(
        " ".join(words[start : start + size])
        for size in range(1, MAX_SPAN_WORDS + 1)
        for start in range(len(words) - size + 1)
    )
    return list(found)


def numbers(words: list[str]) -> list[float]:
    """The numbers among the words, said in digits or in words, each once, in order."""
    found: dict[float, None] = {}
    pieces = [piece for word in words for piece in word.lower().replace(",", "").split("-")]
    for word in numbers_as_digits(pieces):
        if is_number(word):
            found[float(word)] = None
    return list(found)


def _allows(spec: dict[str, Any], value: float) -> bool:
    low, high = spec.get("minimum"), spec.get("maximum")
    return (not isinstance(low, int | float) or value >= low) and (not isinstance(high, int | float) or value <= high)
