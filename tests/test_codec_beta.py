"""The beta codec (`protocol.beta`): beta shapes decoded into the core's exact objects, and rendered back."""

from __future__ import annotations

from typing import Any

import pytest

from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.beta import rest as beta_rest
from realtalk.protocol.config import DEFAULT_INSTRUCTIONS, NamedFunction, RetentionRatio, SessionConfig, SessionPatch
from realtalk.protocol.errors import FieldPath
from realtalk.protocol.items import ContentParam, ItemParam
from tests.codec_checks import bodies, decoded_patch, invalid, overrides_of, refusal
from tests.codec_samples import EXPIRES, REALTIME, SAMPLES, SERVER_VAD, SPOKEN, TRANSCRIPTION, VAD, spoken_item

BETA = BetaDialect()


def update(**session: Any) -> dict[str, Any]:
    return {"type": "session.update", "event_id": "u1", "session": session}


def transcription_update(**session: Any) -> dict[str, Any]:
    return {"type": "transcription_session.update", "session": session}


# --- session.update --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session", "changes"),
    [
        ({"voice": "ash"}, {("output", "voice"): "ash"}),
        ({"model": "gpt-realtime"}, {("model",): "gpt-realtime"}),
        ({"instructions": "Be brief."}, {("instructions",): "Be brief."}),
        ({"modalities": ["text"]}, {("modality",): "text"}),
        ({"modalities": ["text", "audio"]}, {("modality",): "audio"}),
        ({"modalities": ["audio"]}, {("modality",): "audio"}),
        ({"input_audio_format": "g711_ulaw"}, {("input", "format"): "g711_ulaw"}),
        ({"output_audio_format": "g711_alaw"}, {("output", "format"): "g711_alaw"}),
        ({"input_audio_transcription": {"model": "whisper-1"}}, {("input", "transcription"): {"model": "whisper-1"}}),
        (
            {"input_audio_noise_reduction": {"type": "near_field"}},
            {("input", "noise_reduction"): {"type": "near_field"}},
        ),
        ({"turn_detection": None}, {("input", "turn_detection"): None}),
        (
            {"turn_detection": {"type": "server_vad", "threshold": 0.7}},
            {("input", "turn_detection"): {"type": "server_vad", "threshold": 0.7}},
        ),
        ({"tools": []}, {("tools",): []}),
        ({"tool_choice": "none"}, {("tool_choice",): "none"}),
        ({"temperature": 0.7}, {("temperature",): 0.7}),
        ({"max_response_output_tokens": 200}, {("max_output_tokens",): 200}),
        ({"speed": 1.2}, {("output", "speed"): 1.2}),
        ({"tracing": "auto"}, {("tracing",): "auto"}),
        ({"include": []}, {("include",): []}),
        ({"truncation": "auto"}, {("truncation",): "auto"}),
        ({"parallel_tool_calls": False}, {("parallel_tool_calls",): False}),
    ],
)
def test_each_realtime_field_lands_on_its_core_path(session: dict[str, Any], changes: dict[FieldPath, Any]) -> None:
    assert decoded_patch(BETA, update(**session)) == SessionPatch("realtime", changes)


def test_a_bare_tool_choice_names_a_function() -> None:
    tool = {"type": "function", "name": "get_weather"}
    patch = decoded_patch(BETA, update(tools=[tool], tool_choice="get_weather"))
    assert patch.changes[("tool_choice",)] == {"type": "function", "name": "get_weather"}
    assert SessionConfig().patched(patch).tool_choice == NamedFunction(name="get_weather")


def test_retention_ratio_truncation_is_passed_to_the_core() -> None:
    ratio = {"type": "retention_ratio", "retention_ratio": 0.8}
    assert SessionConfig().patched(decoded_patch(BETA, update(truncation=ratio))).truncation == RetentionRatio(
        retention_ratio=0.8
    )


def test_a_session_type_chooses_the_patch_type() -> None:
    assert decoded_patch(BETA, update(type="transcription")) == SessionPatch("transcription", {})


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"output_modalities": ["text"]}, "unknown_parameter", "session.output_modalities"),
        ({"audio": {"output": {"voice": "ash"}}}, "unknown_parameter", "session.audio"),
        ({"max_output_tokens": 5}, "unknown_parameter", "session.max_output_tokens"),
        ({"client_secret": {}}, "unknown_parameter", "session.client_secret"),
        (
            {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 6000}},
            "unknown_parameter",
            "session.turn_detection.idle_timeout_ms",
        ),
        ({"modalities": []}, "invalid_value", "session.modalities"),
        ({"type": "chat"}, "invalid_value", "session.type"),
    ],
)
def test_ga_names_and_bad_shapes_are_refused_in_beta_names(session: dict[str, Any], code: str, param: str) -> None:
    assert refusal(BETA, update(**session)) == (code, param)


# --- transcription_session.update ----------------------------------------------------------------------


