"""OpenTelemetry traces of sessions whose `tracing` is set: the span tree, its links, times and attributes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from realtalk.config import Settings
from realtalk.observability.app_observability import AppObservability
from realtalk.observability.tracing import otlp_endpoint, traces_url
from realtalk.server.app import create_app
from tests.live import LiveServer
from tests.test_metrics import finish, speak
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live
TRACING = {"workflow_name": "support line", "group_id": "team-7", "metadata": {"customer": "acme", "tier": 2}}


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def server(spans: InMemorySpanExporter) -> Iterator[LiveServer]:
    provider = TracerProvider()  # the test's own: nothing global is set, nothing leaks into other tests
    provider.add_span_processor(SimpleSpanProcessor(spans))
    with LiveServer(create_app(Settings(engines="scripted"), tracer_provider=provider)) as live:
        yield live
    provider.shutdown()


async def open_session(server: LiveServer, **session: Any) -> tuple[RealtimeClient, str]:
    """A GA session updated with `session`; its id."""
    client = await RealtimeClient.open(server.ws_url, ga=True)
    created = await client.receive()
    await client.send({"type": "session.update", "session": {"type": "realtime", **session}})
    await client.until("session.updated")
    return client, created["session"]["id"]


async def text_response(client: RealtimeClient) -> dict[str, Any]:
    """A typed question answered in text; the `response.done`."""
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "And tomorrow?"}]}
    await client.send({"type": "conversation.item.create", "item": item})
    await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    return (await client.until("response.done"))[-1]


def tree(spans: tuple[ReadableSpan, ...]) -> list[tuple[str, str | None]]:
    """Each span's name and its parent's name, sorted: the tree's shape, whatever order the spans started in."""
    by_id = {span.context.span_id: span for span in spans}
    return sorted((span.name, by_id[span.parent.span_id].name if span.parent is not None else None) for span in spans)


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


async def test_a_spoken_turn_and_a_text_response_make_one_trace_of_this_shape(
    server: LiveServer, spans: InMemorySpanExporter
) -> None:
    transcribed = {"input": {"transcription": {"model": "whisper-1"}}}
    client, session_id = await open_session(server, tracing=TRACING, audio=transcribed)
    await speak(client)
    spoken = await client.until("response.done")
    typed = await text_response(client)
    await finish(server, client)
    finished = spans.get_finished_spans()
    assert tree(finished) == sorted(
        [
            ("realtime.session", None),
            ("realtime.turn", "realtime.session"),
            ("speech_stopped", "realtime.turn"),
            ("transcription", "realtime.turn"),
            ("realtime.response", "realtime.session"),
            ("llm.first_token", "realtime.response"),
            ("tts.first_audio", "realtime.response"),
            ("realtime.response", "realtime.session"),
            ("llm.first_token", "realtime.response"),
        ]
    )
    assert len({span.context.trace_id for span in finished}) == 1
    (root,) = named(finished, "realtime.session")
    assert dict(root.attributes or {}) == {
        "session.id": session_id,
        "model": "gpt-realtime",
        "workflow_name": "support line",
        "group_id": "team-7",
        "metadata.customer": "acme",
        "metadata.tier": 2,
    }
    stopped = next(event for event in spoken if event["type"] == "input_audio_buffer.speech_stopped")
    (turn,) = named(finished, "realtime.turn")
    assert dict(turn.attributes or {}) == {"item.id": stopped["item_id"]}
    for done in (spoken[-1], typed):
        response = done["response"]
        (span,) = [s for s in named(finished, "realtime.response") if s.attributes["response.id"] == response["id"]]  # type: ignore[index]
        assert dict(span.attributes or {}) == {
            "response.id": response["id"],
            "response.status": "completed",
            "usage.input_tokens": response["usage"]["input_tokens"],
            "usage.output_tokens": response["usage"]["output_tokens"],
        }


