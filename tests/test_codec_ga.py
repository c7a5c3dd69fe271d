"""The GA codec (`protocol.ga`): GA shapes decoded into the core's exact objects, and rendered back."""

from __future__ import annotations

import re
from typing import Any

import pytest

from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol.config import DEFAULT_INSTRUCTIONS, RetentionRatio, SessionConfig, SessionPatch
from realtalk.protocol.errors import FieldPath, ProtocolError
from realtalk.protocol.ga import GADialect
from realtalk.protocol.ga import rest as ga_rest
from realtalk.protocol.items import ContentParam, ItemParam
from tests.codec_checks import bodies, decoded_patch, invalid, overrides_of, refusal
from tests.codec_samples import (
    CALL,
    EXPIRES,
    REALTIME,
    SAMPLES,
    SERVER_VAD,
    SPOKEN,
    TRANSCRIPTION,
    WRITTEN,
    spoken_item,
)

GA = GADialect()
PCM = {"type": "audio/pcm", "rate": 24000}


def update(**session: Any) -> dict[str, Any]:
    return {"type": "session.update", "event_id": "u1", "session": {"type": "realtime", **session}}


def patch_of(**session: Any) -> SessionPatch:
    return decoded_patch(GA, update(**session))


# --- session.update --------------------------------------------------------------------------------------


def test_session_update_decodes_to_a_core_patch() -> None:
    assert GA.decode(update(audio={"output": {"voice": "ash"}})) == ce.UpdateSession(
        "u1", SessionPatch(type="realtime", changes={("output", "voice"): "ash"})
    )


@pytest.mark.parametrize(
    ("session", "changes"),
    [
        ({"model": "gpt-realtime"}, {("model",): "gpt-realtime"}),
        ({"instructions": "Be brief."}, {("instructions",): "Be brief."}),
        ({"output_modalities": ["audio"]}, {("modality",): "audio"}),
        ({"output_modalities": ["text"]}, {("modality",): "text"}),
        ({"max_output_tokens": 200}, {("max_output_tokens",): 200}),
        ({"tools": []}, {("tools",): []}),
        ({"tool_choice": "required"}, {("tool_choice",): "required"}),
        ({"tool_choice": {"type": "function", "name": "f"}}, {("tool_choice",): {"type": "function", "name": "f"}}),
        ({"tracing": "auto"}, {("tracing",): "auto"}),
        ({"include": []}, {("include",): []}),
        ({"truncation": "disabled"}, {("truncation",): "disabled"}),
        ({"parallel_tool_calls": False}, {("parallel_tool_calls",): False}),
        ({"prompt": None, "reasoning": None}, {}),
        ({"audio": {"input": {"format": {"type": "audio/pcmu"}}}}, {("input", "format"): "g711_ulaw"}),
        (
            {"audio": {"input": {"transcription": {"model": "whisper-1"}}}},
            {("input", "transcription"): {"model": "whisper-1"}},
        ),
        ({"audio": {"input": {"noise_reduction": None}}}, {("input", "noise_reduction"): None}),
        (
            {"audio": {"input": {"turn_detection": {"type": "semantic_vad"}}}},
            {("input", "turn_detection"): {"type": "semantic_vad"}},
        ),
        ({"audio": {"output": {"format": {"type": "audio/pcma"}}}}, {("output", "format"): "g711_alaw"}),
        ({"audio": {"output": {"speed": 1.2}}}, {("output", "speed"): 1.2}),
    ],
)
def test_each_realtime_field_lands_on_its_core_path(session: dict[str, Any], changes: dict[FieldPath, Any]) -> None:
    assert patch_of(**session) == SessionPatch("realtime", changes)


@pytest.mark.parametrize(
    ("wire", "name"),
    [
        (PCM, "pcm16"),
        ({"type": "audio/pcm"}, "pcm16"),
        ({"type": "audio/pcmu"}, "g711_ulaw"),
        ("g711_alaw", "g711_alaw"),
    ],
)
def test_format_objects_and_beta_format_names_are_accepted(wire: Any, name: str) -> None:
    assert patch_of(audio={"input": {"format": wire}}).changes == {("input", "format"): name}


