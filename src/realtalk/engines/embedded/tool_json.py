"""Tool calling for models that cannot do it natively: a JSON schema, and a parser for its streamed output.

The model is constrained (grammar-based decoding) to emit one JSON object:
`{"name": "<tool>", "arguments": {...}}` to call a tool, or `{"message": "..."}` to answer in words. The
parser turns that text, as it streams, into the same events a native tool-calling model would give:
the message's text as it is decoded, or a tool call's name and then its arguments, piece by piece.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from realtalk.engines.base import FunctionSpec, TextDelta, ToolCallArgumentsDelta, ToolCallStart, ToolChoiceSpec

ToolEvent = TextDelta | ToolCallStart | ToolCallArgumentsDelta
MAX_MESSAGE_CHARS = 2000


def reply_schema(tools: Sequence[FunctionSpec], choice: ToolChoiceSpec) -> dict[str, Any] | None:
    """The schema the output must match, or None when the model may answer in free text."""
    if not tools or choice.mode == "none":
        return None
    branches: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"name": {"const": tool.name}, "arguments": _arguments_schema(tool)},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for tool in offered_tools(tools, choice)
    ]
    if choice.mode == "auto":
        branches.append(
            {
                "type": "object",
                "properties": {"message": {"type": "string", "maxLength": MAX_MESSAGE_CHARS}},
                "required": ["message"],
                "additionalProperties": False,
            }
        )
    return branches[0] if len(branches) == 1 else {"oneOf": branches}


def offered_tools(tools: Sequence[FunctionSpec], choice: ToolChoiceSpec) -> list[FunctionSpec]:
    """The tools the model may call: none, the one `choice` names, or all of them."""
    if choice.mode == "none":
        return []
    return [t for t in tools if choice.mode != "function" or t.name == choice.name]


def _arguments_schema(tool: FunctionSpec) -> dict[str, Any]:
    schema = dict(_objects_only(tool.parameters or {}))
    schema.setdefault("type", "object")
    if schema["type"] == "object":
        schema.setdefault("properties", {})
    return schema


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "not", "if", "then", "else", "contains", "propertyNames")


def _objects_only(schema: Any) -> Any:
    """The schema with each boolean subschema spelled as an object (`true` → `{}`, `false` → `{"not": {}}`).

    JSON Schema allows `true`/`false` wherever a schema goes, but llama.cpp's grammar builder wants
    objects (`additionalProperties: false` it knows, and is left alone).
    """
    if isinstance(schema, bool):
        return {} if schema else {"not": {}}
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _objects_only(sub) for name, sub in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_objects_only(sub) for sub in out[key]]
    for key in _SCHEMA_VALUES:
        if key in out:
            out[key] = _objects_only(out[key])
    return out


def tool_instructions(tools: Sequence[FunctionSpec], choice: ToolChoiceSpec) -> str:
    """Told to the model in its system message, so it knows what the schema's branches mean."""
    lines = ["You can call these tools:"]
    for tool in tools:
        params = ", ".join(
            f"{name}: {_type_name(spec)}" for name, spec in (tool.parameters or {}).get("properties", {}).items()
        )
        lines.append(f"- {tool.name}({params}): {tool.description}".rstrip(": "))
    lines.append('To call a tool reply {"name": "<tool>", "arguments": {...}}.')
    if choice.mode == "auto":
        lines.append('To answer in words reply {"message": "<your answer>"}.')
    return "\n".join(lines)


def _type_name(schema: Any) -> str:
    """`string`, `string|null` for a list of types, `any` for a boolean schema or one without a type."""
    kind = schema.get("type", "any") if isinstance(schema, dict) else "any"
    return "|".join(kind) if isinstance(kind, list) else str(kind)


class ToolReplyParser:
    """Incremental: feed text as the model streams it; get events as soon as they are certain."""

    def __init__(self) -> None:
        self._text = ""
        self._pos = 0
        self._mode: str | None = None  # "message" | "call"
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._pending_escape = ""
        self._done = False

    @property
    def called(self) -> bool:
        return self._mode == "call"

    def feed(self, piece: str) -> list[ToolEvent]:
        self._text += piece
        events: list[ToolEvent] = []
        if self._mode is None:
            self._decide(events)
        if self._mode == "message":
            text = self._message_text()
            if text:
                events.append(TextDelta(text))
        elif self._mode == "call":
            arguments = self._arguments_text()
            if arguments:
                events.append(ToolCallArgumentsDelta(arguments))
        return events

    def _decide(self, events: list[ToolEvent]) -> None:
        stripped = self._text.lstrip()
        if stripped.startswith("{") and '"message"' in stripped:
            start = self._text.find('"message"')
            colon = self._text.find(":", start)
            quote = self._text.find('"', colon + 1) if colon >= 0 else -1
            if quote >= 0:
                self._mode, self._pos = "message", quote + 1
        elif '"arguments"' in stripped:
            head = self._text[: self._text.find('"arguments"')]
            name = _string_value(head, "name")
            brace = self._text.find("{", self._text.find('"arguments"'))
            if name is not None and brace >= 0:
                self._mode, self._pos = "call", brace
                events.append(ToolCallStart(None, name))

    def _message_text(self) -> str:
        """Decode the JSON string from `_pos`, stopping before any incomplete escape."""
        out: list[str] = []
        i = self._pos
        while i < len(self._text) and not self._done:
            char = self._text[i]
            if char == "\\":
                escape = _escape_at(self._text, i)
                if escape is None:
                    break
                decoded, length = escape
                out.append(decoded)
                i += length
                continue
            if char == '"':
                self._done = True
                i += 1
                break
            out.append(char)
            i += 1
        self._pos = i
        return "".join(out)

    def _arguments_text(self) -> str:
        """Raw JSON of the arguments object from `_pos`, up to and including its closing brace."""
        start = i = self._pos
        while i < len(self._text) and not self._done:
            char = self._text[i]
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif char == "\\":
                    self._escaped = True
                elif char == '"':
                    self._in_string = False
            elif char == '"':
                self._in_string = True
            elif char == "{":
                self._depth += 1
            elif char == "}":
                self._depth -= 1
                if self._depth == 0:
                    self._done = True
            i += 1
        self._pos = i
        return self._text[start:i]


def _string_value(text: str, key: str) -> str | None:
    marker = text.find(f'"{key}"')
    if marker < 0:
        return None
    colon = text.find(":", marker)
    rest = text[colon + 1 :].lstrip() if colon >= 0 else ""
    if not rest.startswith('"'):
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _escape_at(text: str, i: int) -> tuple[str, int] | None:
    if i + 1 >= len(text):
        return None
    kind = text[i + 1]
    if kind == "u":
        if i + 6 > len(text):
            return None
        return chr(int(text[i + 2 : i + 6], 16)), 6
    simple = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
    return simple.get(kind, kind), 2
