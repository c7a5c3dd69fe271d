"""`AppObservability`: what one app measures and traces, and the few places it hooks into the app.

The app asks it for an observer per session, wraps its engines and secret store with it, and lets it add
`/metrics` and the refusal counter. With metrics off and no OTLP endpoint it observes nothing at all:
sessions get no observer, engines and store stay unwrapped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.responses import Response
from opentelemetry.sdk.trace import TracerProvider as ExportingTracerProvider
from opentelemetry.trace import Tracer, TracerProvider

from realtalk import __version__
from realtalk.config import Settings
from realtalk.engines.registry import Engines
from realtalk.observability.engine_metrics import instrument_engines
from realtalk.observability.metrics import Metrics, Transport
from realtalk.observability.refusals import SessionRefusals
from realtalk.observability.secret_metrics import CountedSecrets
from realtalk.observability.session_observer import ObservedSession, SessionMetrics
from realtalk.observability.tracing import SERVICE_NAME, otlp_endpoint, otlp_tracer_provider
from realtalk.server.secrets import SecretStore


@dataclass(frozen=True)
class AppObservability:
    settings: Settings
    metrics: Metrics | None
    session_metrics: SessionMetrics | None
    tracer: Tracer | None
    exporting: ExportingTracerProvider | None  # the provider made here (from the endpoint), flushed at shutdown

    @classmethod
    def create(cls, settings: Settings, tracer_provider: TracerProvider | None = None) -> AppObservability:
        """Metrics unless `--no-metrics`; traces to the given provider (tests), else to the OTLP endpoint."""
        metrics = Metrics.create() if settings.metrics else None
        exporting = None
        if tracer_provider is None:
            endpoint = otlp_endpoint(settings.otlp_endpoint, os.environ)
            exporting = otlp_tracer_provider(endpoint) if endpoint is not None else None
            tracer_provider = exporting
        tracer = tracer_provider.get_tracer(SERVICE_NAME, __version__) if tracer_provider is not None else None
        return cls(settings, metrics, SessionMetrics(metrics) if metrics else None, tracer, exporting)

    def observer(self, transport: Transport, dialect: str) -> ObservedSession | None:
        if self.session_metrics is None and self.tracer is None:
            return None
        return ObservedSession(self.session_metrics, self.tracer, transport, dialect)

    def engines(self, engines: Engines) -> Engines:
        if self.metrics is None:
            return engines
        return instrument_engines(engines, self.settings.engine_choice(), self.metrics)

    def secrets(self, store: SecretStore) -> SecretStore:
        return CountedSecrets(store, self.metrics) if self.metrics is not None else store

    def install(self, app: FastAPI) -> None:
        """`/metrics`, and the count of refused sessions (outermost, so it sees every refusal's final answer)."""
        metrics = self.metrics
        if metrics is None:
            return
        app.add_middleware(SessionRefusals, metrics=metrics)

        # a plain function, which FastAPI runs in its threadpool: with --workers N an exposition reads and
        # merges every worker's files, work the event loop should not wait on
        @app.get("/metrics", include_in_schema=False)
        def prometheus_metrics() -> Response:
            body, media_type = metrics.exposition()
            return Response(body, media_type=media_type)

    def shutdown(self) -> None:
        """Send the spans still batched before the process goes."""
        if self.exporting is not None:
            self.exporting.shutdown()
