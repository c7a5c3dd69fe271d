"""Voice-to-voice latency: spoken questions streamed in real time over a real WebSocket to a realtalk server
in its own process, once per mode (engines, turn detection, wire format, speculation); the time from the end
of speech to each stage of the answer, what speculation did meanwhile, and the server's CPU time."""

from __future__ import annotations

import asyncio
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from realtalk.audio.formats import FORMATS
from realtalk.bench import client, phone, webrtc
from realtalk.bench.modes import MODES, Mode
from realtalk.bench.report import Report, Table, percentiles, plot_cdf, plot_waterfall
from realtalk.bench.server import serve
from realtalk.bench.speech import Utterance

CHUNK_MS = 20
LEAD_MS = 500
TAIL_MS = 15_000  # the most silence sent after a question: semantic_vad may wait 4 s, then the answer is made
STAGES = {
    "speech_stopped": "input_audio_buffer.speech_stopped",
    "committed": "input_audio_buffer.committed",
    "transcribed": "conversation.item.input_audio_transcription.completed",
    "response_created": "response.created",
    "first_transcript": "response.output_audio_transcript.delta",
    "first_audio": "response.output_audio.delta",
    "response_done": "response.done",
}
WATERFALL_MODE = "embedded-server_vad"
SPECULATED = [  # the server's speculative work: (label, from, to)
    ("server: transcribe the turn so far", "speculation_paused", "speculation_transcribed"),
    ("server: LLM request to first words", "speculation_requested", "speculation_first_words"),
    ("server: synthesize the first chunk", "speculation_speech_started", "speculation_first_speech"),
]
WATERFALL = {
    "speech_stopped": "silence window (speech_stopped)",
    "transcribed": "transcript",
    "response_created": "response created",
    "first_transcript": "first words",
    "first_audio": "first audio",
    "response_done": "response done",
}


@dataclass(frozen=True)
class Speculation:
    """What the server's speculation did during one run: the change in its `/healthz` counters."""

    started: int = 0
    used: int = 0
    discarded: int = 0
    stale: int = 0
    wasted_seconds: float = 0.0

    @classmethod
    def between(cls, before: dict[str, Any], after: dict[str, Any]) -> Speculation:
        """From two `/healthz` reports; a server that does not speculate reports nothing, which counts as 0."""
        old, new = before.get("speculation", {}), after.get("speculation", {})
        return cls(**{f.name: new.get(f.name, 0) - old.get(f.name, 0) for f in fields(cls)})

    @property
    def hit_rate(self) -> float | None:
        """Of the speculations decided, the share whose turn did end at that pause (None: none decided)."""
        decided = self.used + self.discarded
        return self.used / decided if decided else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "wasted_seconds": round(self.wasted_seconds, 3), "hit_rate": self.hit_rate}


@dataclass
class ModeRun:
    """One mode measured on a fresh server: every utterance once, in order."""

    mode: Mode
    turns: list[dict[str, float]]
    speculation: Speculation
    cpu_seconds: float

    def stage(self, name: str) -> list[float]:
        """The stage's times over the turns that reached it."""
        return [turn[name] for turn in self.turns if not math.isnan(turn[name])]

    def latency(self) -> dict[str, dict[str, float]]:
        return {stage: percentiles(self.stage(stage)) for stage in STAGES}

    def as_dict(self) -> dict[str, Any]:
        return {
            "engines": self.mode.stack,
            "speculate": self.mode.speculate,
            "session": self.mode.session(),
            "latency_ms": self.latency(),
            "speculation": self.speculation.as_dict(),
            "server_cpu_seconds": round(self.cpu_seconds, 3),
            "turns": self.turns,
        }


async def one_turn(url: str, utterance: Utterance, mode: Mode) -> tuple[dict[str, float], float]:
    """Milliseconds from the end of speech to each stage (NaN when a stage never came), and when speech ended
    (perf_counter seconds). Silence follows the question until the answer is done, as from a microphone left
    open."""
    audio = np.concatenate([client.silence(LEAD_MS), utterance.speech, client.silence(TAIL_MS)])
    events = client.frames(audio, CHUNK_MS, FORMATS[mode.audio_format])
    connection = await client.open_session(url, mode.session())
    timeline = client.Timeline()
    listener = asyncio.create_task(client.listen(connection, timeline, "response.done", tuple(STAGES.values())))
    try:
        await client.stream(connection, events, CHUNK_MS, timeline, until=listener)
        await asyncio.wait_for(listener, 60)
    finally:
        listener.cancel()
        await connection.close()
    end_of_speech = timeline.started + (LEAD_MS / 1000 + utterance.seconds)
    stages = {
        stage: (timeline.first[event] - end_of_speech) * 1000 if event in timeline.first else float("nan")
        for stage, event in STAGES.items()
    }
    return stages, end_of_speech