def test_retention_ratio_truncation_is_honoured() -> None:
    truncation = {"type": "retention_ratio", "retention_ratio": 0.5, "token_limits": {"post_instructions": 8000}}
    patch = patch_of(truncation=truncation)
    assert patch == SessionPatch("realtime", {("truncation",): truncation})
    assert SessionConfig().patched(patch).truncation == RetentionRatio.model_validate(truncation)


def test_noise_reduction_without_strength_passes_its_type() -> None:
    wire = {"type": "far_field", "strength": None}
    assert patch_of(audio={"input": {"noise_reduction": wire}}).changes == {
        ("input", "noise_reduction"): {"type": "far_field"}
    }


def test_a_transcription_session_takes_audio_input_and_include() -> None:
    event = GA.decode(
        {
            "type": "session.update",
            "session": {
                "type": "transcription",
                "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe", "language": "en"}}},
                "include": ["item.input_audio_transcription.logprobs"],
            },
        }
    )
    assert event == ce.UpdateSession(
        None,
        SessionPatch(
            "transcription",
            {
                ("input", "transcription"): {"model": "gpt-4o-transcribe", "language": "en"},
                ("include",): ["item.input_audio_transcription.logprobs"],
            },
        ),
    )


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"tools": [{"type": "mcp", "server_label": "x"}]}, "unsupported_parameter", "session.tools[0].type"),
        ({"tool_choice": {"type": "mcp", "server_label": "x"}}, "unsupported_parameter", "session.tool_choice"),
        ({"prompt": {"id": "pmpt_1"}}, "unsupported_parameter", "session.prompt"),
        ({"reasoning": {"effort": "low"}}, "unsupported_parameter", "session.reasoning"),
        ({"audio": {"output": {"voice": {"id": "voice_1"}}}}, "unsupported_parameter", "session.audio.output.voice"),
        (
            {"audio": {"input": {"transcription": {"model": "whisper-1", "delay": "low"}}}},
            "unsupported_parameter",
            "session.audio.input.transcription.delay",
        ),
        (
            {"audio": {"input": {"transcription": {"keywords": ["realtalk"]}}}},
            "unsupported_parameter",
            "session.audio.input.transcription.keywords",
        ),
        (
            {"audio": {"input": {"transcription": {"languages": ["en", "it"]}}}},
            "unsupported_parameter",
            "session.audio.input.transcription.languages",
        ),
        (
            {"audio": {"input": {"noise_reduction": {"type": "near_field", "strength": 0.5}}}},
            "unsupported_parameter",
            "session.audio.input.noise_reduction.strength",
        ),
    ],
)
def test_what_realtalk_cannot_honour_is_refused_by_name(session: dict[str, Any], code: str, param: str) -> None:
    assert refusal(GA, update(**session)) == (code, param)


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"temperature": 0.7}, "unknown_parameter", "session.temperature"),
        ({"voice": "ash"}, "unknown_parameter", "session.voice"),
        ({"modalities": ["text"]}, "unknown_parameter", "session.modalities"),
        ({"input": {}}, "unknown_parameter", "session.input"),
        ({"audio": {"input": {"volume": 3}}}, "unknown_parameter", "session.audio.input.volume"),
        ({"audio": {"output": {"speed": 1.0, "pitch": 2}}}, "unknown_parameter", "session.audio.output.pitch"),
        ({"audio": {"both": {}}}, "unknown_parameter", "session.audio.both"),
        ({"audio": "loud"}, "invalid_type", "session.audio"),
        ({"output_modalities": ["text", "audio"]}, "invalid_value", "session.output_modalities"),
        (
            {"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
            "invalid_value",
            "session.audio.input.format",
        ),
        ({"audio": {"output": {"format": {"type": "audio/opus"}}}}, "invalid_value", "session.audio.output.format"),
    ],
)
def test_bad_session_shapes_are_refused_in_ga_names(session: dict[str, Any], code: str, param: str) -> None:
    assert refusal(GA, update(**session)) == (code, param)


