"""What both dialects spell alike (`protocol.common`): the same envelopes in, the same events out."""

from __future__ import annotations

import base64
from typing import Any, get_args

import pytest

from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.common import MAX_APPEND_BYTES
from realtalk.protocol.errors import FieldPath
from realtalk.protocol.ga import GADialect
from realtalk.protocol.wire import Dialect
from tests.codec_checks import bodies, refusal
from tests.codec_samples import RESPONSE, SAMPLES, SPOKEN, WHERE, spoken_item

DIALECTS = [GADialect(), BetaDialect()]
both = pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)


@both
@pytest.mark.parametrize(
    ("data", "event"),
    [
        ({"type": "input_audio_buffer.append", "audio": "AAEC"}, ce.AppendInputAudio(None, b"\x00\x01\x02")),
        ({"type": "input_audio_buffer.commit", "event_id": "c1"}, ce.CommitInputAudio("c1")),
        ({"type": "input_audio_buffer.clear"}, ce.ClearInputAudio(None)),
        ({"type": "output_audio_buffer.clear"}, ce.ClearOutputAudio(None)),
        ({"type": "conversation.item.retrieve", "item_id": "item_1"}, ce.RetrieveItem(None, "item_1")),
        ({"type": "conversation.item.delete", "item_id": "item_1"}, ce.DeleteItem(None, "item_1")),
        (
            {"type": "conversation.item.truncate", "item_id": "item_1", "content_index": 0, "audio_end_ms": 640},
            ce.TruncateItem(None, "item_1", 0, 640),
        ),
        ({"type": "response.cancel", "response_id": "resp_1"}, ce.CancelResponse(None, "resp_1")),
        ({"type": "response.cancel"}, ce.CancelResponse(None, None)),
    ],
)
def test_shared_envelopes_decode_to_the_same_core_event(
    dialect: Dialect, data: dict[str, Any], event: ce.ClientEvent
) -> None:
    assert dialect.decode(data) == event


@both
@pytest.mark.parametrize(
    ("data", "code", "param"),
    [
        ({"event_id": "e1"}, "invalid_event", "type"),
        ({"type": 7}, "invalid_type", "type"),
        ({"type": "session.delete"}, "invalid_value", "type"),
        ({"type": "input_audio_buffer.commit", "volume": 3}, "unknown_parameter", "volume"),
        ({"type": "input_audio_buffer.append", "audio": "not base64!"}, "invalid_value", "audio"),
        ({"type": "input_audio_buffer.append"}, "missing_required_parameter", "audio"),
        (
            {"type": "conversation.item.truncate", "item_id": "i", "content_index": -1, "audio_end_ms": 0},
            "invalid_value",
            "content_index",
        ),
        ({"type": "response.cancel", "response_id": 5}, "invalid_type", "response_id"),
        ({"type": "session.update"}, "missing_required_parameter", "session"),
    ],
)
def test_bad_envelopes_are_refused_naming_the_field(
    dialect: Dialect, data: dict[str, Any], code: str, param: str
) -> None:
    assert refusal(dialect, data) == (code, param)


@both
def test_an_append_over_fifteen_mebibytes_is_refused(dialect: Dialect) -> None:
    audio = base64.b64encode(bytes(MAX_APPEND_BYTES + 1)).decode()
    assert refusal(dialect, {"type": "input_audio_buffer.append", "audio": audio}) == ("audio_too_large", "audio")


@both
def test_every_server_event_type_has_a_rendering(dialect: Dialect) -> None:
    assert set(SAMPLES) == set(get_args(ev.ServerEvent))
    for event in SAMPLES.values():
        dialect.encode(event)  # the suite's oracle checks each object against the official types


@both
def test_each_encoded_event_gets_a_fresh_event_id(dialect: Dialect) -> None:
    first, second = (dialect.encode(SAMPLES[ev.InputAudioCleared])[0]["event_id"] for _ in range(2))
    assert first != second


