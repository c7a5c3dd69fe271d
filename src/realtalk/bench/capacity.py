"""Session capacity: N sessions streaming speech in real time with Silero VAD on (scripted LLM and TTS);
the largest N whose `speech_stopped` lags the audio's own clock by under 100 ms at p99."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from realtalk.bench import client
from realtalk.bench.report import Report, Table, percentiles, plot_lines
from realtalk.bench.server import ServerProcess, serve
from realtalk.bench.speech import Utterance

CHUNK_MS = 40
LIMIT_MS = 100.0
SESSION = {
    "audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}},
    "output_modalities": ["audio"],
}


def script(utterances: list[Utterance], turns: int) -> np.ndarray:
    pieces = []
    for i in range(turns):
        pieces += [utterances[i % len(utterances)].speech, client.silence(1200)]
    return np.concatenate([client.silence(300), *pieces])


async def one_session(url: str, events: list[str], start_delay: float) -> list[float]:
    """Lags (ms) of each `speech_stopped` behind the moment its audio_end_ms was sent."""
    await asyncio.sleep(start_delay)
    connection = await client.open_session(url, SESSION)
    timeline = client.Timeline()
    listener = asyncio.create_task(client.listen(connection, timeline, None, ("input_audio_buffer.speech_stopped",)))
    try:
        await client.stream(connection, events, CHUNK_MS, timeline)
        await asyncio.sleep(1.0)  # the last stop arrives after the audio ends
    finally:
        listener.cancel()
        await connection.close()
    return [(arrival - (timeline.started + end_ms / 1000)) * 1000 for arrival, end_ms in timeline.stops]


async def level(server: ServerProcess, sessions: int, events: list[str], turns: int) -> dict[str, Any]:
    rss_before, cpu_before, started = server.rss_bytes(), server.cpu_seconds(), time.perf_counter()
    lags_per_session = await asyncio.gather(
        *(one_session(server.url, events, random.uniform(0, 1.0)) for _ in range(sessions))
    )
    wall = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu_before
    lags = [lag for lags in lags_per_session for lag in lags]
    return {
        "sessions": sessions,
        "lag_ms": percentiles(lags),
        "stops": len(lags),
        "stops_expected": sessions * turns,
        "cpu_cores": cpu / wall,
        "cpu_per_session": cpu / wall / sessions,
        "rss_mib": server.rss_bytes() / 2**20,
        "rss_per_session_kib": max(0, server.rss_bytes() - rss_before) / 1024 / sessions,
    }


def run(
    utterances: list[Utterance], out: Path, max_sessions: int = 256, turns: int = 3, levels: list[int] | None = None
) -> Report:
    random.seed(7)
    events = client.frames(script(utterances, turns), CHUNK_MS)
    measured: list[dict[str, Any]] = []
    with serve("--engines", "scripted", "--vad", "silero", "--max-connections", str(max_sessions + 10)) as server:
        baseline_rss = server.rss_bytes()
        plan = levels or [n for n in (1, 2, 4, 8, 16, 32, 64, 128, 256) if n <= max_sessions]
        with Progress() as progress:
            task = progress.add_task("capacity", total=len(plan))
            good, bad = 0, None
            for sessions in plan:
                result = asyncio.run(level(server, sessions, events, turns))
                measured.append(result)
                progress.advance(task)
                if result["lag_ms"]["p99"] < LIMIT_MS and result["stops"] >= result["stops_expected"]:
                    good = sessions
                else:
                    bad = sessions
                    break
            while levels is None and bad is not None and bad - good > max(1, good // 4):
                sessions = (good + bad) // 2
                progress.update(task, total=(progress.tasks[0].total or 0) + 1)
                result = asyncio.run(level(server, sessions, events, turns))
                measured.append(result)
                progress.advance(task)
                good, bad = (sessions, bad) if result["lag_ms"]["p99"] < LIMIT_MS else (good, sessions)
    measured.sort(key=lambda r: int(r["sessions"]))
    report = Report("capacity", out)
    header = [
        "sessions",
        "speech_stopped lag p50 (ms)",
        "p99 (ms)",
        "stops seen",
        "server CPU (cores)",
        "CPU per session (cores)",
        "server RSS (MiB)",
    ]
    rows = [
        [
            str(r["sessions"]),
            f"{r['lag_ms']['p50']:.0f}",
            f"{r['lag_ms']['p99']:.0f}",
            f"{r['stops']}/{r['stops_expected']}",
            f"{r['cpu_cores']:.2f}",
            f"{r['cpu_per_session']:.3f}",
            f"{r['rss_mib']:.0f}",
        ]
        for r in measured
    ]
    report.tables.append(Table(header, rows))
    report.results = {
        "limit_ms": LIMIT_MS,
        "capacity": good,
        "baseline_rss_mib": baseline_rss / 2**20,
        "chunk_ms": CHUNK_MS,
        "turns_per_session": turns,
        "levels": measured,
    }
    report.write()
    plot_lines(
        [r["sessions"] for r in measured],
        {"p50": [r["lag_ms"]["p50"] for r in measured], "p99": [r["lag_ms"]["p99"] for r in measured]},
        f"speech_stopped lag vs sessions (capacity {good})",
        "concurrent sessions",
        "lag behind the audio clock (ms)",
        out / "capacity.png",
        limit=LIMIT_MS,
    )
    return report
