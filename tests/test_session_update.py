"""`session.update` merges and validates; a refused update leaves the session as it was."""

from __future__ import annotations

import pytest

from tests.harness import SessionHarness, only, types


async def started() -> SessionHarness:
    harness = SessionHarness()
    await harness.start()
    return harness


async def test_update_changes_only_the_fields_present() -> None:
    harness = await started()
    events = await harness.request(
        {"type": "session.update", "session": {"instructions": "Be brief.", "voice": "verse"}}
    )
    session = only(events, "session.updated")["session"]
    assert session["instructions"] == "Be brief." and session["voice"] == "verse"
    assert session["temperature"] == 0.8 and session["modalities"] == ["text", "audio"]
    assert session["id"] == harness.session.id


async def test_nested_objects_are_replaced_with_their_defaults_filled_in() -> None:
    harness = await started()
    events = await harness.request({"type": "session.update", "session": {"turn_detection": {"threshold": 0.7}}})
    td = only(events, "session.updated")["session"]["turn_detection"]
    assert td == {
        "type": "server_vad",
        "threshold": 0.7,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "create_response": True,
        "interrupt_response": True,
    }


async def test_null_turn_detection_turns_vad_off() -> None:
    harness = await started()
    events = await harness.request({"type": "session.update", "session": {"turn_detection": None}})
    assert only(events, "session.updated")["session"]["turn_detection"] is None


async def test_semantic_vad_is_shown_with_its_eagerness() -> None:
    harness = await started()
    events = await harness.request(
        {"type": "session.update", "session": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}}
    )
    assert only(events, "session.updated")["session"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": True,
    }


@pytest.mark.parametrize(
    ("field", "value", "code", "param"),
    [
        ("temperature", 0.5, "invalid_value", "session.temperature"),
        ("temperature", 1.3, "invalid_value", "session.temperature"),
        ("temperature", "hot", "invalid_type", "session.temperature"),
        ("max_response_output_tokens", 0, "invalid_value", "session.max_response_output_tokens"),
        ("max_response_output_tokens", 4097, "invalid_value", "session.max_response_output_tokens"),
        ("max_response_output_tokens", "infinite", "invalid_value", "session.max_response_output_tokens"),
        ("speed", 0.2, "invalid_value", "session.speed"),
        ("speed", 1.6, "invalid_value", "session.speed"),
        ("voice", "robot", "invalid_value", "session.voice"),
        ("input_audio_format", "mp3", "invalid_value", "session.input_audio_format"),
        ("output_audio_format", "opus", "invalid_value", "session.output_audio_format"),
        ("modalities", ["video"], "invalid_value", "session.modalities[0]"),
        ("tool_choice", "lookup", "invalid_value", "session.tool_choice"),
        ("tool_choice", 3, "invalid_value", "session.tool_choice"),
        ("tools", [{"type": "function", "name": "has space"}], "invalid_value", "session.tools[0].name"),
        ("tools", [{"type": "function"}], "missing_required_parameter", "session.tools[0].name"),
        ("turn_detection", {"type": "server_vad", "threshold": 2}, "invalid_value", "session.turn_detection.threshold"),
        ("turn_detection", {"type": "push_to_talk"}, "invalid_value", "session.turn_detection.type"),
        (
            "input_audio_noise_reduction",
            {"type": "studio"},
            "invalid_value",
            "session.input_audio_noise_reduction.type",
        ),
        ("instructions", 42, "invalid_type", "session.instructions"),
        ("colour", "blue", "unknown_parameter", "session.colour"),
    ],
)
async def test_a_bad_value_is_refused_with_its_param_and_changes_nothing(
    field: str, value: object, code: str, param: str
) -> None:
    harness = await started()
    before = harness.session.config
    events = await harness.request({"type": "session.update", "event_id": "upd_1", "session": {field: value}})
    assert types(events) == ["error"]
    error = events[0]["error"]
    assert (error["type"], error["code"], error["param"], error["event_id"]) == (
        "invalid_request_error",
        code,
        param,
        "upd_1",
    )
    assert harness.session.config == before


async def test_a_named_tool_choice_must_name_a_tool_of_the_same_update() -> None:
    harness = await started()
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
    events = await harness.request({"type": "session.update", "session": {"tools": [tool], "tool_choice": "lookup"}})
    assert only(events, "session.updated")["session"]["tool_choice"] == "lookup"
    refused = await harness.request({"type": "session.update", "session": {"tools": []}})
    assert only(refused, "error")["error"]["param"] == "session.tool_choice"


async def test_tool_choice_accepts_the_object_form_of_a_function() -> None:
    harness = await started()
    tool = {"type": "function", "name": "lookup"}
    events = await harness.request(
        {
            "type": "session.update",
            "session": {"tools": [tool], "tool_choice": {"type": "function", "function": {"name": "lookup"}}},
        }
    )
    assert only(events, "session.updated")["session"]["tool_choice"] == "lookup"


async def test_the_model_may_be_named_until_the_first_response_then_not_changed() -> None:
    harness = await started()
    named = await harness.request({"type": "session.update", "session": {"model": "gpt-4o-mini-realtime-preview"}})
    assert only(named, "session.updated")["session"]["model"] == "gpt-4o-mini-realtime-preview"
    await harness.response({"modalities": ["text"]})
    same = await harness.request({"type": "session.update", "session": {"model": "gpt-4o-mini-realtime-preview"}})
    assert types(same) == ["session.updated"]
    events = await harness.request({"type": "session.update", "session": {"model": "gpt-realtime"}})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "session.model")


async def test_the_voice_is_locked_once_audio_has_been_sent() -> None:
    harness = await started()
    await harness.response()
    same = await harness.request({"type": "session.update", "session": {"voice": "alloy"}})
    assert types(same) == ["session.updated"]
    events = await harness.request({"type": "session.update", "session": {"voice": "echo"}})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("cannot_update_voice", "session.voice")
    assert harness.session.config.voice == "alloy"


async def test_the_voice_may_change_while_only_text_was_produced() -> None:
    harness = await started()
    await harness.response({"modalities": ["text"]})
    events = await harness.request({"type": "session.update", "session": {"voice": "echo"}})
    assert only(events, "session.updated")["session"]["voice"] == "echo"


async def test_session_must_be_an_object() -> None:
    harness = await started()
    events = await harness.request({"type": "session.update", "session": "fast"})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("invalid_type", "session")