@both
@pytest.mark.parametrize(
    ("event", "body"),
    [
        (
            SAMPLES[ev.ConversationCreated],
            {"type": "conversation.created", "conversation": {"id": "conv_1", "object": "realtime.conversation"}},
        ),
        (
            SAMPLES[ev.ItemTruncated],
            {"type": "conversation.item.truncated", "item_id": "item_a", "content_index": 0, "audio_end_ms": 120},
        ),
        (SAMPLES[ev.ItemDeleted], {"type": "conversation.item.deleted", "item_id": "item_a"}),
        (
            SAMPLES[ev.InputAudioCommitted],
            {"type": "input_audio_buffer.committed", "previous_item_id": None, "item_id": "item_u"},
        ),
        (SAMPLES[ev.InputAudioCleared], {"type": "input_audio_buffer.cleared"}),
        (
            SAMPLES[ev.SpeechStarted],
            {"type": "input_audio_buffer.speech_started", "audio_start_ms": 100, "item_id": "item_u"},
        ),
        (
            SAMPLES[ev.SpeechStopped],
            {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900, "item_id": "item_u"},
        ),
        (
            SAMPLES[ev.TranscriptionDelta],
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": "item_u",
                "content_index": 0,
                "delta": "Hel",
                "logprobs": [{"token": "Hel", "logprob": -0.5, "bytes": [72, 101, 108]}],
            },
        ),
        (
            SAMPLES[ev.TranscriptionCompleted],
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": "item_u",
                "content_index": 0,
                "transcript": "Hello",
                "usage": {"type": "duration", "seconds": 1.5},
            },
        ),
        (
            SAMPLES[ev.TranscriptionFailed],
            {
                "type": "conversation.item.input_audio_transcription.failed",
                "item_id": "item_u",
                "content_index": 0,
                "error": {
                    "type": "transcription_error",
                    "code": "transcription_failed",
                    "message": "no speech",
                    "param": None,
                },
            },
        ),
        (
            SAMPLES[ev.RateLimitsUpdated],
            {
                "type": "rate_limits.updated",
                "rate_limits": [{"name": "requests", "limit": 100, "remaining": 99, "reset_seconds": 1.5}],
            },
        ),
        (
            SAMPLES[ev.ContentPartAdded],
            {"type": "response.content_part.added", **WHERE, "part": {"type": "audio", "transcript": ""}},
        ),
        (
            SAMPLES[ev.ContentPartDone],
            {"type": "response.content_part.done", **WHERE, "part": {"type": "text", "text": "Hi."}},
        ),
        (
            SAMPLES[ev.FunctionArgumentsDelta],
            {
                "type": "response.function_call_arguments.delta",
                "response_id": "resp_1",
                "item_id": "item_c",
                "output_index": 1,
                "call_id": "call_1",
                "delta": '{"ci',
            },
        ),
    ],
)
def test_shared_events_render_the_same_in_both(dialect: Dialect, event: ev.ServerEvent, body: dict[str, Any]) -> None:
    assert bodies(dialect, event) == [body]


@both
def test_an_error_naming_a_wire_field_keeps_its_name(dialect: Dialect) -> None:
    assert bodies(dialect, SAMPLES[ev.Error]) == [
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "code": "invalid_value",
                "message": "Bad.",
                "param": "x",
                "event_id": "c1",
            },
        }
    ]


# --- one idea, each dialect's names ----------------------------------------------------------------------

GA, BETA = DIALECTS
STREAMS = [
    (GA, "text", "response.output_text"),
    (GA, "transcript", "response.output_audio_transcript"),
    (GA, "audio", "response.output_audio"),
    (BETA, "text", "response.text"),
    (BETA, "transcript", "response.audio_transcript"),
    (BETA, "audio", "response.audio"),
]
streams = pytest.mark.parametrize(("dialect", "kind", "name"), STREAMS, ids=lambda v: getattr(v, "name", v))
CHUNKS: dict[ev.StreamKind, tuple[str | bytes, str]] = {
    "text": ("Hi", "Hi"),
    "transcript": ("Hi", "Hi"),
    "audio": (b"\x00\x01", "AAE="),
}
FINALS: dict[ev.StreamKind, dict[str, str]] = {
    "text": {"text": "Hi."},
    "transcript": {"transcript": "Hi."},
    "audio": {},
}


@streams
def test_stream_deltas_use_each_dialects_event_names(dialect: Dialect, kind: ev.StreamKind, name: str) -> None:
    chunk, sent = CHUNKS[kind]
    delta = ev.ContentDelta("resp_1", "item_a", 0, 0, kind, chunk)
    assert bodies(dialect, delta) == [{"type": f"{name}.delta", **WHERE, "delta": sent}]


@streams
def test_stream_ends_use_each_dialects_event_names(dialect: Dialect, kind: ev.StreamKind, name: str) -> None:
    done = ev.ContentDone("resp_1", "item_a", 0, 0, kind, "" if kind == "audio" else "Hi.")
    assert bodies(dialect, done) == [{"type": f"{name}.done", **WHERE, **FINALS[kind]}]


content_names = pytest.mark.parametrize(
    ("dialect", "audio_name", "text_name"),
    [(GA, "output_audio", "output_text"), (BETA, "audio", "text")],
    ids=["ga", "beta"],
)


@content_names
def test_output_items_use_each_dialects_content_names(dialect: Dialect, audio_name: str, text_name: str) -> None:
    assert bodies(dialect, SAMPLES[ev.OutputItemDone]) == [
        {
            "type": "response.output_item.done",
            "response_id": "resp_1",
            "output_index": 0,
            "item": spoken_item(audio_name),
        }
    ]
    added = bodies(dialect, SAMPLES[ev.OutputItemAdded])[0]
    assert (added["type"], added["item"]["content"]) == (
        "response.output_item.added",
        [{"type": text_name, "text": "Hi."}],
    )


