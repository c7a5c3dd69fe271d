"""Micro-benchmarks: G.711 and resampling as multiples of real time and against `audioop` in the same run,
Silero VAD frames per second (one stream, and batched), and event encode/decode rates."""

from __future__ import annotations

import asyncio
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from realtalk.audio import g711
from realtalk.audio.formats import Resampler
from realtalk.bench.report import Report, Table, plot_bars
from realtalk.protocol import events as ev
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.ga import GADialect
from realtalk.protocol.wire import Dialect, dumps, parse_frame

SECONDS = 10.0


def _rate(work: Callable[[], Any], repeat: int = 5) -> float:
    """Best seconds per call over `repeat` calls (the least disturbed by a shared machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _audioop() -> Any:
    if sys.version_info >= (3, 13):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    return audioop


def codecs() -> list[dict[str, Any]]:
    rng = np.random.default_rng(1)
    narrow = (rng.normal(0, 3000, int(8_000 * SECONDS))).astype(np.int16)
    wide = (rng.normal(0, 3000, int(24_000 * SECONDS))).astype(np.int16)
    ulaw = g711.encode(narrow, g711.ULAW_ENCODE)
    audioop = _audioop()
    rows = []

    def chunked_resample(source: int, target: int, audio: np.ndarray) -> Callable[[], Any]:
        step = source // 50  # 20 ms chunks, as a session streams them

        def work() -> None:
            resampler = Resampler(source, target)
            for i in range(0, len(audio), step):
                resampler.process(audio[i : i + step])

        return work

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any] | None]] = [
        (
            "μ-law encode (8 kHz)",
            lambda: g711.encode(narrow, g711.ULAW_ENCODE),
            (lambda: audioop.lin2ulaw(narrow.tobytes(), 2)) if audioop else None,
        ),
        (
            "μ-law decode (8 kHz)",
            lambda: g711.decode(ulaw, g711.ULAW_DECODE),
            (lambda: audioop.ulaw2lin(ulaw, 2)) if audioop else None,
        ),
        (
            "A-law encode (8 kHz)",
            lambda: g711.encode(narrow, g711.ALAW_ENCODE),
            (lambda: audioop.lin2alaw(narrow.tobytes(), 2)) if audioop else None,
        ),
        (
            "A-law decode (8 kHz)",
            lambda: g711.decode(ulaw, g711.ALAW_DECODE),
            (lambda: audioop.alaw2lin(ulaw, 2)) if audioop else None,
        ),
        (
            "resample 24→16 kHz, 20 ms chunks",
            chunked_resample(24_000, 16_000, wide),
            (lambda: _ratecv_chunks(audioop, wide, 24_000, 16_000)) if audioop else None,
        ),
        (
            "resample 8→16 kHz, 20 ms chunks",
            chunked_resample(8_000, 16_000, narrow),
            (lambda: _ratecv_chunks(audioop, narrow, 8_000, 16_000)) if audioop else None,
        ),
    ]
    for name, ours, theirs in cases:
        seconds = _rate(ours)
        row: dict[str, Any] = {"name": name, "x_realtime": SECONDS / seconds}
        if theirs is not None:
            row["x_audioop"] = _rate(theirs) / seconds
        rows.append(row)
    return rows


def _ratecv_chunks(audioop: Any, audio: np.ndarray, source: int, target: int) -> None:
    state = None
    step = source // 50
    for i in range(0, len(audio), step):
        _, state = audioop.ratecv(audio[i : i + step].tobytes(), 2, 1, source, target, state)


def vad() -> list[dict[str, Any]]:
    from realtalk.engines.embedded.silero_vad import FRAME, SileroVAD

    engine = SileroVAD()
    frames = 300
    audio = np.random.default_rng(2).normal(0, 2000, FRAME * frames).astype(np.int16)

    async def single() -> None:
        await engine.open_stream().process(audio)

    async def batched(streams: int) -> None:
        await asyncio.gather(*(engine.open_stream().process(audio[: FRAME * 30]) for _ in range(streams)))

    one = _rate(lambda: asyncio.run(single()), 3)
    many = _rate(lambda: asyncio.run(batched(32)), 3)
    return [
        {"name": "Silero VAD, one stream", "frames_per_second": frames / one, "x_realtime": frames * 0.032 / one},
        {
            "name": "Silero VAD, 32 streams batched",
            "frames_per_second": 32 * 30 / many,
            "x_realtime": 32 * 30 * 0.032 / many,
        },
    ]


def events() -> list[dict[str, Any]]:
    delta = ev.ContentDelta("resp_1", "item_1", 0, 0, "text", "Hello")
    audio = ev.ContentDelta("resp_1", "item_1", 0, 0, "audio", b"\x00\x01" * 480)
    append = dumps({"type": "input_audio_buffer.append", "audio": "AAAA" * 320})
    n = 20_000
    rows = []
    dialects: list[Dialect] = [BetaDialect(), GADialect()]
    for dialect in dialects:
        for label, event in (("text delta", delta), ("20 ms audio delta", audio)):
            seconds = _rate(_encoding(dialect, event, n), 3)
            rows.append({"name": f"encode {dialect.name} {label}", "per_second": n / seconds})
        seconds = _rate(_decoding(dialect, append, n), 3)
        rows.append({"name": f"decode {dialect.name} 20 ms append", "per_second": n / seconds})
    return rows


def _encoding(dialect: Dialect, event: ev.ServerEvent, n: int) -> Callable[[], Any]:
    return lambda: [dumps(message) for _ in range(n) for message in dialect.encode(event)]


def _decoding(dialect: Dialect, frame: str, n: int) -> Callable[[], Any]:
    return lambda: [dialect.decode(parse_frame(frame, 1 << 24)) for _ in range(n)]


def run(out: Path) -> Report:
    results = {"codecs": codecs(), "vad": vad(), "events": events()}
    table = Table(["benchmark", "x real time", "x audioop", "per second"])
    report = Report("micro", out, results, [table])
    for row in results["codecs"]:
        ratio = f"{row['x_audioop']:.1f}" if "x_audioop" in row else "n/a"
        table.rows.append([row["name"], f"{row['x_realtime']:,.0f}", ratio, ""])
    for row in results["vad"]:
        table.rows.append([row["name"], f"{row['x_realtime']:,.0f}", "", f"{row['frames_per_second']:,.0f} frames"])
    for row in results["events"]:
        table.rows.append([row["name"], "", "", f"{row['per_second']:,.0f}"])
    report.write()
    rows = results["codecs"] + results["vad"]
    plot_bars(
        [r["name"] for r in rows],
        [r["x_realtime"] for r in rows],
        "Throughput (x real time, log scale)",
        "x real time",
        out / "micro.png",
    )
    return report