def speculated(health: dict[str, Any], end_of_speech: float) -> dict[str, float]:
    """When the server's speculation for the turn that ended at `end_of_speech` ran its stages, in ms after it.

    The server reports them on the system's monotonic clock, which `time.perf_counter` reads in this
    process too; the speculation is the last one used whose pause began after the speech did.
    """
    recent = [s for s in health.get("speculation", {}).get("recent", []) if s.get("paused", 0) > end_of_speech - 30]
    if not recent:
        return {}
    return {f"speculation_{stage}": (at - end_of_speech) * 1000 for stage, at in recent[-1].items()}


def measure(mode: Mode, utterances: list[Utterance], advance: Callable[[], object]) -> ModeRun:
    with tempfile.TemporaryDirectory() as workdir, serve(*mode.server_args(Path(workdir))) as server:
        health, cpu = server.health(), server.cpu_seconds()
        turns = []
        for utterance in utterances:
            stages, end_of_speech = asyncio.run(_turn(mode, server.base, server.url, utterance))
            unseen = {stage: float("nan") for stage in STAGES}  # a phone line shows only its audio
            turns.append({**unseen, **stages, **speculated(server.health(), end_of_speech)})
            advance()
        return ModeRun(mode, turns, Speculation.between(health, server.health()), server.cpu_seconds() - cpu)


async def _turn(mode: Mode, base: str, url: str, utterance: Utterance) -> tuple[dict[str, float], float]:
    """One spoken turn over the mode's transport; a WebRTC call's `first_audio` is the answer heard on its track."""
    if mode.transport == "phone":
        return await phone.one_turn(base, utterance, LEAD_MS, TAIL_MS)
    if mode.transport == "webrtc":
        on_channel = {stage: event for stage, event in STAGES.items() if stage != "first_audio"}
        return await webrtc.one_turn(base, utterance.speech, LEAD_MS, mode.session(), on_channel)
    return await one_turn(url, utterance, mode)


def run(modes: Sequence[str], utterances: list[Utterance], out: Path) -> Report:
    runs: dict[str, ModeRun] = {}
    with Progress() as progress:
        for name in modes:
            task = progress.add_task(f"latency, {name}", total=len(utterances))
            runs[name] = measure(MODES[name], utterances, partial(progress.advance, task))
    results = {
        "chunk_ms": CHUNK_MS,
        "utterances": [u.text for u in utterances],
        "modes": {name: measured.as_dict() for name, measured in runs.items()},
    }
    report = Report("latency", out, results, [stage_table(runs), mode_table(runs)])
    report.write()
    plot_cdf(
        {name: measured.stage("first_audio") for name, measured in runs.items()},
        "First audio after the end of speech (CDF)",
        "ms after the end of speech",
        out / "latency.png",
    )
    plot_median_turn(runs, out / "latency_waterfall.png")
    return report


def stage_table(runs: dict[str, ModeRun]) -> Table:
    table = Table(["mode", "stage (ms after end of speech)", "p50", "p90", "p99", "turns"])
    for name, measured in runs.items():
        for stage, stats in measured.latency().items():
            table.rows.append([name, stage, *(_ms(stats[p]) for p in ("p50", "p90", "p99")), str(stats["n"])])
    return table


def mode_table(runs: dict[str, ModeRun]) -> Table:
    table = Table(["mode", "speculations", "used", "discarded", "stale", "hit rate", "wasted engine s", "server CPU s"])
    for name, measured in runs.items():
        spec = measured.speculation
        hit_rate = "—" if spec.hit_rate is None else f"{spec.hit_rate:.0%}"
        counts = [str(n) for n in (spec.started, spec.used, spec.discarded, spec.stale)]
        table.rows.append([name, *counts, hit_rate, f"{spec.wasted_seconds:.2f}", f"{measured.cpu_seconds:.1f}"])
    return table


def median_turn(turns: list[dict[str, float]]) -> dict[str, float] | None:
    """The turn whose first audio is the median (the lower of two middles: a turn that really happened)."""
    ranked = sorted((t for t in turns if not math.isnan(t["first_audio"])), key=lambda t: t["first_audio"])
    return ranked[(len(ranked) - 1) // 2] if ranked else None


def plot_median_turn(runs: dict[str, ModeRun], path: Path) -> Path | None:
    """The waterfall of the median turn of `WATERFALL_MODE` (of the first mode run, when that one was not)."""
    name = WATERFALL_MODE if WATERFALL_MODE in runs else next(iter(runs))
    turn = median_turn(runs[name].turns)
    if turn is None:
        return None
    return plot_waterfall(
        {label: turn[stage] for stage, label in WATERFALL.items()},
        [(label, turn[start], turn[end]) for label, start, end in SPECULATED if start in turn and end in turn],
        f"{name}: the median turn (by first audio)",
        "ms after the end of speech",
        path,
    )


def _ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0f}"
