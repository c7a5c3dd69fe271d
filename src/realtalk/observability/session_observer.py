"""`ObservedSession`: one session watched from its edge, for the metrics and, if the session asks, a trace.

It reads the events the session receives and emits (`session.observer.SessionObserver`) and times the
stages of each turn from the end of the user's speech, as `realtalk bench latency` does from the client:
`speech_stopped`, `transcribed` (the transcript completed), `first_transcript` (the answer's first words
sent, text or transcript) and `first_audio`. A response answers the turn whose `speech_stopped` came
last before it, unless the user spoke again in between.

Per event it does a dictionary lookup and a counter increment; per audio chunk, one increment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from opentelemetry.trace import Tracer
from prometheus_client import Counter, Histogram

from realtalk.audio.formats import FORMATS
from realtalk.observability.metrics import (
    CALL_TRANSPORTS,
    DIALECTS,
    EVENT_TYPES,
    OTHER,
    RESPONSE_STATUSES,
    TRANSPORTS,
    TURN_STAGES,
    Metrics,
    clamp,
)
from realtalk.observability.tracing import SessionTrace
from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev


class SessionMetrics:
    """An app's per-session series, resolved once for all its sessions (and created at zero, so a
    dashboard sees every event type and stage before the first one happens)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.events_in: dict[type, Counter] = {}
        self.events_out: dict[type, Counter] = {}
        for cls, name in EVENT_TYPES.items():
            inbound = cls.__module__ == ce.__name__
            (self.events_in if inbound else self.events_out)[cls] = metrics.events.labels(
                "in" if inbound else "out", name
            )
        self.other_in = metrics.events.labels("in", OTHER)
        self.other_out = metrics.events.labels("out", OTHER)
        self.stages: dict[str, Histogram] = {stage: metrics.turn_stage_seconds.labels(stage) for stage in TURN_STAGES}
        self.responses: dict[str, Counter] = {status: metrics.responses.labels(status) for status in RESPONSE_STATUSES}


@dataclass
class _Turn:
    speech_end: float | None  # perf_counter seconds; None: committed by hand
    stopped: float | None


@dataclass
class _Answer:
    speech_end: float | None  # of the turn it answers, if it answers one
    bytes_per_second: int
    first_words: bool = False
    first_audio: bool = False


def _bytes_per_second(format_name: str) -> int:
    fmt = FORMATS[format_name]
    return fmt.sample_rate * fmt.bytes_per_sample