@pytest.mark.parametrize(
    ("session", "code"), [({"instructions": "x"}, "missing_required_parameter"), ({"type": "chat"}, "invalid_value")]
)
def test_session_update_needs_a_session_type(session: dict[str, Any], code: str) -> None:
    assert refusal(GA, {"type": "session.update", "session": session}) == (code, "session.type")


def test_a_transcription_session_has_no_realtime_fields() -> None:
    data = {"type": "session.update", "session": {"type": "transcription", "instructions": "x"}}
    assert refusal(GA, data) == ("unknown_parameter", "session.instructions")


def test_beta_transcription_session_update_is_refused_with_the_ga_way() -> None:
    with pytest.raises(ProtocolError, match=re.escape("use session.update with session.type 'transcription'")):
        GA.decode({"type": "transcription_session.update", "session": {}})


# --- core errors, named in GA ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session", "param"),
    [
        ({"audio": {"input": {"turn_detection": {"threshold": 2}}}}, "session.audio.input.turn_detection.threshold"),
        ({"audio": {"output": {"voice": "nova"}}}, "session.audio.output.voice"),
        ({"max_output_tokens": 0}, "session.max_output_tokens"),
        ({"tool_choice": "get_weather"}, "session.tool_choice"),
    ],
)
def test_a_value_the_core_refuses_is_named_in_ga(session: dict[str, Any], param: str) -> None:
    assert invalid(SessionConfig(), patch_of(**session), GA) == param


# --- response.create and items ---------------------------------------------------------------------------


def test_response_create_decodes_ga_overrides() -> None:
    response = {
        "output_modalities": ["text"],
        "instructions": "Short.",
        "audio": {"output": {"voice": "ash", "format": {"type": "audio/pcmu"}}},
        "max_output_tokens": 2,
        "conversation": "none",
        "metadata": {"k": "v"},
        "parallel_tool_calls": False,
    }
    assert overrides_of(GA, response) == ce.ResponseOverrides(
        modality="text",
        instructions="Short.",
        voice="ash",
        output_format="g711_ulaw",
        max_output_tokens=2,
        conversation="none",
        metadata={"k": "v"},
        parallel_tool_calls=False,
    )


def test_response_create_without_a_response_overrides_nothing() -> None:
    assert GA.decode({"type": "response.create"}) == ce.CreateResponse(None, ce.ResponseOverrides())


@pytest.mark.parametrize(
    "name", ["modalities", "voice", "output_audio_format", "max_response_output_tokens", "temperature"]
)
def test_response_create_refuses_beta_names(name: str) -> None:
    data = {"type": "response.create", "response": {name: None}}
    assert refusal(GA, data) == ("unknown_parameter", f"response.{name}")


@pytest.mark.parametrize(
    ("response", "code", "param"),
    [
        ({"prompt": {"id": "p"}}, "unsupported_parameter", "response.prompt"),
        ({"audio": {"output": {"voice": {"id": "v"}}}}, "unsupported_parameter", "response.audio.output.voice"),
        ({"audio": {"output": {"speed": 1.0}}}, "unknown_parameter", "response.audio.output.speed"),
        ({"audio": {"output": {"voice": "nova"}}}, "invalid_value", "response.audio.output.voice"),
        ({"output_modalities": ["both"]}, "invalid_value", "response.output_modalities"),
        ({"max_output_tokens": 9999}, "invalid_value", "response.max_output_tokens"),
    ],
)
def test_bad_response_overrides_are_named_in_ga(response: dict[str, Any], code: str, param: str) -> None:
    assert refusal(GA, {"type": "response.create", "response": response}) == (code, param)


