"""An LLM that plays a script: each response is the next scripted turn (text and/or tool calls).

With no script left it still answers deterministically: it calls the tool a `tool_choice` forces
(with arguments built from the tool's schema), otherwise it echoes what it was last told.

Its tokens are words, so a test can size a conversation against a small `context_window` by counting.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtalk.engines.base import (
    ChatMessage,
    Completion,
    FunctionSpec,
    LLMEvent,
    LLMRequest,
    TextDelta,
    TokenCount,
    ToolCallArgumentsDelta,
    ToolCallStart,
)


@dataclass(frozen=True)
class ScriptedToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ScriptedTurn:
    text: str = ""
    tool_calls: tuple[ScriptedToolCall, ...] = ()


DEFAULT_CONTEXT_WINDOW = 4096


@dataclass
class ScriptedLLM:
    script: list[ScriptedTurn] = field(default_factory=list)
    context_window: int = DEFAULT_CONTEXT_WINDOW

    @classmethod
    def from_file(cls, path: Path) -> ScriptedLLM:
        """A JSON list of turns: `{"text": "..."}` and/or `{"tool_calls": [{"name", "arguments"}]}`."""
        turns = json.loads(path.read_text())
        return cls([_turn(raw) for raw in turns])

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        turn = self._next_turn(request)
        budget = request.max_output_tokens
        produced = 0
        for token in _tokens(turn.text):
            if budget is not None and produced >= budget:
                yield Completion("length", word_tokens(request).total, produced)
                return
            produced += 1
            yield TextDelta(token)
        for call in turn.tool_calls:
            arguments = json.dumps(call.arguments)
            yield ToolCallStart(None, call.name)
            for piece in _pieces(arguments, 8):
                yield ToolCallArgumentsDelta(piece)
            produced += len(_tokens(arguments))
        yield Completion("tool_calls" if turn.tool_calls else "stop", word_tokens(request).total, produced)

    async def count_tokens(self, request: LLMRequest) -> TokenCount:
        return word_tokens(request)

    def _next_turn(self, request: LLMRequest) -> ScriptedTurn:
        choice = request.tool_choice
        if self.script:
            turn = self.script.pop(0)
            return turn if choice.mode != "none" else ScriptedTurn(turn.text)
        if choice.mode in ("required", "function") and request.tools:
            tool = next((t for t in request.tools if t.name == choice.name), request.tools[0])
            return ScriptedTurn(tool_calls=(ScriptedToolCall(tool.name, example_arguments(tool)),))
        return ScriptedTurn(_echo(request.messages))


def _turn(raw: dict[str, Any]) -> ScriptedTurn:
    calls = tuple(ScriptedToolCall(c["name"], c.get("arguments", {})) for c in raw.get("tool_calls", []))
    return ScriptedTurn(raw.get("text", ""), calls)


def _echo(messages: Iterable[ChatMessage]) -> str:
    last = [m for m in messages if m.role in ("user", "tool")]
    if not last:
        return "Hello! How can I help?"
    if last[-1].role == "tool":
        return f"The tool returned: {last[-1].content}"
    return f"You said: {last[-1].content}" if last[-1].content else "I heard you."


def example_arguments(tool: FunctionSpec) -> dict[str, Any]:
    """Arguments valid for simple JSON schemas: each required property gets a value of its type."""
    schema = tool.parameters or {}
    props: dict[str, Any] = schema.get("properties", {})
    return {name: _example(props.get(name, {})) for name in schema.get("required", [])}


def _example(schema: Any) -> Any:
    """A value of the schema's (first non-null) type; a boolean schema (`true`: anything) gets a string."""
    if not isinstance(schema, dict):
        return "example"
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    samples: dict[str, Any] = {
        "string": "example",
        "integer": 1,
        "number": 1.0,
        "boolean": True,
        "array": [],
        "null": None,
    }
    if kind == "object":
        return {
            name: _example(sub)
            for name, sub in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    return samples.get(kind, "example")


def _tokens(text: str) -> list[str]:
    """Whitespace-delimited words, each keeping its leading space: the scripted model's 'tokens'."""
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)] if text else []


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def word_tokens(request: LLMRequest) -> TokenCount:
    """A message costs its words and its tool calls' argument words; nothing else costs anything.

    No overhead, so `total` is exactly the `input_tokens` the scripted model reports.
    """
    return TokenCount(tuple(_words(m) for m in request.messages), 0)


def _words(message: ChatMessage) -> int:
    return len(message.content.split()) + sum(len(c.arguments.split()) for c in message.tool_calls)
