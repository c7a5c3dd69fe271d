"""OpenTelemetry tracing: where spans go (OTLP over HTTP) and how one session's trace is drawn.

A session whose `tracing` field is set is one trace:

    realtime.session                 the whole session (from when tracing was enabled)
    ├── realtime.turn                a user turn: from the end of speech (or the commit) to its transcript
    │   ├── speech_stopped           end of speech → `speech_stopped` (the silence window, the judge)
    │   └── transcription            commit → transcript completed (or failed)
    └── realtime.response            `response.created` → `response.done`: status, usage
        ├── llm.first_token          `response.created` → the first words sent (text or transcript)
        └── tts.first_audio          the first words → the first audio sent

Times are when the server did each thing, taken from a monotonic clock and placed on the wall clock once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from realtalk.protocol import events as ev
from realtalk.protocol.config import SessionConfig, Tracing

SERVICE_NAME = "realtalk"
TRACES_PATH = "/v1/traces"
AUTO_WORKFLOW = "realtalk"  # `tracing: "auto"`: the workflow name a trace gets when the client names none
MAX_METADATA_KEYS = 32
MAX_KEY_CHARS = 64
MAX_VALUE_CHARS = 256


def otlp_endpoint(configured: str | None, environ: Mapping[str, str]) -> str | None:
    """Where traces go: `--otlp-endpoint` / `REALTALK_OTLP_ENDPOINT`, else the standard OTEL variable."""
    return configured or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None


def traces_url(endpoint: str) -> str:
    """An OTLP base URL (as `OTEL_EXPORTER_OTLP_ENDPOINT` is) gets the traces path; a full one is kept."""
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def otlp_tracer_provider(endpoint: str) -> TracerProvider:
    """Spans batched and exported over OTLP/HTTP (protobuf) to `endpoint`, as service `realtalk`."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
    return provider


def tracing_attributes(tracing: str | Tracing) -> dict[str, AttributeValue]:
    """The session's `tracing` field as span attributes, `metadata.<key>` included, each of bounded size."""
    if not isinstance(tracing, Tracing):
        return {"workflow_name": AUTO_WORKFLOW}
    attributes: dict[str, AttributeValue] = {"workflow_name": _bounded(tracing.workflow_name or AUTO_WORKFLOW)}
    if tracing.group_id is not None:
        attributes["group_id"] = _bounded(tracing.group_id)
    for key, value in list((tracing.metadata or {}).items())[:MAX_METADATA_KEYS]:
        attributes[f"metadata.{key[:MAX_KEY_CHARS]}"] = _attribute(value)
    return attributes


def _attribute(value: Any) -> AttributeValue:
    if isinstance(value, bool | int | float):
        return value
    return _bounded(value if isinstance(value, str) else orjson.dumps(value).decode())


def _bounded(text: str) -> str:
    return text[:MAX_VALUE_CHARS]


@dataclass
class _Turn:
    span: Span
    committed: float


@dataclass
class _Response:
    span: Span
    created: float
    first_words: float | None = None


class SessionTrace:
    """One session's trace, drawn from stamps (`time.perf_counter()` seconds) its observer takes."""

    def __init__(
        self, tracer: Tracer, session_id: str, config: SessionConfig, tracing: str | Tracing, at: float
    ) -> None:
        self._tracer = tracer
        self._epoch_ns = time.time_ns() - int(time.perf_counter() * 1e9)  # this trace's perf_counter → wall clock
        self._started = at
        self._root = tracer.start_span(
            "realtime.session",
            context=trace.set_span_in_context(trace.INVALID_SPAN),  # a trace of its own, whatever is current
            start_time=self._ns(at),
            attributes={"session.id": session_id, "model": config.model, **tracing_attributes(tracing)},
        )
        self._context = trace.set_span_in_context(self._root)
        self._turns: dict[str, _Turn] = {}
        self._responses: dict[str, _Response] = {}

    def _ns(self, at: float) -> int:
        return self._epoch_ns + int(at * 1e9)

    def _span(self, name: str, start: float, end: float | None = None, parent: Span | None = None) -> Span:
        context = trace.set_span_in_context(parent) if parent is not None else self._context
        start = max(start, self._started)  # a turn under way when tracing was enabled is traced from then
        span = self._tracer.start_span(name, context=context, start_time=self._ns(start))
        if end is not None:
            span.end(self._ns(end))
        return span

    # --- turns ---------------------------------------------------------------------------------------

    def turn_committed(self, item_id: str, at: float, speech_end: float | None, stopped: float | None) -> None:
        """A user turn became an item: its span starts where its latency does, at the end of speech."""
        span = self._span("realtime.turn", speech_end if speech_end is not None else at)
        span.set_attribute("item.id", item_id)
        if speech_end is not None and stopped is not None:
            self._span("speech_stopped", speech_end, stopped, span)
        self._turns[item_id] = _Turn(span, at)

    def turn_transcribed(self, item_id: str, at: float, failure: str | None = None) -> None:
        turn = self._turns.pop(item_id, None)
        if turn is None:
            return
        child = self._span("transcription", turn.committed, parent=turn.span)
        if failure is not None:
            child.set_status(Status(StatusCode.ERROR, failure))
        child.end(self._ns(at))
        turn.span.end(self._ns(at))

    def turn_finished(self, item_id: str, at: float) -> None:
        """A turn nobody transcribes for the client ends when it is committed."""
        turn = self._turns.pop(item_id, None)
        if turn is not None:
            turn.span.end(self._ns(at))

    # --- responses -----------------------------------------------------------------------------------

    def response_created(self, response_id: str, at: float) -> None:
        span = self._span("realtime.response", at)
        span.set_attribute("response.id", response_id)
        self._responses[response_id] = _Response(span, at)

    def first_words(self, response_id: str, at: float) -> None:
        response = self._responses.get(response_id)
        if response is not None:
            response.first_words = at
            self._span("llm.first_token", response.created, at, response.span)

    def first_audio(self, response_id: str, at: float) -> None:
        response = self._responses.get(response_id)
        if response is not None:
            start = response.first_words if response.first_words is not None else response.created
            self._span("tts.first_audio", start, at, response.span)

    def response_done(self, response: ev.Response, at: float) -> None:
        open_response = self._responses.pop(response.id, None)
        if open_response is None:
            return
        span = open_response.span
        span.set_attribute("response.status", response.status)
        details = response.status_details
        if details is not None and details.reason is not None:
            span.set_attribute("response.status_reason", details.reason)
        if response.usage is not None:
            span.set_attribute("usage.input_tokens", response.usage.input_tokens)
            span.set_attribute("usage.output_tokens", response.usage.output_tokens)
        if response.status == "failed":
            span.set_status(Status(StatusCode.ERROR, (details.error or {}).get("message", "") if details else ""))
        span.end(self._ns(at))

    # --- the end -------------------------------------------------------------------------------------

    def close(self, at: float) -> None:
        """The session is over: whatever is still open ends now, the session's span last."""
        end = self._ns(at)
        for turn in self._turns.values():
            turn.span.end(end)
        for response in self._responses.values():
            response.span.set_attribute("response.status", "in_progress")
            response.span.end(end)
        self._turns.clear()
        self._responses.clear()
        self._root.end(end)