@content_names
def test_a_retrieved_item_carries_its_audio(dialect: Dialect, audio_name: str, text_name: str) -> None:
    assert bodies(dialect, ev.ItemRetrieved(SPOKEN)) == [
        {"type": "conversation.item.retrieved", "item": spoken_item(audio_name, audio="AAE=")}
    ]


@content_names
@pytest.mark.parametrize(
    ("kind", "name"), [(ev.ResponseCreated, "response.created"), (ev.ResponseDone, "response.done")]
)
def test_responses_share_their_core_fields(
    dialect: Dialect, audio_name: str, text_name: str, kind: type[ev.ResponseCreated | ev.ResponseDone], name: str
) -> None:
    (body,) = bodies(dialect, kind(RESPONSE))
    shared = ("id", "object", "status", "status_details", "conversation_id", "max_output_tokens", "metadata", "usage")
    assert (body["type"], {key: body["response"][key] for key in shared}) == (
        name,
        {
            "id": "resp_1",
            "object": "realtime.response",
            "status": "completed",
            "status_details": {"type": "completed"},
            "conversation_id": "conv_1",
            "max_output_tokens": "inf",
            "metadata": None,
            "usage": {
                "total_tokens": 10,
                "input_tokens": 3,
                "output_tokens": 7,
                "input_token_details": {"cached_tokens": 0, "text_tokens": 1, "audio_tokens": 2},
                "output_token_details": {"text_tokens": 3, "audio_tokens": 4},
            },
        },
    )
    assert body["response"]["output"] == [spoken_item(audio_name)]


@pytest.mark.parametrize(("dialect", "named"), [(GA, {"name": "get_weather"}), (BETA, {})], ids=["ga", "beta"])
def test_function_arguments_done_names_the_function_in_ga_only(dialect: Dialect, named: dict[str, str]) -> None:
    assert bodies(dialect, SAMPLES[ev.FunctionArgumentsDone]) == [
        {
            "type": "response.function_call_arguments.done",
            "response_id": "resp_1",
            "item_id": "item_c",
            "output_index": 1,
            "call_id": "call_1",
            "arguments": "{}",
            **named,
        }
    ]


@pytest.mark.parametrize(
    ("dialect", "param"), [(GA, "session.audio.output.speed"), (BETA, "session.speed")], ids=["ga", "beta"]
)
def test_an_error_event_names_a_core_path_in_each_dialect(dialect: Dialect, param: str) -> None:
    error = ev.Error(
        "Invalid value for {param}: 2.", code="invalid_value", event_id="u1", path=("session", "output", "speed")
    )
    assert bodies(dialect, error) == [
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "code": "invalid_value",
                "message": f"Invalid value for '{param}': 2.",
                "param": param,
                "event_id": "u1",
            },
        }
    ]


@pytest.mark.parametrize(
    ("path", "ga", "beta"),
    [
        (("session", "modality"), "session.output_modalities", "session.modalities"),
        (("session", "input", "format"), "session.audio.input.format", "session.input_audio_format"),
        (
            ("session", "input", "transcription", "language"),
            "session.audio.input.transcription.language",
            "session.input_audio_transcription.language",
        ),
        (
            ("session", "input", "noise_reduction", "type"),
            "session.audio.input.noise_reduction.type",
            "session.input_audio_noise_reduction.type",
        ),
        (
            ("session", "input", "turn_detection", "threshold"),
            "session.audio.input.turn_detection.threshold",
            "session.turn_detection.threshold",
        ),
        (("session", "output", "format"), "session.audio.output.format", "session.output_audio_format"),
        (("session", "output", "voice"), "session.audio.output.voice", "session.voice"),
        (("session", "output", "speed"), "session.audio.output.speed", "session.speed"),
        (("session", "max_output_tokens"), "session.max_output_tokens", "session.max_response_output_tokens"),
        (("session", "tools", 0, "name"), "session.tools[0].name", "session.tools[0].name"),
        (("response", "modality"), "response.output_modalities", "response.modalities"),
        (("response", "voice"), "response.audio.output.voice", "response.voice"),
        (("response", "output_format"), "response.audio.output.format", "response.output_audio_format"),
        (("response", "max_output_tokens"), "response.max_output_tokens", "response.max_response_output_tokens"),
        (
            ("response", "input", 0, "content", 0, "type"),
            "response.input[0].content[0].type",
            "response.input[0].content[0].type",
        ),
        (("item", "content", 0, "type"), "item.content[0].type", "item.content[0].type"),
    ],
)
def test_core_paths_are_named_in_each_dialect(path: FieldPath, ga: str, beta: str) -> None:
    assert (GA.param(path), BETA.param(path)) == (ga, beta)
