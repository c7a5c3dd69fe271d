"""What the language model is given: conversation items rendered as chat messages, tools as specs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from realtalk.engines.base import ChatMessage, FunctionSpec, ToolCall, ToolChoiceSpec
from realtalk.protocol.config import FunctionTool, NamedFunction, ToolChoice
from realtalk.protocol.items import Item


def chat_messages(instructions: str, items: Iterable[Item]) -> list[ChatMessage]:
    """Instructions first, then one message per item; consecutive function calls share one message."""
    messages = [ChatMessage("system", instructions)] if instructions else []
    for item in items:
        if item.type == "function_call":
            call = ToolCall(item.call_id or "", item.name or "", item.arguments or "")
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant" and last.tool_calls:
                messages[-1] = ChatMessage("assistant", last.content, (*last.tool_calls, call))
            else:
                messages.append(ChatMessage("assistant", "", (call,)))
        elif item.type == "function_call_output":
            messages.append(ChatMessage("tool", item.output or "", tool_call_id=item.call_id))
        elif item.role is not None:
            messages.append(ChatMessage(item.role, item.text()))
    return messages


def function_specs(tools: Sequence[FunctionTool]) -> list[FunctionSpec]:
    return [
        FunctionSpec(t.name, t.description or "", t.parameters or {"type": "object", "properties": {}}) for t in tools
    ]


def tool_choice_spec(choice: ToolChoice, tools: Sequence[FunctionTool]) -> ToolChoiceSpec:
    if isinstance(choice, NamedFunction):
        return ToolChoiceSpec("function", choice.name)
    if not tools:
        return ToolChoiceSpec("none")
    return ToolChoiceSpec(choice)