class ObservedSession:
    """A `SessionObserver`: counts what one session does and, when its `tracing` is set, traces it."""

    def __init__(self, metrics: SessionMetrics | None, tracer: Tracer | None, transport: str, dialect: str) -> None:
        self._metrics = metrics
        self._tracer = tracer
        self._trace: SessionTrace | None = None
        self._transport, self._dialect = clamp(transport, TRANSPORTS), clamp(dialect, DIALECTS)
        self._transcripts = False  # whether the client is sent each turn's transcript
        self._in_bytes_per_second = _bytes_per_second("pcm16")
        self._speech_start: float | None = None  # when the VAD heard the current turn begin
        self._speech_end: float | None = None  # reported for the turn about to be announced
        self._unanswered: float | None = None  # the end of speech of the last turn no response has claimed
        self._turns: dict[str, _Turn] = {}
        self._answers: dict[str, _Answer] = {}
        if metrics is not None:
            m, labels = metrics.metrics, (self._transport, self._dialect)
            self._audio_in = m.audio_seconds.labels("in", self._transport)
            self._audio_out = m.audio_seconds.labels("out", self._transport)
            self._turn_count = m.turns.labels(self._transport)
            self._active = [m.active_sessions.labels(*labels)]
            if self._transport in CALL_TRANSPORTS:
                self._active.append(m.active_calls.labels(*labels))
        self._started = False  # a call whose offer is refused is made, then closed, without ever starting

    # --- SessionObserver -----------------------------------------------------------------------------

    def received(self, event: ce.ClientEvent) -> None:
        if self._metrics is None:
            return
        self._metrics.events_in.get(type(event), self._metrics.other_in).inc()
        if isinstance(event, ce.AppendInputAudio):
            self._audio_in.inc(len(event.audio) / self._in_bytes_per_second)

    def speech_ended(self, seconds_ago: float) -> None:
        """Counted back from now: exact for a client that streams in real time (a microphone, a phone line).
        One that sends faster would place it too early, so it is never put before the turn's speech began."""
        end = time.perf_counter() - max(seconds_ago, 0.0)
        self._speech_end = end if self._speech_start is None else max(end, self._speech_start)

    def sent(self, event: ev.ServerEvent) -> None:
        now = time.perf_counter()
        if self._metrics is not None:
            self._metrics.events_out.get(type(event), self._metrics.other_out).inc()
        match event:
            case ev.ContentDelta():
                self._delta(event, now)
            case ev.SessionCreated(session=info):
                self._opened()
                self._configured(info, now)
            case ev.SessionUpdated(session=info):
                self._configured(info, now)
            case ev.SpeechStarted():
                self._speech_start, self._unanswered = now, None
            case ev.SpeechStopped(item_id=item_id):
                speech_end, self._speech_end = self._speech_end, None
                self._turns[item_id] = _Turn(speech_end, now)
                self._unanswered = speech_end
                self._stage("speech_stopped", speech_end, now)
            case ev.InputAudioCommitted(item_id=item_id):
                self._committed(item_id, now)
            case ev.TranscriptionCompleted(item_id=item_id):
                turn = self._turns.pop(item_id, None)
                self._stage("transcribed", turn.speech_end if turn is not None else None, now)
                if self._trace is not None:
                    self._trace.turn_transcribed(item_id, now)
            case ev.TranscriptionFailed(item_id=item_id, message=message):
                self._turns.pop(item_id, None)
                if self._trace is not None:
                    self._trace.turn_transcribed(item_id, now, message)
            case ev.ResponseCreated(response=response):
                self._answers[response.id] = _Answer(self._unanswered, _bytes_per_second(response.output_format))
                self._unanswered = None
                if self._trace is not None:
                    self._trace.response_created(response.id, now)
            case ev.ResponseDone(response=response):
                self._answers.pop(response.id, None)
                if self._metrics is not None:
                    self._metrics.responses[clamp(response.status, RESPONSE_STATUSES)].inc()
                if self._trace is not None:
                    self._trace.response_done(response, now)

    def closed(self) -> None:
        if self._trace is not None:
            self._trace.close(time.perf_counter())
            self._trace = None
        if self._metrics is not None and self._started:
            self._metrics.metrics.sessions_closed.labels(self._transport, self._dialect).inc()
            for gauge in self._active:
                gauge.dec()

    # --- what the events mean --------------------------------------------------------------------------

    def _opened(self) -> None:
        if self._metrics is not None and not self._started:
            self._metrics.metrics.sessions_opened.labels(self._transport, self._dialect).inc()
            for gauge in self._active:
                gauge.inc()
        self._started = True

    def _configured(self, info: ev.SessionInfo, now: float) -> None:
        self._transcripts = info.config.input.transcription is not None
        self._in_bytes_per_second = _bytes_per_second(info.config.input.format)
        tracing = info.config.tracing
        if self._trace is None and self._tracer is not None and tracing is not None:
            self._trace = SessionTrace(self._tracer, info.id, info.config, tracing, now)

    def _committed(self, item_id: str, now: float) -> None:
        """A user turn: counted, and traced from its end of speech until its transcript (if the client gets one)."""
        if self._metrics is not None:
            self._turn_count.inc()
        transcribed = self._transcripts  # else no event will close the turn
        turn = self._turns.get(item_id) if transcribed else self._turns.pop(item_id, None)
        if self._trace is None:
            return
        speech_end, stopped = (turn.speech_end, turn.stopped) if turn is not None else (None, None)
        self._trace.turn_committed(item_id, now, speech_end, stopped)
        if not transcribed:
            self._trace.turn_finished(item_id, now)

    def _delta(self, event: ev.ContentDelta, now: float) -> None:
        answer = self._answers.get(event.response_id)
        if answer is None:
            return
        if event.kind == "audio":
            if self._metrics is not None:
                self._audio_out.inc(len(event.delta) / answer.bytes_per_second)
            if not answer.first_audio:
                answer.first_audio = True
                self._stage("first_audio", answer.speech_end, now)
                if self._trace is not None:
                    self._trace.first_audio(event.response_id, now)
        elif not answer.first_words:
            answer.first_words = True
            self._stage("first_transcript", answer.speech_end, now)
            if self._trace is not None:
                self._trace.first_words(event.response_id, now)

    def _stage(self, stage: str, speech_end: float | None, now: float) -> None:
        if self._metrics is not None and speech_end is not None:
            self._metrics.stages[stage].observe(now - speech_end)
