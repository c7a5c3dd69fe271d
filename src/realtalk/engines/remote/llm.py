"""An LLM behind `/v1/chat/completions` (streamed): text deltas, tool-call deltas, usage.

The backend's tokenizer is out of reach (OpenAI-compatible servers have no standard endpoint for it), so
prompts are estimated: about four characters a token for ASCII text, and a token for every other
character, which over-counts most languages a little rather than under-counting any by much.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

from realtalk.engines.base import (
    ChatMessage,
    Completion,
    LLMEvent,
    LLMRequest,
    TextDelta,
    TokenCount,
    ToolCallArgumentsDelta,
    ToolCallStart,
    ToolChoiceSpec,
)
from realtalk.engines.remote.http import RemoteClient, RemoteEndpoint, RemoteEngineError

ASCII_CHARS_PER_TOKEN = 4
MESSAGE_FRAMING = 4  # role and delimiters around each message in the common chat templates
CALL_FRAMING = 3  # a tool call's id and wrapping
ANSWER_OPENING = 3  # the assistant header the template adds for the reply


class RemoteLLM:
    def __init__(self, endpoint: RemoteEndpoint) -> None:
        self.client = RemoteClient(endpoint, "LLM")
        self.context_window = endpoint.context_tokens

    async def count_tokens(self, request: LLMRequest) -> TokenCount:
        return estimate_tokens(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        body = chat_request(request, self.client.endpoint.model)
        finish = "stop"
        usage: dict[str, Any] = {}
        calls: set[int] = set()
        async with self.client.stream("chat/completions", json=body) as response:
            async for chunk in server_sent_events(response.aiter_lines()):
                if "error" in chunk:
                    raise RemoteEngineError(f"LLM backend reported an error: {chunk['error']}")
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    finish = choice.get("finish_reason") or finish
                    delta = choice.get("delta") or {}
                    if delta.get("content"):
                        yield TextDelta(delta["content"])
                    for call in delta.get("tool_calls") or []:
                        for event in _tool_call_events(call, calls):
                            yield event
        tokens = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        if finish == "length":
            yield Completion("length", *tokens)
        else:
            yield Completion("tool_calls" if calls else "stop", *tokens)


def estimate_tokens(request: LLMRequest) -> TokenCount:
    """Each message's text and calls plus its framing; the tools as their JSON, plus the answer's opening."""
    per_message = tuple(
        MESSAGE_FRAMING
        + estimate_text(m.content)
        + sum(CALL_FRAMING + estimate_text(c.name) + estimate_text(c.arguments) for c in m.tool_calls)
        for m in request.messages
    )
    tools = chat_request(LLMRequest((), request.tools, request.tool_choice), "").get("tools")
    return TokenCount(per_message, ANSWER_OPENING + (estimate_text(json.dumps(tools)) if tools else 0))


def estimate_text(text: str) -> int:
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return math.ceil((len(text) - non_ascii) / ASCII_CHARS_PER_TOKEN) + non_ascii


def _tool_call_events(call: dict[str, Any], seen: set[int]) -> list[LLMEvent]:
    """OpenAI streams a call as: index + id + name first, then argument pieces under the same index."""
    events: list[LLMEvent] = []
    index = call.get("index", 0)
    function = call.get("function") or {}
    if index not in seen:
        seen.add(index)
        events.append(ToolCallStart(call.get("id") or None, function.get("name") or ""))
    if function.get("arguments"):
        events.append(ToolCallArgumentsDelta(function["arguments"]))
    return events


async def server_sent_events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """`data: {...}` lines as objects, until `data: [DONE]` or the end of the stream."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            yield json.loads(payload)
        except json.JSONDecodeError:
            raise RemoteEngineError(f"LLM backend sent a malformed event: {payload[:120]}") from None


def chat_request(request: LLMRequest, model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [chat_message(m) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": request.temperature,
    }
    if request.max_output_tokens is not None:
        body["max_tokens"] = request.max_output_tokens
    if request.tools:
        body["tools"] = [
            {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
            for t in request.tools
        ]
        body["tool_choice"] = _tool_choice(request.tool_choice)
    return body


def _tool_choice(choice: ToolChoiceSpec) -> Any:
    if choice.mode == "function":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def chat_message(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out
