"""realtalk's Prometheus metrics: one registry per app, multiprocess-safe when several workers serve.

Every label takes values from a fixed set (`clamp`): no session or call id, no string a client chose.
Under `--workers N` each worker writes its values to files in `PROMETHEUS_MULTIPROC_DIR` and `/metrics`,
answered by any worker, sums them (`MultiProcessCollector`); `prepare_workers` makes that folder before
the workers start. prometheus_client picks its value store when it is imported, from that variable, so
`Metrics.create` picks it again when the metrics are made: a process that set the variable after the
import (a test, a worker) still gets the store its environment asks for.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess, values
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from realtalk.engines.registry import KINDS, available
from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"
Transport = Literal["websocket", "webrtc", "phone"]
TRANSPORTS: tuple[Transport, ...] = get_args(Transport)
CALL_TRANSPORTS = ("webrtc", "phone")
DIALECTS = ("ga", "beta")
REFUSAL_REASONS = ("auth", "capacity", "per_key", "rate_limit", "bad_request", OTHER)
RESPONSE_STATUSES = ("completed", "cancelled", "incomplete", "failed")
ENGINE_ERROR_KINDS = ("timeout", "connection", "bad_response", "internal")
TURN_STAGES = ("speech_stopped", "transcribed", "first_transcript", "first_audio")  # the bench's names
VOICE_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


# A metric's `type` label for each event: its name in realtalk's neutral vocabulary, the same in both dialects.
EVENT_TYPES: dict[type, str] = {
    cls: _snake(cls.__name__) for cls in (*get_args(ce.ClientEvent), *get_args(ev.ServerEvent))
}


def clamp(value: str, allowed: Collection[str]) -> str:
    """`value` if it is one of `allowed`, else `other`: a label never takes a value from outside its set."""
    return value if value in allowed else OTHER


@dataclass(frozen=True)
class Metrics:
    """The metric families of one app, in its own registry (so apps, and tests, never share values)."""

    registry: CollectorRegistry
    multiprocess_dir: Path | None
    active_sessions: Gauge
    active_calls: Gauge
    sessions_opened: Counter
    sessions_closed: Counter
    sessions_refused: Counter
    turns: Counter
    responses: Counter
    turn_stage_seconds: Histogram
    engine_first_output_seconds: Histogram
    engine_seconds: Histogram
    engine_errors: Counter
    events: Counter
    audio_seconds: Counter
    secrets_minted: Counter
    secrets_rejected: Counter

    @classmethod
    def create(cls) -> Metrics:
        folder = os.environ.get(MULTIPROC_ENV)
        _use_value_store(multiprocess=folder is not None)
        registry = CollectorRegistry(auto_describe=True)
        session = ("transport", "dialect")
        engine = ("engine", "backend")

        def gauge(name: str, doc: str, labels: Iterable[str]) -> Gauge:
            return Gauge(name, doc, labels, registry=registry, multiprocess_mode="livesum")

        def counter(name: str, doc: str, labels: Iterable[str] = ()) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        def histogram(name: str, doc: str, labels: Iterable[str]) -> Histogram:
            return Histogram(name, doc, labels, registry=registry, buckets=VOICE_BUCKETS)

        return cls(
            registry=registry,
            multiprocess_dir=Path(folder) if folder is not None else None,
            active_sessions=gauge("realtalk_active_sessions", "Sessions open now.", session),
            active_calls=gauge("realtalk_active_calls", "WebRTC and phone calls in progress now.", session),
            sessions_opened=counter("realtalk_sessions_opened", "Sessions opened.", session),
            sessions_closed=counter("realtalk_sessions_closed", "Sessions closed.", session),
            sessions_refused=counter(
                "realtalk_sessions_refused", "Session requests refused before a session began.", ("transport", "reason")
            ),
            turns=counter(
                "realtalk_turns", "User turns committed (by turn detection or by the client).", ("transport",)
            ),
            responses=counter("realtalk_responses", "Responses finished, by final status.", ("status",)),
            turn_stage_seconds=histogram(
                "realtalk_turn_stage_seconds",
                "From the end of the user's speech to each stage of the answer.",
                ("stage",),
            ),
            engine_first_output_seconds=histogram(
                "realtalk_engine_first_output_seconds", "From an engine call to its first output.", engine
            ),
            engine_seconds=histogram("realtalk_engine_seconds", "From an engine call to its last output.", engine),
            engine_errors=counter("realtalk_engine_errors", "Engine calls that failed.", (*engine, "kind")),
            events=counter("realtalk_events", "Realtime events received and sent.", ("direction", "type")),
            audio_seconds=counter(
                "realtalk_audio_seconds", "Seconds of audio received and sent.", ("direction", "transport")
            ),
            secrets_minted=counter("realtalk_secrets_minted", "Ephemeral client secrets minted."),
            secrets_rejected=counter(
                "realtalk_secrets_rejected", "Ephemeral client secrets presented and refused.", ("reason",)
            ),
        )

    def exposition(self) -> tuple[bytes, str]:
        """The text `/metrics` answers, and its content type: summed over every worker in multiprocess mode."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        return multiprocess_exposition(self.multiprocess_dir), CONTENT_TYPE_LATEST

    def refused(self, transport: str, reason: str) -> None:
        self.sessions_refused.labels(clamp(transport, TRANSPORTS), clamp(reason, REFUSAL_REASONS)).inc()


def engine_labels(engine: str, backend: str) -> tuple[str, str]:
    """An engine's kind and backend name (one the registry knows, else `other`)."""
    kind = clamp(engine, KINDS)
    return kind, clamp(backend, available(kind)) if kind != OTHER else OTHER


def multiprocess_exposition(folder: Path) -> bytes:
    """Every worker's values in `folder`, summed as each metric's mode says (live gauges: live workers only)."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(folder))  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def prepare_workers(workers: int) -> Path | None:
    """Before starting `workers` > 1 worker processes: a fresh folder for their metrics, named in the
    environment they inherit, and removed when this (the supervising) process exits. None for one worker,
    which keeps its metrics in memory."""
    if workers <= 1:
        return None
    folder = Path(tempfile.mkdtemp(prefix="realtalk-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def mark_worker_dead(pid: int) -> None:
    """A worker has exited: its live gauges (open sessions, calls) no longer count. Its counters stay."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder is not None:
        multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


def _use_value_store(*, multiprocess: bool) -> None:
    """Point prometheus_client at the value store this process's environment asks for, if it is not already.

    A second multiprocess store in one process would write the same files as the first, so one already
    in place is kept.
    """
    current = values.ValueClass
    if multiprocess and not getattr(current, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    elif not multiprocess and current is not values.MutexValue:
        values.ValueClass = values.MutexValue