def test_transcription_session_update_is_a_transcription_patch() -> None:
    data = transcription_update(
        input_audio_transcription={"model": "gpt-4o-mini-transcribe"},
        input_audio_format="g711_ulaw",
        turn_detection={"type": "server_vad", "silence_duration_ms": 300},
        include=["item.input_audio_transcription.logprobs"],
    )
    assert decoded_patch(BETA, data) == SessionPatch(
        "transcription",
        {
            ("input", "transcription"): {"model": "gpt-4o-mini-transcribe"},
            ("input", "format"): "g711_ulaw",
            ("input", "turn_detection"): {"type": "server_vad", "silence_duration_ms": 300},
            ("include",): ["item.input_audio_transcription.logprobs"],
        },
    )


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        (
            {"input_audio_transcription": {"model": "whisper-2"}},
            "invalid_value",
            "session.input_audio_transcription.model",
        ),
        (
            {"turn_detection": {"type": "server_vad", "create_response": True}},
            "unknown_parameter",
            "session.turn_detection.create_response",
        ),
        ({"voice": "ash"}, "unknown_parameter", "session.voice"),
        ({"type": "transcription"}, "unknown_parameter", "session.type"),
    ],
)
def test_transcription_session_fields_are_beta_transcription_fields(
    session: dict[str, Any], code: str, param: str
) -> None:
    assert refusal(BETA, transcription_update(**session)) == (code, param)


# --- core errors, named in beta -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (("session", "output", "voice"), "voice"),
        (("session", "input", "turn_detection", "silence_duration_ms"), "turn_detection.silence_duration_ms"),
        (("session", "max_output_tokens"), "max_response_output_tokens"),
        (("client_secret", "expires_after", "seconds"), "client_secret.expires_after.seconds"),
    ],
)
def test_a_rest_body_names_fields_from_its_root(path: FieldPath, name: str) -> None:
    assert beta_rest.body_param(path) == name


@pytest.mark.parametrize(
    ("session", "param"),
    [
        ({"turn_detection": {"threshold": 2}}, "session.turn_detection.threshold"),
        ({"voice": "nova"}, "session.voice"),
        ({"max_response_output_tokens": 0}, "session.max_response_output_tokens"),
        ({"tool_choice": "get_weather"}, "session.tool_choice"),
    ],
)
def test_a_value_the_core_refuses_is_named_in_beta(session: dict[str, Any], param: str) -> None:
    assert invalid(SessionConfig(), decoded_patch(BETA, update(**session)), BETA) == param


# --- response.create and items ---------------------------------------------------------------------------


def test_response_create_decodes_beta_overrides() -> None:
    response = {
        "modalities": ["text"],
        "voice": "ash",
        "output_audio_format": "g711_alaw",
        "temperature": 0.7,
        "max_response_output_tokens": 3,
        "tool_choice": "none",
        "input": [{"type": "message", "role": "assistant", "content": [{"type": "text", "text": "Earlier."}]}],
    }
    assert overrides_of(BETA, response) == ce.ResponseOverrides(
        modality="text",
        voice="ash",
        output_format="g711_alaw",
        temperature=0.7,
        max_output_tokens=3,
        tool_choice="none",
        input=[
            ItemParam(type="message", role="assistant", content=[ContentParam(type="output_text", text="Earlier.")])
        ],
    )


@pytest.mark.parametrize("name", ["output_modalities", "audio", "max_output_tokens", "prompt", "reasoning"])
def test_response_create_refuses_ga_names(name: str) -> None:
    assert refusal(BETA, {"type": "response.create", "response": {name: None}}) == (
        "unknown_parameter",
        f"response.{name}",
    )


@pytest.mark.parametrize(
    ("response", "param"),
    [
        ({"max_response_output_tokens": 0}, "response.max_response_output_tokens"),
        ({"output_audio_format": "mp3"}, "response.output_audio_format"),
        ({"modalities": ["video"]}, "response.modalities"),
    ],
)
def test_bad_response_overrides_are_named_in_beta(response: dict[str, Any], param: str) -> None:
    assert refusal(BETA, {"type": "response.create", "response": response}) == ("invalid_value", param)


def test_item_create_turns_beta_text_into_core_output_text() -> None:
    item = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "Hi."}]}
    assert BETA.decode({"type": "conversation.item.create", "item": item}) == ce.CreateItem(
        None, ItemParam(type="message", role="assistant", content=[ContentParam(type="output_text", text="Hi.")]), None
    )


def test_item_create_refuses_ga_content_names() -> None:
    item = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi."}]}
    assert refusal(BETA, {"type": "conversation.item.create", "item": item}) == (
        "invalid_value",
        "item.content[0].type",
    )


# --- server events ---------------------------------------------------------------------------------------

