"""Tool calls by constrained decoding: the schema a small model is held to, and the streaming parser."""

from __future__ import annotations

import json

import jsonschema
import pytest

from realtalk.engines.base import FunctionSpec, TextDelta, ToolCallArgumentsDelta, ToolCallStart, ToolChoiceSpec
from realtalk.engines.embedded.tool_json import ToolReplyParser, offered_tools, reply_schema, tool_instructions

WEATHER = FunctionSpec(
    "get_weather",
    "Weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = FunctionSpec("get_time", "The time now", {})


def feed(text: str, piece: int) -> list[object]:
    parser = ToolReplyParser()
    events: list[object] = []
    for start in range(0, len(text), piece):
        events += parser.feed(text[start : start + piece])
    return events


def test_no_tools_or_tool_choice_none_means_free_text() -> None:
    assert reply_schema([], ToolChoiceSpec("auto")) is None
    assert reply_schema([WEATHER], ToolChoiceSpec("none")) is None


def test_auto_allows_any_tool_or_a_message() -> None:
    schema = reply_schema([WEATHER, TIME], ToolChoiceSpec("auto"))
    assert schema is not None
    jsonschema.validate({"name": "get_weather", "arguments": {"city": "Oslo"}}, schema)
    jsonschema.validate({"name": "get_time", "arguments": {}}, schema)
    jsonschema.validate({"message": "Hello"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "get_weather", "arguments": {}}, schema)


def test_required_forbids_a_message_and_a_named_choice_allows_only_that_tool() -> None:
    required = reply_schema([WEATHER, TIME], ToolChoiceSpec("required"))
    named = reply_schema([WEATHER, TIME], ToolChoiceSpec("function", "get_time"))
    assert required is not None and named is not None
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"message": "Hello"}, required)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "get_weather", "arguments": {"city": "Oslo"}}, named)
    jsonschema.validate({"name": "get_time", "arguments": {}}, named)


def test_the_offered_tools_are_none_the_named_one_or_all() -> None:
    assert offered_tools([WEATHER, TIME], ToolChoiceSpec("none")) == []
    assert offered_tools([WEATHER, TIME], ToolChoiceSpec("function", "get_time")) == [TIME]
    assert offered_tools([WEATHER, TIME], ToolChoiceSpec("required")) == [WEATHER, TIME]


def test_instructions_describe_the_tools_and_the_reply_forms() -> None:
    text = tool_instructions([WEATHER], ToolChoiceSpec("auto"))
    assert "get_weather(city: string): Weather for a city" in text and '"message"' in text


def test_boolean_subschemas_reach_the_grammar_as_objects() -> None:
    params = {
        "type": "object",
        "properties": {"x": True, "never": False, "list": {"type": "array", "items": True}},
        "additionalProperties": False,
    }
    schema = reply_schema([FunctionSpec("f", "", params)], ToolChoiceSpec("required"))
    assert schema is not None
    arguments = schema["properties"]["arguments"]
    assert arguments["properties"] == {"x": {}, "never": {"not": {}}, "list": {"type": "array", "items": {}}}
    assert arguments["additionalProperties"] is False  # a keyword llama.cpp knows: kept


def test_instructions_name_type_lists_and_boolean_schemas() -> None:
    tool = FunctionSpec(
        "note", "Take a note", {"type": "object", "properties": {"text": {"type": ["string", "null"]}, "x": True}}
    )
    assert "note(text: string|null, x: any): Take a note" in tool_instructions([tool], ToolChoiceSpec("auto"))


@pytest.mark.parametrize("piece", [1, 3, 1000])
def test_a_streamed_call_becomes_a_start_and_argument_deltas(piece: int) -> None:
    reply = '{"name": "get_weather", "arguments": {"city": "Oslo \\"Norway\\"", "days": {"n": 2}}}'
    events = feed(reply, piece)
    assert isinstance(events[0], ToolCallStart) and events[0].name == "get_weather"
    arguments = "".join(e.delta for e in events[1:] if isinstance(e, ToolCallArgumentsDelta))
    assert json.loads(arguments) == {"city": 'Oslo "Norway"', "days": {"n": 2}}
    assert all(isinstance(e, ToolCallArgumentsDelta) for e in events[1:])


@pytest.mark.parametrize("piece", [1, 2, 5, 1000])
def test_a_streamed_message_becomes_decoded_text(piece: int) -> None:
    reply = json.dumps({"message": 'Line one.\nIt said "hi" \u2014 caf\u00e9 \\ done'})
    events = feed(reply, piece)
    assert all(isinstance(e, TextDelta) for e in events)
    assert (
        "".join(e.text for e in events if isinstance(e, TextDelta))
        == 'Line one.\nIt said "hi" \u2014 caf\u00e9 \\ done'
    )
