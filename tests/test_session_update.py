"""`session.update` merges and validates; a refused update leaves the session as it was."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import SessionHarness, config, only, types

pytestmark = pytest.mark.dialects("ga", "beta")

Session = dict[str, Any]
LOOKUP = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}


async def started(harness: SessionHarness | None = None) -> SessionHarness:
    harness = harness or SessionHarness()
    await harness.start()
    return harness


def updated(events: list[dict[str, Any]]) -> Session:
    """The session object `session.updated` shows."""
    session: Session = only(events, "session.updated")["session"]
    return session


def turn_detection(harness: SessionHarness, session: Session) -> Any:
    return session["audio"]["input"]["turn_detection"] if harness.ga else session["turn_detection"]


def voice(name: str) -> tuple[Session, Session]:
    """A voice change, in GA's shape and beta's (for `harness.update(*voice(...))`)."""
    return {"audio": {"output": {"voice": name}}}, {"voice": name}


def text_only(harness: SessionHarness) -> dict[str, Any]:
    """`response.create` parameters for a text-only response, in the harness's dialect."""
    return {"output_modalities": ["text"]} if harness.ga else {"modalities": ["text"]}


async def test_update_changes_only_the_fields_present() -> None:
    harness = await started()
    before = harness.session.config
    ga_voice, beta_voice = voice("verse")
    session = updated(
        await harness.update({"instructions": "Be brief.", **ga_voice}, {"instructions": "Be brief.", **beta_voice})
    )
    assert harness.session.config == before.model_copy(
        update={"instructions": "Be brief.", "output": before.output.model_copy(update={"voice": "verse"})}
    )
    assert session["id"] == harness.session.id and session["instructions"] == "Be brief."
    if harness.ga:
        assert session["output_modalities"] == ["audio"]
        assert session["audio"]["output"] == {
            "format": {"type": "audio/pcm", "rate": 24000},
            "voice": "verse",
            "speed": 1.0,
        }
    else:
        assert session["voice"] == "verse"
        assert session["temperature"] == 0.8 and session["modalities"] == ["text", "audio"]


async def test_nested_objects_are_replaced_with_their_defaults_filled_in() -> None:
    harness = await started(SessionHarness(config(input={"turn_detection": {"silence_duration_ms": 800}})))
    td = {"turn_detection": {"threshold": 0.7}}
    session = updated(await harness.update({"audio": {"input": td}}, td))
    expected = {
        "type": "server_vad",
        "threshold": 0.7,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "create_response": True,
        "interrupt_response": True,
    }
    assert turn_detection(harness, session) == ({**expected, "idle_timeout_ms": None} if harness.ga else expected)


async def test_null_turn_detection_turns_vad_off() -> None:
    harness = await started()
    session = updated(await harness.update({"audio": {"input": {"turn_detection": None}}}, {"turn_detection": None}))
    assert turn_detection(harness, session) is None
    assert harness.session.config.input.turn_detection is None


async def test_semantic_vad_is_shown_with_its_eagerness() -> None:
    harness = await started()
    td = {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}
    session = updated(await harness.update({"audio": {"input": td}}, td))
    assert turn_detection(harness, session) == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": True,
    }


def refusal(ga: Session, beta: Session, code: str, ga_param: str, beta_param: str | None = None) -> Any:
    """One bad value written in each dialect, the error code, and the `param` each dialect names."""
    return pytest.param(
        ga, beta, code, ga_param, beta_param or ga_param, id=",".join(f"{k}={v}" for k, v in beta.items())
    )


def ga_input(**fields: Any) -> Session:
    return {"audio": {"input": fields}}


def ga_output(**fields: Any) -> Session:
    return {"audio": {"output": fields}}


@pytest.mark.parametrize(
    ("ga", "beta", "code", "ga_param", "beta_param"),
    [
        *(
            refusal({"max_output_tokens": v}, {"max_response_output_tokens": v}, "invalid_value",
                    "session.max_output_tokens", "session.max_response_output_tokens")
            for v in (0, 4097, "infinite")
        ),
        refusal(ga_output(speed=0.2), {"speed": 0.2}, "invalid_value", "session.audio.output.speed", "session.speed"),
        refusal(ga_output(speed=1.6), {"speed": 1.6}, "invalid_value", "session.audio.output.speed", "session.speed"),
        refusal(ga_output(voice="robot"), {"voice": "robot"}, "invalid_value", "session.audio.output.voice",
                "session.voice"),
        refusal(ga_input(format={"type": "audio/mp3"}), {"input_audio_format": "mp3"}, "invalid_value",
                "session.audio.input.format", "session.input_audio_format"),
        refusal(ga_output(format={"type": "audio/opus"}), {"output_audio_format": "opus"}, "invalid_value",
                "session.audio.output.format", "session.output_audio_format"),
        refusal({"output_modalities": ["video"]}, {"modalities": ["video"]}, "invalid_value",
                "session.output_modalities", "session.modalities"),
        refusal({"tool_choice": "lookup"}, {"tool_choice": "lookup"}, "invalid_value", "session.tool_choice"),
        refusal({"tool_choice": 3}, {"tool_choice": 3}, "invalid_value", "session.tool_choice"),
        refusal({"tools": [{"type": "function", "name": "has space"}]},
                {"tools": [{"type": "function", "name": "has space"}]}, "invalid_value", "session.tools[0].name"),
        refusal({"tools": [{"type": "function"}]}, {"tools": [{"type": "function"}]}, "missing_required_parameter",
                "session.tools[0].name"),
        refusal(ga_input(turn_detection={"type": "server_vad", "threshold": 2}),
                {"turn_detection": {"type": "server_vad", "threshold": 2}}, "invalid_value",
                "session.audio.input.turn_detection.threshold", "session.turn_detection.threshold"),
        refusal(ga_input(turn_detection={"type": "push_to_talk"}), {"turn_detection": {"type": "push_to_talk"}},
                "invalid_value", "session.audio.input.turn_detection.type", "session.turn_detection.type"),
        refusal(ga_input(noise_reduction={"type": "studio"}), {"input_audio_noise_reduction": {"type": "studio"}},
                "invalid_value", "session.audio.input.noise_reduction.type",
                "session.input_audio_noise_reduction.type"),
        refusal({"instructions": 42}, {"instructions": 42}, "invalid_type", "session.instructions"),
        refusal({"colour": "blue"}, {"colour": "blue"}, "unknown_parameter", "session.colour"),
    ],
)  # fmt: skip
async def test_a_bad_value_is_refused_with_its_param_and_changes_nothing(
    ga: Session, beta: Session, code: str, ga_param: str, beta_param: str
) -> None:
    harness = await started()
    await refused_unchanged(harness, ga, beta, code, ga_param if harness.ga else beta_param)