SESSION = {
    "id": "sess_1",
    "object": "realtime.session",
    "expires_at": EXPIRES,
    "model": "gpt-realtime",
    "modalities": ["text", "audio"],
    "instructions": DEFAULT_INSTRUCTIONS,
    "voice": "alloy",
    "input_audio_format": "pcm16",
    "output_audio_format": "pcm16",
    "input_audio_transcription": None,
    "input_audio_noise_reduction": None,
    "turn_detection": SERVER_VAD,
    "tools": [],
    "tool_choice": "auto",
    "temperature": 0.8,
    "max_response_output_tokens": "inf",
    "speed": 1.0,
    "tracing": None,
}
TRANSCRIPTION_SESSION = {
    "modalities": ["text"],
    "input_audio_format": "pcm16",
    "input_audio_transcription": {"model": "whisper-1", "language": None, "prompt": None},
    "turn_detection": VAD,
    "client_secret": None,
}


@pytest.mark.parametrize(
    ("kind", "name"), [(ev.SessionCreated, "session.created"), (ev.SessionUpdated, "session.updated")]
)
def test_session_events_render_the_beta_session(kind: type[ev.SessionCreated | ev.SessionUpdated], name: str) -> None:
    assert bodies(BETA, kind(REALTIME)) == [{"type": name, "session": SESSION}]


@pytest.mark.parametrize(
    ("kind", "name"),
    [(ev.SessionCreated, "transcription_session.created"), (ev.SessionUpdated, "transcription_session.updated")],
)
def test_a_transcription_session_renders_as_transcription_session_events(
    kind: type[ev.SessionCreated | ev.SessionUpdated], name: str
) -> None:
    assert bodies(BETA, kind(TRANSCRIPTION)) == [{"type": name, "session": TRANSCRIPTION_SESSION}]


def test_a_named_tool_choice_shows_as_the_bare_name() -> None:
    tools = [{"type": "function", "name": "get_weather"}]
    config = SessionConfig().patched(decoded_patch(BETA, update(tools=tools, tool_choice="get_weather")))
    assert BETA.session_object(ev.SessionInfo("sess_1", EXPIRES, config))["tool_choice"] == "get_weather"


SPOKEN_ITEM = spoken_item("audio")


def test_item_created_renders_conversation_item_created() -> None:
    assert bodies(BETA, ev.ItemCreated(SPOKEN, "item_u")) == [
        {"type": "conversation.item.created", "previous_item_id": "item_u", "item": SPOKEN_ITEM}
    ]


@pytest.mark.parametrize("kind", [ev.ItemDone, ev.IdleTimeout, ev.DtmfReceived])
def test_events_beta_lacks_render_as_nothing(kind: type[Any]) -> None:
    assert bodies(BETA, SAMPLES[kind]) == []


def test_a_response_shows_modality_voice_and_format_the_beta_way() -> None:
    response = bodies(BETA, SAMPLES[ev.ResponseDone])[0]["response"]
    assert {key: response[key] for key in ("modalities", "voice", "output_audio_format", "temperature")} == {
        "modalities": ["text", "audio"],
        "voice": "ash",
        "output_audio_format": "g711_ulaw",
        "temperature": 0.8,
    }
    assert not {"output_modalities", "audio"} & set(response)


# --- REST: POST /v1/realtime/sessions and /transcription_sessions ---------------------------------------


def test_a_session_request_is_a_beta_session_over_the_defaults() -> None:
    defaults = SessionConfig(model="m1", instructions="Hi.")
    body = {"voice": "verse", "client_secret": {"expires_after": {"anchor": "created_at", "seconds": 600}}}
    assert beta_rest.session_request(body, defaults) == (
        defaults.patched(SessionPatch("realtime", {("output", "voice"): "verse"})),
        600,
    )


def test_a_session_secret_lives_a_minute_by_default() -> None:
    assert beta_rest.session_request({}, SessionConfig()) == (SessionConfig(), 60)


def test_a_transcription_request_opens_a_transcription_session() -> None:
    body = {"input_audio_format": "g711_ulaw", "client_secret": {"expires_at": {"seconds": 120}}}
    config, seconds = beta_rest.transcription_request(body, SessionConfig())
    expected = TRANSCRIPTION.config.patched(SessionPatch("transcription", {("input", "format"): "g711_ulaw"}))
    assert (config, seconds) == (expected, 120)


def test_the_session_answer_is_the_session_with_its_secret() -> None:
    answer = beta_rest.session_response(REALTIME, "ek_1")
    assert answer == {**SESSION, "client_secret": {"value": "ek_1", "expires_at": EXPIRES}}


def test_the_transcription_answer_shows_every_transcription_setting() -> None:
    assert beta_rest.transcription_response(TRANSCRIPTION, "ek_1") == {
        "id": "sess_2",
        "object": "realtime.transcription_session",
        "expires_at": EXPIRES,
        "modalities": ["text"],
        "input_audio_format": "pcm16",
        "input_audio_transcription": {"model": "whisper-1", "language": None, "prompt": None},
        "turn_detection": {**VAD, "eagerness": "auto"},
        "input_audio_noise_reduction": None,
        "include": [],
        "client_secret": {"value": "ek_1", "expires_at": EXPIRES},
    }