def test_response_input_items_are_ga_items() -> None:
    item = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Earlier."}]}
    event = GA.decode(
        {"type": "response.create", "response": {"input": [item, {"type": "item_reference", "id": "i1"}]}}
    )
    assert isinstance(event, ce.CreateResponse)
    assert event.overrides.input == [
        ItemParam(type="message", role="assistant", content=[ContentParam(type="output_text", text="Earlier.")]),
        ItemParam(type="item_reference", id="i1"),
    ]


def test_item_create_decodes_a_ga_item_with_its_audio() -> None:
    item = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "audio": "AAE=", "transcript": "hi"}],
    }
    assert GA.decode({"type": "conversation.item.create", "previous_item_id": "root", "item": item}) == ce.CreateItem(
        None,
        ItemParam(
            type="message",
            role="user",
            content=[ContentParam(type="input_audio", audio=b"\x00\x01", transcript="hi")],
        ),
        "root",
    )


@pytest.mark.parametrize(
    ("item", "code", "param"),
    [
        (
            {"type": "message", "role": "user", "content": [{"type": "input_image"}]},
            "unsupported_parameter",
            "item.content[0].type",
        ),
        (
            {"type": "message", "role": "assistant", "content": [{"type": "output_audio", "audio": "AA=="}]},
            "unsupported_parameter",
            "item.content[0].type",
        ),
        ({"type": "mcp_call", "id": "m"}, "unsupported_parameter", "item.type"),
        (
            {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "x"}]},
            "invalid_value",
            "item.content[0].type",
        ),
        (
            {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "%%"}]},
            "invalid_value",
            "item.content[0].audio",
        ),
        ({"type": "message", "role": "user", "colour": "red"}, "unknown_parameter", "item.colour"),
    ],
)
def test_bad_items_are_refused_by_name(item: dict[str, Any], code: str, param: str) -> None:
    assert refusal(GA, {"type": "conversation.item.create", "item": item}) == (code, param)


# --- server events ---------------------------------------------------------------------------------------

TURN_DETECTION = {**SERVER_VAD, "idle_timeout_ms": None}


def test_session_created_renders_the_ga_session_object() -> None:
    assert bodies(GA, SAMPLES[ev.SessionCreated]) == [
        {
            "type": "session.created",
            "session": {
                "type": "realtime",
                "object": "realtime.session",
                "id": "sess_1",
                "expires_at": EXPIRES,
                "include": None,
                "model": "gpt-realtime",
                "output_modalities": ["audio"],
                "instructions": DEFAULT_INSTRUCTIONS,
                "tools": [],
                "tool_choice": "auto",
                "max_output_tokens": "inf",
                "tracing": None,
                "truncation": "auto",
                "prompt": None,
                "audio": {
                    "input": {
                        "format": PCM,
                        "transcription": None,
                        "noise_reduction": None,
                        "turn_detection": TURN_DETECTION,
                    },
                    "output": {"format": PCM, "voice": "alloy", "speed": 1.0},
                },
            },
        }
    ]


def test_session_updated_shows_a_named_tool_choice_and_retention_ratio() -> None:
    tool = {"type": "function", "name": "get_weather", "description": None, "parameters": None}
    ratio = {"type": "retention_ratio", "retention_ratio": 0.5, "token_limits": None}
    config = SessionConfig().patched(
        patch_of(tools=[tool], tool_choice={"type": "function", "name": "get_weather"}, truncation=ratio)
    )
    session = bodies(GA, ev.SessionUpdated(ev.SessionInfo("sess_1", EXPIRES, config)))[0]["session"]
    assert (session["tools"], session["tool_choice"], session["truncation"]) == (
        [tool],
        {"type": "function", "name": "get_weather"},
        ratio,
    )