async def test_each_span_lies_within_the_session_and_the_stages_follow_each_other(
    server: LiveServer, spans: InMemorySpanExporter
) -> None:
    client, _ = await open_session(server, tracing="auto", audio={"input": {"transcription": {"model": "whisper-1"}}})
    await speak(client)
    await client.until("response.done")
    await finish(server, client)
    finished = spans.get_finished_spans()
    (root,) = named(finished, "realtime.session")
    assert root.attributes is not None and root.attributes["workflow_name"] == "realtalk"
    for span in finished:
        assert span.start_time is not None and span.end_time is not None
        assert root.start_time <= span.start_time <= span.end_time <= root.end_time  # type: ignore[operator]
    (turn,), (stopped,), (transcription,) = (
        named(finished, n) for n in ("realtime.turn", "speech_stopped", "transcription")
    )
    (first_token,), (first_audio,) = (named(finished, n) for n in ("llm.first_token", "tts.first_audio"))
    assert turn.start_time == stopped.start_time  # the turn's latency starts where the speech ended
    assert stopped.end_time <= transcription.start_time <= transcription.end_time == turn.end_time  # type: ignore[operator]
    assert first_token.end_time == first_audio.start_time


async def test_a_session_without_tracing_makes_no_spans(server: LiveServer, spans: InMemorySpanExporter) -> None:
    client, _ = await open_session(server, tracing=None)
    await text_response(client)
    await finish(server, client)
    assert spans.get_finished_spans() == ()


async def test_tracing_enabled_mid_session_traces_from_then_on(server: LiveServer, spans: InMemorySpanExporter) -> None:
    client, _ = await open_session(server)
    untraced = await text_response(client)
    await client.send({"type": "session.update", "session": {"type": "realtime", "tracing": TRACING}})
    await client.until("session.updated")
    traced = await text_response(client)
    await finish(server, client)
    finished = spans.get_finished_spans()
    assert tree(finished) == sorted(
        [
            ("realtime.session", None),
            ("realtime.response", "realtime.session"),
            ("llm.first_token", "realtime.response"),
        ]
    )
    (response,) = named(finished, "realtime.response")
    assert response.attributes is not None and response.attributes["response.id"] == traced["response"]["id"]
    assert untraced["response"]["id"] != traced["response"]["id"]


async def test_tracing_once_enabled_cannot_be_changed_but_may_be_sent_again(server: LiveServer) -> None:
    client, _ = await open_session(server, tracing=TRACING)
    await client.send({"type": "session.update", "session": {"type": "realtime", "tracing": TRACING}})
    assert (await client.until("session.updated"))[-1]["session"]["tracing"] == TRACING
    for changed in (None, "auto", {**TRACING, "group_id": "team-8"}):
        await client.send(
            {"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "tracing": changed}}
        )
        error = (await client.until("error"))[-1]["error"]
        assert (error["type"], error["code"], error["param"], error["event_id"]) == (
            "invalid_request_error",
            "invalid_value",
            "session.tracing",
            "e1",
        )
    await finish(server, client)


def test_without_an_endpoint_nothing_is_traced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert AppObservability.create(Settings(engines="scripted")).tracer is None


def test_the_endpoint_is_the_flag_else_the_standard_variable() -> None:
    standard = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert otlp_endpoint("http://mine:4318", standard) == "http://mine:4318"
    assert otlp_endpoint(None, standard) == "http://collector:4318"
    assert otlp_endpoint(None, {}) is None


def test_an_otlp_base_url_gets_the_traces_path_once() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/v1/traces") == "http://collector:4318/v1/traces"


def test_an_endpoint_makes_an_exporting_provider_that_shutdown_flushes() -> None:
    observability = AppObservability.create(Settings(engines="scripted", otlp_endpoint="http://127.0.0.1:9"))
    assert observability.tracer is not None and observability.exporting is not None
    resource = observability.exporting.resource.attributes
    assert resource["service.name"] == "realtalk"
    observability.shutdown()