async def refused_unchanged(harness: SessionHarness, ga: Session, beta: Session, code: str, param: str) -> None:
    """The update is refused with one `error` naming `param`, echoing the event id, and changes nothing."""
    before = harness.session.config
    session = {"type": "realtime", **ga} if harness.ga else beta
    events = await harness.request({"type": "session.update", "event_id": "upd_1", "session": session})
    assert types(events) == ["error"]
    error = events[0]["error"]
    assert (error["type"], error["code"], error["param"], error["event_id"]) == (
        "invalid_request_error",
        code,
        param,
        "upd_1",
    )
    assert harness.session.config == before


@pytest.mark.dialects("beta")  # GA sessions have no temperature
@pytest.mark.parametrize(("value", "code"), [(0.5, "invalid_value"), (1.3, "invalid_value"), ("hot", "invalid_type")])
async def test_beta_temperature_is_refused_out_of_range(value: object, code: str) -> None:
    harness = await started()
    await refused_unchanged(harness, {}, {"temperature": value}, code, "session.temperature")


@pytest.mark.dialects("ga")
async def test_ga_sessions_have_no_temperature() -> None:
    harness = await started()
    await refused_unchanged(harness, {"temperature": 0.8}, {}, "unknown_parameter", "session.temperature")


@pytest.mark.dialects("beta")  # idle_timeout_ms is GA's alone
async def test_beta_turn_detection_has_no_idle_timeout() -> None:
    harness = await started()
    td = {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 6000}}
    await refused_unchanged(harness, {}, td, "unknown_parameter", "session.turn_detection.idle_timeout_ms")


async def test_a_named_tool_choice_must_name_a_tool_of_the_same_update() -> None:
    harness = await started()
    named = {"tools": [LOOKUP], "tool_choice": {"type": "function", "name": "lookup"}}
    session = updated(await harness.update(named, {"tools": [LOOKUP], "tool_choice": "lookup"}))
    assert session["tool_choice"] == ({"type": "function", "name": "lookup"} if harness.ga else "lookup")
    refused = await harness.update({"tools": []}, {"tools": []})
    assert only(refused, "error")["error"]["param"] == "session.tool_choice"


async def test_tool_choice_accepts_the_object_form_of_a_function() -> None:
    harness = await started()
    named = {"tools": [LOOKUP], "tool_choice": {"type": "function", "name": "lookup"}}
    session = updated(await harness.update(named, named))
    assert session["tool_choice"] == (named["tool_choice"] if harness.ga else "lookup")


async def test_the_nested_function_form_of_tool_choice_is_refused() -> None:
    harness = await started()
    nested = {"tools": [LOOKUP], "tool_choice": {"type": "function", "function": {"name": "lookup"}}}
    await refused_unchanged(harness, nested, nested, "invalid_value", "session.tool_choice")


async def test_the_model_may_be_named_until_the_first_response_then_not_changed() -> None:
    harness = await started()
    mini = {"model": "gpt-4o-mini-realtime-preview"}
    assert updated(await harness.update(mini, mini))["model"] == "gpt-4o-mini-realtime-preview"
    await harness.response(text_only(harness))
    assert types(await harness.update(mini, mini)) == ["session.updated"]
    events = await harness.update({"model": "gpt-realtime"}, {"model": "gpt-realtime"})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "session.model")


async def test_the_voice_is_locked_once_audio_has_been_sent() -> None:
    harness = await started()
    await harness.response()
    assert types(await harness.update(*voice("alloy"))) == ["session.updated"]
    error = only(await harness.update(*voice("echo")), "error")["error"]
    param = "session.audio.output.voice" if harness.ga else "session.voice"
    assert (error["code"], error["param"]) == ("cannot_update_voice", param)
    assert harness.session.config.output.voice == "alloy"


async def test_the_voice_may_change_while_only_text_was_produced() -> None:
    harness = await started()
    await harness.response(text_only(harness))
    updated(await harness.update(*voice("echo")))
    assert harness.session.config.output.voice == "echo"


async def test_session_must_be_an_object() -> None:
    harness = await started()
    events = await harness.request({"type": "session.update", "session": "fast"})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("invalid_type", "session")
