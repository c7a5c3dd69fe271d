"""Bad input never breaks a session: each bad frame gets one `error` event and the session carries on."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtalk.engines.base import Samples
from tests.harness import SessionHarness, only, scripted_engines, types
from tests.signals import tone

pytestmark = pytest.mark.dialects("ga", "beta")


async def started(harness: SessionHarness | None = None) -> SessionHarness:
    harness = harness or SessionHarness()
    await harness.start()
    return harness


async def answer(harness: SessionHarness, frame: str | bytes) -> list[dict[str, Any]]:
    """Send one raw frame, as a client's socket delivers it, and return what the session emitted."""
    await harness.send(frame)
    return harness.drain()


async def still_works(harness: SessionHarness) -> None:
    assert types(await harness.request({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]


@pytest.mark.parametrize(
    ("frame", "code", "param"),
    [
        ("{not json", "invalid_json", None),
        ("", "invalid_json", None),
        ("[1, 2]", "invalid_event", None),
        ('"session.update"', "invalid_event", None),
        ("null", "invalid_event", None),
        ("{}", "invalid_event", "type"),
        ('{"type": 7}', "invalid_type", "type"),
        ('{"type": "scooby.dooby.doo"}', "invalid_value", "type"),
        ('{"type": "conversation.item.retrieve"}', "missing_required_parameter", "item_id"),
        ('{"type": "conversation.item.retrieve", "item_id": 5}', "invalid_type", "item_id"),
        (
            '{"type": "conversation.item.truncate", "item_id": "i", "content_index": 0, "audio_end_ms": -1}',
            "invalid_value",
            "audio_end_ms",
        ),
        ('{"type": "input_audio_buffer.append", "audio": 12}', "invalid_type", "audio"),
        ('{"type": "input_audio_buffer.commit", "surprise": true}', "unknown_parameter", "surprise"),
        (
            '{"type": "response.create", "response": {"conversation": "other"}}',
            "invalid_value",
            "response.conversation",
        ),
        ('{"type": "response.create", "response": {"metadata": {"k": 1}}}', "invalid_type", "response.metadata.k"),
        (
            '{"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": "hi"}}',
            "invalid_type",
            "item.content",
        ),
        ('{"type": "response.cancel", "response_id": ["r"]}', "invalid_type", "response_id"),
    ],
)
async def test_each_bad_frame_gets_a_specific_error(frame: str, code: str, param: str | None) -> None:
    harness = await started()
    events = await answer(harness, frame)
    assert types(events) == ["error"]
    error = events[0]["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert error["message"]
    await still_works(harness)


@pytest.mark.parametrize(
    ("ga", "beta", "code", "ga_param", "beta_param"),
    [
        ({"max_output_tokens": 0}, {"max_response_output_tokens": 0}, "invalid_value", "response.max_output_tokens",
         "response.max_response_output_tokens"),
        ({"output_modalities": ["video"]}, {"modalities": ["video"]}, "invalid_value", "response.output_modalities",
         "response.modalities"),
        ({"audio": {"output": {"voice": "robot"}}}, {"voice": "robot"}, "invalid_value",
         "response.audio.output.voice", "response.voice"),
    ],
)  # fmt: skip
async def test_bad_response_parameters_are_named_in_the_dialect(
    ga: dict[str, Any], beta: dict[str, Any], code: str, ga_param: str, beta_param: str
) -> None:
    harness = await started()
    events = await harness.request({"type": "response.create", "response": ga if harness.ga else beta})
    error = only(events, "error")["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        code,
        ga_param if harness.ga else beta_param,
    )
    await still_works(harness)


@pytest.mark.dialects("beta")  # GA responses have no temperature
async def test_a_beta_response_temperature_out_of_range_is_refused() -> None:
    harness = await started()
    events = await harness.request({"type": "response.create", "response": {"temperature": 3}})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "response.temperature")
    await still_works(harness)


async def test_the_error_echoes_the_clients_event_id() -> None:
    harness = await started()
    events = await answer(harness, '{"type": "no.such.event", "event_id": "evt_42"}')
    assert only(events, "error")["error"]["event_id"] == "evt_42"


async def test_binary_frames_are_refused() -> None:
    harness = await started()
    events = await answer(harness, b"\x00\x01")
    assert only(events, "error")["error"]["code"] == "invalid_event"
    await still_works(harness)


async def test_oversized_frames_are_refused_before_parsing() -> None:
    harness = await started(SessionHarness(max_event_bytes=1000))
    events = await answer(harness, '{"type": "input_audio_buffer.append", "audio": "' + "A" * 2000 + '"}')
    assert only(events, "error")["error"]["code"] == "event_too_large"
    await still_works(harness)


async def test_output_audio_buffer_clear_is_explained_over_websocket() -> None:
    harness = await started()
    error = only(await harness.request({"type": "output_audio_buffer.clear"}), "error")["error"]
    assert error["code"] == "unsupported_event"


async def test_transcription_session_update_is_refused_in_a_realtime_session() -> None:
    harness = await started()
    before = harness.session.config
    events = await harness.request({"type": "transcription_session.update", "session": {}})
    error = only(events, "error")["error"]
    if harness.ga:  # GA has no such event, and says what to send instead
        assert (error["code"], error["param"]) == ("invalid_value", "type")
        assert "session.update" in error["message"]
    else:  # beta's transcription session is a session type of its own
        assert (error["code"], error["param"]) == ("invalid_value", "session.type")
        assert "this is a realtime session" in error["message"]
    assert harness.session.config == before
    await still_works(harness)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
event_types = st.sampled_from(
    [
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "conversation.item.create",
        "conversation.item.truncate",
        "response.create",
        "response.cancel",
        "conversation.item.delete",
        "bogus",
    ]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=event_types,
    fields=st.dictionaries(
        st.sampled_from(
            [
                "session",
                "audio",
                "item",
                "item_id",
                "response",
                "previous_item_id",
                "content_index",
                "audio_end_ms",
                "response_id",
                "event_id",
            ]
        ),
        json_values,
        max_size=4,
    ),
)
async def test_arbitrary_events_never_break_the_session(kind: str, fields: dict[str, object]) -> None:
    harness = await started()
    await harness.send({"type": kind, **fields})
    if harness.session.responder.default is not None:
        await harness.until("response.done")
    harness.drain()
    await still_works(harness)
    await harness.close()
    assert harness.session.pending_tasks() == 0


class BrokenVADStream:
    async def process(self, frames: Samples) -> list[float]:
        raise RuntimeError("the VAD model crashed")


class BrokenVAD:
    """A voice-activity detector whose every frame fails, as a crashed model runtime does."""

    sample_rate = 16_000
    frame_samples = 512

    def open_stream(self) -> BrokenVADStream:
        return BrokenVADStream()


@pytest.mark.internal_error
async def test_a_server_failure_in_one_event_is_reported_and_the_session_goes_on() -> None:
    harness = await started(SessionHarness(engines=scripted_engines(vad=BrokenVAD())))
    audio = base64.b64encode(tone(100).tobytes()).decode()
    events = await harness.request({"type": "input_audio_buffer.append", "audio": audio, "event_id": "a1"})
    error = only(events, "error")["error"]
    assert (error["type"], error["code"], error["event_id"]) == ("server_error", "internal_error", "a1")
    await still_works(harness)
    assert types(await harness.say("still here")) == harness.expect(
        ["conversation.item.added", "conversation.item.done"]
    )
