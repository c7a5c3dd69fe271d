"""The embedded engine holds a routed tool's arguments to the words and numbers of the user's request."""

from __future__ import annotations

from typing import Any

from realtalk.engines.base import FunctionSpec
from realtalk.engines.embedded.tool_arguments import MAX_SPAN_WORDS, grounded, numbers, spans


def tool(**properties: Any) -> FunctionSpec:
    return FunctionSpec("do", "Do it.", {"type": "object", "properties": properties, "required": list(properties)})


def narrowed(said: str, **properties: Any) -> dict[str, Any]:
    result: dict[str, Any] = grounded(tool(**properties), said).parameters["properties"]
    return result


def test_a_plain_string_is_held_to_runs_of_the_requests_words() -> None:
    assert narrowed("Play Queen, now!", query={"type": "string", "description": "What"}) == {
        "query": {
            "type": "string",
            "description": "What",
            "enum": ["Play", "Queen", "now", "Play Queen", "Queen now", "Play Queen now"],
        }
    }


def test_spans_are_at_most_the_longest_run_allowed() -> None:
    words = [str(i) for i in range(MAX_SPAN_WORDS + 2)]
    assert max(len(span.split()) for span in spans(words)) == MAX_SPAN_WORDS
    assert spans(["a", "b", "a"]) == ["a", "b", "a b", "b a", "a b a"]


def test_an_enum_is_held_to_the_values_the_request_says_else_left_alone() -> None:
    state = {"type": "string", "enum": ["on", "off"]}
    assert narrowed("Turn the lights OFF", state=state) == {"state": {"type": "string", "enum": ["off"]}}
    assert narrowed("Lights, please", state=state) == {"state": state}


def test_a_string_with_a_pattern_or_format_stays_free() -> None:
    code = {"type": "string", "pattern": "^[A-Z]{3}$"}
    day = {"type": "string", "format": "date"}
    assert narrowed("Book it for the first", code=code, day=day) == {"code": code, "day": day}


def test_a_number_is_held_to_the_numbers_said_that_it_allows() -> None:
    hour = {"type": "integer", "minimum": 0, "maximum": 23}
    assert narrowed("Wake me at seven, not 30", hour=hour) == {"hour": {**hour, "enum": [7]}}
    assert narrowed("Twenty-five and 2.5 and 25", amount={"type": "number"}) == {
        "amount": {"type": "number", "enum": [25, 2.5]}
    }
    assert narrowed("Half past 2.5", hour=hour) == {"hour": hour}  # 2.5 is no integer: the model writes one


def test_numbers_are_read_in_digits_and_words_once_each() -> None:
    assert numbers(["one", "hundred", "and", "five", "1,000", "105", "cats"]) == [105.0, 1000.0]


def test_a_request_too_long_or_without_words_leaves_the_tool_as_declared() -> None:
    declared = tool(query={"type": "string"})
    assert grounded(declared, "word " * 41) is declared
    assert grounded(declared, "?!") is declared
    assert grounded(FunctionSpec("ping", "Ping.", {}), "ping it") == FunctionSpec("ping", "Ping.", {})
