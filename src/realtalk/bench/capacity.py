"""Session capacity: N sessions streaming speech in real time with Silero VAD on (scripted LLM and TTS);
the largest N whose `speech_stopped` lags the audio's own clock by under 100 ms at p99, for each number of
server worker processes asked for. The clients run in two load-generator processes on the same machine."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from realtalk.bench import client
from realtalk.bench.report import Report, Table, percentiles, plot_curves
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


GENERATORS = 2  # load-generator processes, whatever the worker count: one event loop of clients saturates first


async def sessions_at_once(url: str, events: list[str], count: int) -> list[float]:
    """`count` sessions, each starting within the first second, as one load-generator process drives them."""
    lags = await asyncio.gather(*(one_session(url, events, random.uniform(0, 1.0)) for _ in range(count)))
    return [lag for session in lags for lag in session]


def generate(url: str, events: list[str], count: int, seed: int) -> tuple[list[float], float]:
    """One load-generator process: the lags it saw and the CPU seconds it spent."""
    random.seed(seed)
    cpu_before = time.process_time()
    lags = asyncio.run(sessions_at_once(url, events, count))
    return lags, time.process_time() - cpu_before


def level(server: ServerProcess, sessions: int, events: list[str], turns: int, pool: Executor) -> dict[str, Any]:
    rss_before, cpu_before, started = server.rss_bytes(), server.cpu_seconds(), time.perf_counter()
    shares = [sessions // GENERATORS + (1 if i < sessions % GENERATORS else 0) for i in range(GENERATORS)]
    runs = [pool.submit(generate, server.url, events, share, seed) for seed, share in enumerate(shares) if share]
    results = [run.result() for run in runs]
    wall = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu_before
    lags = [lag for run_lags, _ in results for lag in run_lags]
    return {
        "sessions": sessions,
        "lag_ms": percentiles(lags),
        "stops": len(lags),
        "stops_expected": sessions * turns,
        "cpu_cores": cpu / wall,
        "cpu_per_session": cpu / wall / sessions,
        "load_generator_cpu_cores": sum(spent for _, spent in results) / wall,
        "rss_mib": server.rss_bytes() / 2**20,
        "rss_per_session_kib": max(0, server.rss_bytes() - rss_before) / 1024 / sessions,
    }


def passes(result: dict[str, Any]) -> bool:
    return bool(result["lag_ms"]["p99"] < LIMIT_MS and result["stops"] >= result["stops_expected"])


def search(
    server: ServerProcess, events: list[str], turns: int, plan: list[int], exact: bool, pool: Executor
) -> tuple[int, list[dict[str, Any]]]:
    """Double the sessions until a level fails, then bisect to within a quarter (unless the levels are exact)."""
    measured: list[dict[str, Any]] = []
    good, bad = 0, None
    with Progress() as progress:
        task = progress.add_task("capacity", total=len(plan))
        for sessions in plan:
            result = level(server, sessions, events, turns, pool)
            measured.append(result)
            progress.advance(task)
            if not passes(result):
                bad = sessions
                break
            good = sessions
        while not exact and bad is not None and bad - good > max(1, good // 4):
            sessions = (good + bad) // 2
            progress.update(task, total=(progress.tasks[0].total or 0) + 1)
            result = level(server, sessions, events, turns, pool)
            measured.append(result)
            progress.advance(task)
            good, bad = (sessions, bad) if passes(result) else (good, sessions)
    measured.sort(key=lambda r: int(r["sessions"]))
    return good, measured


def run(
    utterances: list[Utterance],
    out: Path,
    max_sessions: int = 256,
    turns: int = 3,
    levels: list[int] | None = None,
    workers: list[int] | None = None,
) -> Report:
    """The capacity search for each worker count, on a fresh server each (`realtalk serve --workers N`)."""
    events = client.frames(script(utterances, turns), CHUNK_MS)
    plan = levels or [n for n in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512) if n <= max_sessions]
    per_workers: dict[int, dict[str, Any]] = {}
    with ProcessPoolExecutor(GENERATORS, mp_context=multiprocessing.get_context("spawn")) as pool:
        for count in workers or [1]:
            with serve(
                "--engines", "scripted", "--vad", "silero", "--workers", str(count),
                "--max-connections", str(max_sessions + 10),
            ) as server:  # fmt: skip
                baseline_rss = server.rss_bytes()
                capacity, measured = search(server, events, turns, plan, levels is not None, pool)
            per_workers[count] = {"capacity": capacity, "baseline_rss_mib": baseline_rss / 2**20, "levels": measured}
    return write_report(per_workers, out, turns)


def write_report(per_workers: dict[int, dict[str, Any]], out: Path, turns: int) -> Report:
    report = Report("capacity", out)
    header = [
        "workers",
        "sessions",
        "speech_stopped lag p50 (ms)",
        "p99 (ms)",
        "stops seen",
        "server CPU (cores)",
        "CPU per session (cores)",
        "load generator CPU (cores)",
        "server RSS (MiB)",
    ]
    rows = [
        [
            str(count),
            str(r["sessions"]),
            f"{r['lag_ms']['p50']:.0f}",
            f"{r['lag_ms']['p99']:.0f}",
            f"{r['stops']}/{r['stops_expected']}",
            f"{r['cpu_cores']:.2f}",
            f"{r['cpu_per_session']:.3f}",
            f"{r['load_generator_cpu_cores']:.2f}",
            f"{r['rss_mib']:.0f}",
        ]
        for count, found in per_workers.items()
        for r in found["levels"]
    ]
    report.tables.append(Table(header, rows))
    summary = [[str(count), str(found["capacity"])] for count, found in per_workers.items()]
    report.tables.append(Table(["workers", f"sessions at p99 lag < {LIMIT_MS:.0f} ms"], summary))
    report.results = {
        "limit_ms": LIMIT_MS,
        "chunk_ms": CHUNK_MS,
        "turns_per_session": turns,
        "load_generator_processes": GENERATORS,
        "workers": {str(count): found for count, found in per_workers.items()},
    }
    report.write()
    curves = {
        f"{count} worker{'s' if count > 1 else ''} p{q}": (
            [r["sessions"] for r in found["levels"]],
            [r["lag_ms"][f"p{q}"] for r in found["levels"]],
        )
        for count, found in per_workers.items()
        for q in (50, 99)
    }
    found_text = ", ".join(f"{count} worker(s): {found['capacity']}" for count, found in per_workers.items())
    plot_curves(
        curves,
        f"speech_stopped lag vs sessions (capacity {found_text})",
        "concurrent sessions",
        "lag behind the audio clock (ms)",
        out / "capacity.png",
        limit=LIMIT_MS,
    )
    return report