def test_a_semantic_vad_turn_detection_shows_only_its_knobs() -> None:
    config = SessionConfig().patched(
        patch_of(audio={"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}})
    )
    session = GA.session_object(ev.SessionInfo("sess_1", EXPIRES, config))
    assert session["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": True,
    }


def test_a_transcription_session_renders_only_audio_input() -> None:
    assert bodies(GA, ev.SessionCreated(TRANSCRIPTION)) == [
        {
            "type": "session.created",
            "session": {
                "type": "transcription",
                "object": "realtime.transcription_session",
                "id": "sess_2",
                "expires_at": EXPIRES,
                "include": None,
                "audio": {
                    "input": {
                        "format": PCM,
                        "transcription": {"model": "whisper-1", "language": None, "prompt": None},
                        "noise_reduction": None,
                        "turn_detection": {**TURN_DETECTION, "create_response": False, "interrupt_response": False},
                    }
                },
            },
        }
    ]


FUNCTION_CALL = {
    "id": "item_c",
    "object": "realtime.item",
    "type": "function_call",
    "status": "completed",
    "name": "get_weather",
    "call_id": "call_1",
    "arguments": '{"city":"Rome"}',
}
SPOKEN_ITEM = spoken_item("output_audio")


def test_a_finished_item_is_added_and_done() -> None:
    added = {"type": "conversation.item.added", "previous_item_id": "item_u", "item": FUNCTION_CALL}
    assert bodies(GA, ev.ItemCreated(CALL, "item_u")) == [added, {**added, "type": "conversation.item.done"}]


def test_an_item_still_in_progress_is_only_added() -> None:
    assert [body["type"] for body in bodies(GA, ev.ItemCreated(WRITTEN, None))] == ["conversation.item.added"]


def test_item_done_renders_conversation_item_done() -> None:
    assert bodies(GA, ev.ItemDone(SPOKEN, "item_u")) == [
        {"type": "conversation.item.done", "previous_item_id": "item_u", "item": SPOKEN_ITEM}
    ]


def test_idle_timeout_renders_timeout_triggered() -> None:
    assert bodies(GA, SAMPLES[ev.IdleTimeout]) == [
        {"type": "input_audio_buffer.timeout_triggered", "audio_start_ms": 0, "audio_end_ms": 5000, "item_id": "item_u"}
    ]


def test_a_keypad_press_renders_as_openai_sends_it_with_no_event_id() -> None:
    assert GA.encode(SAMPLES[ev.DtmfReceived]) == [
        {"type": "input_audio_buffer.dtmf_event_received", "event": "7", "received_at": 1_760_000_000}
    ]


def test_a_response_shows_modality_voice_and_format_the_ga_way() -> None:
    response = bodies(GA, SAMPLES[ev.ResponseDone])[0]["response"]
    assert {key: response[key] for key in ("output_modalities", "audio")} == {
        "output_modalities": ["audio"],
        "audio": {"output": {"format": {"type": "audio/pcmu"}, "voice": "ash"}},
    }
    assert not {"modalities", "voice", "output_audio_format", "temperature"} & set(response)


# --- REST: POST /v1/realtime/client_secrets -------------------------------------------------------------


def test_a_client_secret_request_is_a_ga_session_over_the_defaults() -> None:
    defaults = SessionConfig(model="m1", instructions="Hi.")
    body = {
        "expires_after": {"anchor": "created_at", "seconds": 30},
        "session": {"type": "realtime", "audio": {"output": {"voice": "sage"}}},
    }
    config, seconds = ga_rest.client_secret_request(body, defaults)
    assert (config, seconds) == (defaults.patched(SessionPatch("realtime", {("output", "voice"): "sage"})), 30)


def test_a_client_secret_lives_ten_minutes_and_opens_a_realtime_session_by_default() -> None:
    assert ga_rest.client_secret_request({}, SessionConfig()) == (SessionConfig(), 600)


def test_a_client_secret_may_open_a_transcription_session() -> None:
    config, _ = ga_rest.client_secret_request({"session": {"type": "transcription"}}, SessionConfig())
    assert config == TRANSCRIPTION.config


def test_the_client_secret_answer_holds_the_ga_session() -> None:
    answer = ga_rest.client_secret_response(REALTIME, "ek_1")
    assert answer == {"value": "ek_1", "expires_at": EXPIRES, "session": GA.session_object(REALTIME)}
