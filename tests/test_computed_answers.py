"""The packaged SmolLM2 says computed answers to arithmetic, unit and calendar questions; anything else, a tool
the request is for, and a model of the user's own are answered by the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtalk.engines.base import (
    ChatMessage,
    Completion,
    FunctionSpec,
    LLMEvent,
    LLMRequest,
    TextDelta,
    ToolCallStart,
)
from realtalk.engines.embedded import smollm
from realtalk.engines.embedded.computed_answers import MAX_QUESTION_CHARS, computed_answer
from realtalk.engines.embedded.smollm import SmolLM
from realtalk.engines.registry import Engines
from realtalk.text.number_words import decimal_in_words, number_in_words
from tests.harness import SessionHarness, no_vad, only

DIVISION = "What is twelve divided by three?"
SAID = "Twelve divided by three is four."
DIVIDER = FunctionSpec(
    "divide_numbers",
    "Divide one number by another.",
    {"type": "object", "properties": {"dividend": {"type": "number"}, "divisor": {"type": "number"}}},
)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (DIVISION, SAID),
        ("How many minutes are in half an hour?", "There are thirty minutes in half an hour."),
        ("What month comes before June?", "The month before June is May."),
    ],
)
def test_arithmetic_units_and_the_calendar_are_each_computed(question: str, answer: str) -> None:
    assert computed_answer(question) == answer


def test_a_question_of_knowledge_is_left_to_the_model() -> None:
    assert computed_answer("What is the capital of Australia?") is None


def test_a_message_longer_than_one_question_is_left_to_the_model() -> None:
    assert computed_answer("What is two plus two? " + "Tell me more. " * MAX_QUESTION_CHARS) is None


@given(st.text(max_size=80))
def test_any_text_gets_a_computed_answer_or_none_and_never_an_error(text: str) -> None:
    assert computed_answer(text) is None or computed_answer(text).endswith(".")  # type: ignore[union-attr]


@given(
    st.integers(-10_000, 10_000),
    st.sampled_from([("plus", lambda a, b: a + b), ("minus", lambda a, b: a - b), ("times", lambda a, b: a * b)]),
    st.integers(0, 10_000),
    st.booleans(),
)
def test_any_two_numbers_said_in_words_or_digits_are_computed_exactly(
    a: int, operation: tuple[str, object], b: int, in_words: bool
) -> None:
    name, apply = operation
    said = [number_in_words(n) if in_words else str(n) for n in (a, b)]
    expected = decimal_in_words(apply(a, b), 0)  # type: ignore[operator]
    answer = computed_answer(f"What is {said[0]} {name} {said[1]}?")
    assert answer is not None and answer.endswith(f" is {expected}.")


@given(st.sampled_from(["zero", "minus two", "two"]), st.sampled_from(["minus one", "one half", "zero point five"]))
def test_powers_with_no_real_answer_are_left_to_the_model(base: str, exponent: str) -> None:
    answer = computed_answer(f"What is {base} to the power of {exponent}?")
    assert answer is None or "power" in answer


def asked(question: str, *history: ChatMessage, **fields: object) -> LLMRequest:
    return LLMRequest([*history, ChatMessage("user", question)], **fields)  # type: ignore[arg-type]


async def events(llm: SmolLM, request: LLMRequest) -> list[LLMEvent]:
    return [event async for event in llm.stream(request)]


def said(answer: list[LLMEvent]) -> str:
    return "".join(e.text for e in answer if isinstance(e, TextDelta))


@pytest.fixture(scope="module")
def packaged() -> SmolLM:
    return SmolLM(seed=7)


@pytest.mark.models
async def test_the_packaged_model_replies_with_the_computed_answer_and_its_token_usage(packaged: SmolLM) -> None:
    request = asked(DIVISION)
    answer = await events(packaged, request)
    prompt = (await packaged.count_tokens(request)).total
    assert answer[:-1] == [TextDelta(SAID)]
    assert answer[-1] == Completion("stop", prompt, len(packaged._post("tokenize", {"content": SAID})["tokens"]))


@pytest.mark.models
async def test_a_question_asked_again_later_in_a_conversation_is_computed_too(packaged: SmolLM) -> None:
    history = (ChatMessage("system", "You are terse."), ChatMessage("user", "Hi!"), ChatMessage("assistant", "Hello!"))
    assert said(await events(packaged, asked(DIVISION, *history))) == SAID


@pytest.mark.models
async def test_a_tool_the_question_routes_to_is_called_rather_than_computed(packaged: SmolLM) -> None:
    answer = await events(packaged, asked(DIVISION, tools=[DIVIDER]))
    assert [e.name for e in answer if isinstance(e, ToolCallStart)] == ["divide_numbers"]


@pytest.mark.models
async def test_a_question_with_tools_that_fit_none_of_them_is_still_computed(packaged: SmolLM) -> None:
    lights = FunctionSpec("switch_lights", "Turn the lights in a room on or off.", {"type": "object"})
    assert said(await events(packaged, asked(DIVISION, tools=[lights]))) == SAID


@pytest.mark.models
async def test_a_computed_answer_longer_than_max_output_tokens_is_left_to_the_model(packaged: SmolLM) -> None:
    final = (await events(packaged, asked(DIVISION, max_output_tokens=2)))[-1]
    assert isinstance(final, Completion) and (final.finish_reason, final.output_tokens) == ("length", 2)


@pytest.mark.models
async def test_the_packaged_model_answers_itself_when_computed_answers_are_off() -> None:
    llm = SmolLM(seed=7, computed_answers=False)
    assert said(await events(llm, asked(DIVISION))) != SAID


@pytest.mark.models
async def test_a_model_of_the_users_own_answers_itself(tmp_path: Path) -> None:
    own = tmp_path / "own.gguf"
    own.write_bytes(smollm.model_path().read_bytes())  # the same weights, but a file of the user's
    answer = await events(SmolLM(own, seed=7), asked(DIVISION, max_output_tokens=30))
    assert said(answer) != SAID and isinstance(answer[-1], Completion)


@pytest.mark.models
async def test_a_session_speaks_the_computed_answer(embedded: Engines) -> None:
    harness = SessionHarness(no_vad(), embedded)
    await harness.start()
    await harness.say("What's 7 times 8?")
    await harness.send({"type": "response.create"})
    events_ = await harness.until("response.done")
    transcript = only(events_, harness.name("response.output_audio_transcript.done"))["transcript"]
    assert transcript == "Seven times eight is fifty-six."
    assert any(e["type"] == harness.name("response.output_audio.delta") for e in events_)
    assert only(events_, "response.done")["response"]["status"] == "completed"
