"""What the language model is given: conversation items rendered as chat messages, tools as specs,
fitted into the engine's context window as the session's `truncation` setting says."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from realtalk.engines.base import ChatMessage, FunctionSpec, LLMEngine, LLMRequest, ToolCall, ToolChoiceSpec
from realtalk.protocol.config import FunctionTool, NamedFunction, RetentionRatio, ToolChoice, Truncation
from realtalk.protocol.items import Item
from realtalk.session.truncation import answer_reserve, fit_context


@dataclass
class ChatContext:
    """Chat messages and, for each, the ids of the items it was made from."""

    messages: list[ChatMessage] = field(default_factory=list)
    sources: list[list[str]] = field(default_factory=list)

    def add(self, message: ChatMessage, item_id: str | None) -> None:
        self.messages.append(message)
        self.sources.append([item_id] if item_id else [])


def chat_messages(instructions: str, items: Iterable[Item]) -> ChatContext:
    """Instructions first, then one message per item; consecutive function calls share one message."""
    context = ChatContext()
    if instructions:
        context.add(ChatMessage("system", instructions), None)
    for item in items:
        last = context.messages[-1] if context.messages else None
        if item.type == "function_call":
            call = ToolCall(item.call_id or "", item.name or "", item.arguments or "")
            if last is not None and last.role == "assistant" and last.tool_calls:
                context.messages[-1] = ChatMessage("assistant", last.content, (*last.tool_calls, call))
                context.sources[-1].append(item.id)
            else:
                context.add(ChatMessage("assistant", "", (call,)), item.id)
        elif item.type == "function_call_output":
            context.add(ChatMessage("tool", item.output or "", tool_call_id=item.call_id), item.id)
        elif item.role is not None:
            context.add(ChatMessage(item.role, item.text()), item.id)
    return context


async def fitted(
    llm: LLMEngine, request: LLMRequest, context: ChatContext, truncation: Truncation
) -> tuple[LLMRequest, set[str]]:
    """`request` with its messages cut to fit the engine's window; also the ids of the items left out.

    Raises `ContextTooLong` when the conversation cannot fit (truncation disabled, or what must stay — the
    instructions and the last user turn — is already too long).
    """
    counts = await llm.count_tokens(request)
    ratio = truncation if isinstance(truncation, RetentionRatio) else None
    kept = fit_context(
        request.messages,
        counts,
        window=llm.context_window,
        reserve=answer_reserve(request.max_output_tokens, llm.context_window),
        enabled=truncation != "disabled",
        retention_ratio=ratio.retention_ratio if ratio else None,
        post_instructions_limit=ratio.token_limits.post_instructions if ratio and ratio.token_limits else None,
    )
    dropped = len(request.messages) - len(kept)
    head = 1 if request.messages and request.messages[0].role == "system" else 0
    left_out = {item_id for ids in context.sources[head : head + dropped] for item_id in ids}
    return replace(request, messages=kept), left_out


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
