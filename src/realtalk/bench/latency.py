"""Voice-to-voice latency: spoken questions streamed in real time; time from the end of speech to each
stage of the answer, over a real WebSocket to a realtalk server in its own process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from realtalk.bench import client
from realtalk.bench.report import Report, Table, percentiles, plot_cdf
from realtalk.bench.server import serve
from realtalk.bench.speech import Utterance

CHUNK_MS = 20
LEAD_MS, TAIL_MS = 500, 1500
STAGES = {
    "speech_stopped": "input_audio_buffer.speech_stopped",
    "committed": "input_audio_buffer.committed",
    "response_created": "response.created",
    "first_transcript": "response.output_audio_transcript.delta",
    "first_audio": "response.output_audio.delta",
}
STACKS = {"embedded": ["--engines", "embedded"], "scripted": ["--engines", "scripted"]}
SESSION = {
    "audio": {"input": {"turn_detection": {"type": "server_vad"}, "transcription": {"model": "whisper-1"}}},
    "max_output_tokens": 60,
}


async def one_turn(url: str, utterance: Utterance) -> dict[str, float]:
    """Milliseconds from the end of speech to each stage (NaN when a stage never came)."""
    audio = np.concatenate([client.silence(LEAD_MS), utterance.speech, client.silence(TAIL_MS)])
    connection = await client.open_session(url, SESSION)
    timeline = client.Timeline()
    listener = asyncio.create_task(client.listen(connection, timeline, "response.done", tuple(STAGES.values())))
    try:
        await client.stream(connection, client.frames(audio, CHUNK_MS), CHUNK_MS, timeline)
        await asyncio.wait_for(listener, 60)
    finally:
        listener.cancel()
        await connection.close()
    end_of_speech = timeline.started + (LEAD_MS / 1000 + utterance.seconds)
    return {
        stage: (timeline.first[event] - end_of_speech) * 1000 if event in timeline.first else float("nan")
        for stage, event in STAGES.items()
    }


def run(stacks: list[str], utterances: list[Utterance], out: Path) -> Report:
    report = Report("latency", out)
    turns: dict[str, list[dict[str, float]]] = {}
    with Progress() as progress:
        for stack in stacks:
            task = progress.add_task(f"latency, {stack} engines", total=len(utterances))
            with serve(*STACKS[stack]) as server:
                turns[stack] = []
                for utterance in utterances:
                    turns[stack].append(asyncio.run(one_turn(server.url, utterance)))
                    progress.advance(task)
    summary: dict[str, Any] = {}
    table = Table(["engines", "stage (ms after end of speech)", "p50", "p90", "p99", "turns"])
    report.tables.append(table)
    for stack, measured in turns.items():
        summary[stack] = {}
        for stage in STAGES:
            values = [t[stage] for t in measured if not np.isnan(t[stage])]
            stats = percentiles(values)
            summary[stack][stage] = stats
            table.rows.append(
                [stack, stage, f"{stats['p50']:.0f}", f"{stats['p90']:.0f}", f"{stats['p99']:.0f}", str(stats["n"])]
            )
    report.results = {
        "chunk_ms": CHUNK_MS,
        "utterances": [u.text for u in utterances],
        "turns": turns,
        "summary": summary,
        "session": SESSION,
    }
    report.write()
    plot_cdf(
        {
            f"{stack}: {stage}": [t[stage] for t in measured if not np.isnan(t[stage])]
            for stack, measured in turns.items()
            for stage in ("speech_stopped", "first_transcript", "first_audio")
        },
        "Voice-to-voice latency (CDF)",
        "ms after the end of speech",
        out / "latency.png",
    )
    return report
