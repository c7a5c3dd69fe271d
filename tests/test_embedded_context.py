"""SmolLM2's context: its counts are llama.cpp's own, its window is one slot's share, and a long
conversation fitted into that window is answered."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from realtalk.engines.base import (
    ChatMessage,
    Completion,
    FunctionSpec,
    LLMEngine,
    LLMRequest,
    ToolCall,
    ToolChoiceSpec,
)
from realtalk.engines.embedded.smollm import LLMError
from realtalk.engines.registry import Engines
from realtalk.session.truncation import answer_reserve, fit_context
from tests.engines import RecordingLLM
from tests.harness import SessionHarness, no_vad, only

pytestmark = pytest.mark.models
SYSTEM = ChatMessage("system", "You are a helpful assistant. Answer in one short sentence.")
WEATHER = FunctionSpec(
    "get_weather",
    "Get the current weather in a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = FunctionSpec(
    "get_time", "Get the time now in a city", {"type": "object", "properties": {"city": {"type": "string"}}}
)
CALL = ChatMessage("assistant", "", (ToolCall("call_1", "get_weather", '{"city": "Paris"}'),))
OUTPUT = ChatMessage("tool", '{"temperature": 21, "sky": "clear"}', tool_call_id="call_1")


async def completion(llm: LLMEngine, request: LLMRequest) -> Completion:
    events = [event async for event in llm.stream(request)]
    assert isinstance(events[-1], Completion)
    return events[-1]


@pytest.mark.parametrize(
    "request_",
    [
        LLMRequest([SYSTEM, ChatMessage("user", "Hi there!")]),
        LLMRequest([ChatMessage("user", "Hi there!")]),  # the template adds its own system message
        LLMRequest([SYSTEM, ChatMessage("user", "Weather in Paris?"), CALL, OUTPUT], [WEATHER]),
        LLMRequest([ChatMessage("user", "Weather?"), CALL, OUTPUT], [WEATHER], ToolChoiceSpec("required")),
        # routed by the user's message, which neither the first message nor the end holds
        LLMRequest(
            [SYSTEM, ChatMessage("user", "Weather in Paris?"), CALL, OUTPUT],
            [WEATHER, TIME],
            ToolChoiceSpec("required"),
        ),
        LLMRequest([SYSTEM, ChatMessage("user", "Weather in Paris?"), ChatMessage("system", "Be kind.")], [WEATHER]),
        LLMRequest([SYSTEM, ChatMessage("user", "Weather?")], [WEATHER], ToolChoiceSpec("none")),
        LLMRequest([SYSTEM, ChatMessage("user", "Say <|im_start|> back to me.")]),
        LLMRequest([SYSTEM]),  # the assistant speaks first
    ],
    ids=[
        "plain",
        "no-system",
        "tools",
        "tool-required",
        "routed-tool-required",
        "routed-system-last",
        "tool-choice-none",
        "start-marker",
        "speaks-first",
    ],
)
async def test_a_count_is_the_prompt_llama_cpp_reports(embedded: Engines, request_: LLMRequest) -> None:
    counted = await embedded.llm.count_tokens(request_)
    used = await completion(embedded.llm, replace(request_, max_output_tokens=1))
    assert counted.total == used.input_tokens


async def test_leaving_messages_out_saves_exactly_their_counts(embedded: Engines) -> None:
    question, answer = ChatMessage("user", "What is the capital of Spain?"), ChatMessage("assistant", "Madrid.")
    last = ChatMessage("user", "And of Italy?")
    whole = LLMRequest([SYSTEM, question, answer, last], max_output_tokens=1)
    counted = await embedded.llm.count_tokens(whole)
    shorter = await completion(embedded.llm, LLMRequest([SYSTEM, last], max_output_tokens=1))
    assert (await completion(embedded.llm, whole)).input_tokens - shorter.input_tokens == sum(counted.per_message[1:3])


async def sized(llm: LLMEngine, tokens: int) -> LLMRequest:
    """A one-question request whose prompt is exactly `tokens` long (found by counting, not guessing)."""
    low, high = 1, tokens
    while low < high:
        words = (low + high) // 2
        total = (await llm.count_tokens(filler(words))).total
        low, high = (words + 1, high) if total < tokens else (low, words)
    request = filler(low)
    assert (await llm.count_tokens(request)).total == tokens
    return request


def filler(words: int) -> LLMRequest:
    return LLMRequest([SYSTEM, ChatMessage("user", "apple " * words + "Which fruit?")], max_output_tokens=1)


async def test_the_window_is_one_slots_share_of_the_context(embedded: Engines) -> None:
    window = embedded.llm.context_window
    assert window == 8192 // 2
    assert (await completion(embedded.llm, await sized(embedded.llm, window - 1))).input_tokens == window - 1
    with pytest.raises(LLMError, match="exceeds the available context size"):
        await completion(embedded.llm, await sized(embedded.llm, window + 1))


def long_conversation() -> list[ChatMessage]:
    """500 messages: instructions, questions and answers, with a weather lookup every 40 turns."""
    messages = [SYSTEM]
    for turn in range(243):
        messages.append(ChatMessage("user", f"Question {turn}: what is {turn} plus {turn}?"))
        if turn % 40 == 7:
            call = ToolCall(f"call_{turn}", "get_weather", '{"city": "Paris"}')
            messages += [ChatMessage("assistant", "", (call,)), ChatMessage("tool", "21 C", tool_call_id=call.call_id)]
        messages.append(ChatMessage("assistant", f"{turn} plus {turn} is {2 * turn}."))
    messages.append(ChatMessage("user", "What is the capital of France?"))
    return messages


async def test_a_500_message_conversation_is_fitted_and_answered(embedded: Engines) -> None:
    messages = long_conversation()
    assert len(messages) == 500
    llm, window = embedded.llm, embedded.llm.context_window
    started = time.perf_counter()
    counts = await llm.count_tokens(LLMRequest(messages))
    assert time.perf_counter() - started < 1.0
    assert counts.total > window  # the whole conversation could never be sent

    reserve = answer_reserve(64, window)
    kept = fit_context(messages, counts, window=window, reserve=reserve)
    assert kept[0] == SYSTEM and kept[-1] == messages[-1] and len(kept) < len(messages)
    request = LLMRequest(kept, max_output_tokens=reserve)
    answered = await completion(llm, request)
    assert answered.input_tokens == (await llm.count_tokens(request)).total <= window - reserve
    assert answered.output_tokens > 0


async def test_a_500_item_conversation_is_answered_by_a_session(embedded: Engines) -> None:
    """Through the protocol with the default `truncation` ("auto") and no output limit: what fits is sent."""
    llm = RecordingLLM(embedded.llm)
    harness = SessionHarness(no_vad(modality="text"), replace(embedded, llm=llm))
    await harness.start()
    for text, role in conversation_items():
        content = {"type": "input_text" if role == "user" else "output_text", "text": text}
        await harness.send(
            {"type": "conversation.item.create", "item": {"type": "message", "role": role, "content": [content]}}
        )
    assert len(harness.session.conversation.items) == 500

    await harness.send({"type": "response.create"})
    run = harness.session.responder.default
    assert run is not None
    await run.wait()  # the prompt may take longer than the harness waits for one event
    events = harness.drain()
    done = only(events, "response.done")["response"]
    assert done["status"] == "completed"
    assert only(events, "response.output_text.done")["text"].strip()
    window, reserve = llm.context_window, answer_reserve(None, llm.context_window)
    request = llm.requests[0]
    assert request.messages[0].role == "system" and request.messages[-1].content == "What is the capital of France?"
    assert len(request.messages) < 501
    used = done["usage"]["input_tokens"]
    counted = (await llm.count_tokens(request)).total
    assert abs(used - counted) <= 4  # counted message by message, a token may split at a message boundary
    assert window - reserve - 100 < used <= window - reserve  # as much as fits: a turn is under 100 tokens


def conversation_items() -> list[tuple[str, str]]:
    """500 (text, role) items: a greeting, 249 sums asked and answered, and a last question."""
    items = [("Hello! Ask me anything.", "assistant")]
    for turn in range(249):
        items += [
            (f"Question {turn}: what is {turn} plus {turn}?", "user"),
            (f"{turn} plus {turn} is {2 * turn}.", "assistant"),
        ]
    return [*items, ("What is the capital of France?", "user")]
