"""A tool's `parameters` must be a JSON schema, and no client JSON may nest deeper than realtalk can follow."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from realtalk.protocol.config import (
    MAX_JSON_DEPTH,
    SessionConfig,
    SessionPatch,
    check_function_parameters,
)
from realtalk.protocol.errors import ProtocolError, short_repr

PATH = ("tools", 0, "parameters")


def nested(levels: int) -> Any:
    return orjson.loads('{"a":' * (levels - 1) + "{}" + "}" * (levels - 1))


def refusal(parameters: dict[str, Any]) -> tuple[str, str | None, str]:
    with pytest.raises(ProtocolError) as refused:
        check_function_parameters(parameters, PATH)
    message, param = refused.value.rendered()
    return refused.value.code, param, message


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        {"type": "object", "properties": {"unit": {"type": ["string", "null"], "enum": ["c", "f", None]}}},
        {"type": "object", "properties": {"x": True}, "additionalProperties": False},
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": {"a": {"type": "integer"}}},
        nested(MAX_JSON_DEPTH),
    ],
)
def test_json_schemas_are_accepted(parameters: dict[str, Any]) -> None:
    check_function_parameters(parameters, PATH)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"type": "object", "properties": []}, "[] is not of type 'object' (at ['properties'])"),
        ({"type": "strin"}, "'strin' is not valid under any of the given schemas (at ['type'])"),
        ({"required": "city"}, "'city' is not of type 'array' (at ['required'])"),
        (
            {"properties": {"a": {"properties": {"b": {"enum": 5}}}}},
            "5 is not of type 'array' (at ['properties']['a']['properties']['b']['enum'])",
        ),
    ],
)
def test_parameters_that_are_not_a_json_schema_are_refused_saying_where(
    parameters: dict[str, Any], message: str
) -> None:
    assert refusal(parameters) == (
        "invalid_function_parameters",
        "tools[0].parameters",
        f"Invalid schema for 'tools[0].parameters': {message}.",
    )


def test_a_long_complaint_is_cut_short() -> None:
    code, _, message = refusal({"type": "x" * 1000})
    assert code == "invalid_function_parameters"
    assert len(message) == len("Invalid schema for 'tools[0].parameters': ") + 200 + 1
    assert message.endswith("....")


def test_a_session_update_with_a_bad_tool_schema_names_the_field_and_changes_nothing() -> None:
    config = SessionConfig()
    tool = {"type": "function", "name": "f", "parameters": nested(300)}
    with pytest.raises(ProtocolError) as refused:
        config.patched(SessionPatch("realtime", {("tools",): [tool]}))
    assert (refused.value.code, refused.value.rendered()[1]) == ("invalid_value", "session.tools[0].parameters")
    assert config.tools == []


def test_a_value_too_deep_to_repr_is_described_instead() -> None:
    assert short_repr(nested(1020)) == "a dict nested too deeply to show"
    assert short_repr([1, 2]) == "[1, 2]"
