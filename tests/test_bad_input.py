"""Bad input never breaks a session: each bad frame gets one `error` event and the session carries on."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtalk.protocol import client_events
from realtalk.session import session as session_module
from tests.harness import SessionHarness, only, types


async def started(**kwargs: object) -> SessionHarness:
    harness = SessionHarness(**kwargs)  # type: ignore[arg-type]
    await harness.start()
    return harness


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
        ('{"type": "response.create", "response": {"temperature": 3}}', "invalid_value", "response.temperature"),
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
    events = await harness.request(frame)  # type: ignore[arg-type]
    assert types(events) == ["error"]
    error = events[0]["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert error["message"]
    await still_works(harness)


async def test_the_error_echoes_the_clients_event_id() -> None:
    harness = await started()
    events = await harness.request('{"type": "no.such.event", "event_id": "evt_42"}')  # type: ignore[arg-type]
    assert only(events, "error")["error"]["event_id"] == "evt_42"


async def test_binary_frames_are_refused() -> None:
    harness = await started()
    events = await harness.request(b"\x00\x01")  # type: ignore[arg-type]
    assert only(events, "error")["error"]["code"] == "invalid_event"
    await still_works(harness)


async def test_oversized_frames_are_refused_before_parsing() -> None:
    harness = await started(max_event_bytes=1000)
    events = await harness.request('{"type": "input_audio_buffer.append", "audio": "' + "A" * 2000 + '"}')  # type: ignore[arg-type]
    assert only(events, "error")["error"]["code"] == "event_too_large"
    await still_works(harness)


async def test_output_audio_buffer_clear_is_explained_over_websocket() -> None:
    harness = await started()
    error = only(await harness.request({"type": "output_audio_buffer.clear"}), "error")["error"]
    assert error["code"] == "unsupported_event"


async def test_transcription_session_update_is_refused_in_a_realtime_session() -> None:
    harness = await started()
    error = only(await harness.request({"type": "transcription_session.update", "session": {}}), "error")["error"]
    assert error["code"] == "unsupported_event"


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
    if harness.session._default_response is not None:
        await harness.until("response.done")
    harness.drain()
    await still_works(harness)
    await harness.close()
    assert harness.session.pending_tasks() == 0


async def test_a_server_bug_in_one_event_is_reported_and_the_session_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    harness = await started()

    async def broken(session: object, event: object) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(session_module._HANDLERS, client_events.RetrieveItem, broken)
    events = await harness.request({"type": "conversation.item.retrieve", "item_id": "x", "event_id": "r1"})
    error = only(events, "error")["error"]
    assert (error["type"], error["code"], error["event_id"]) == ("server_error", "internal_error", "r1")
    await still_works(harness)
