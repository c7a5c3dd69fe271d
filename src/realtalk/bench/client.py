"""A client that streams audio in real time, as a microphone would, and notes when each event arrives."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from realtalk.audio.formats import FORMATS, AudioFormat, Resampler
from realtalk.engines.base import Samples

RATE = 24_000


@dataclass
class Timeline:
    """Wall-clock arrival (perf_counter seconds) of the first event of each type, and of every stop."""

    started: float = 0.0
    first: dict[str, float] = field(default_factory=dict)
    stops: list[tuple[float, int]] = field(default_factory=list)  # (arrival, audio_end_ms)


def payloads(audio: Samples, chunk_ms: int, fmt: AudioFormat) -> list[str]:
    """`audio` (24 kHz) in the wire format `fmt`, cut into base64 chunks of `chunk_ms`. Resampled in one
    piece, so the chunks keep the audio's timing exactly."""
    wire = fmt.encode(Resampler(RATE, fmt.sample_rate).process(audio, last=True))
    step = fmt.bytes_for_ms(chunk_ms)
    return [base64.b64encode(wire[i : i + step]).decode() for i in range(0, len(wire), step)]


def frames(audio: Samples, chunk_ms: int, fmt: AudioFormat = FORMATS["pcm16"]) -> list[str]:
    """Pre-encoded append events of `audio` (24 kHz) in the wire format `fmt`, so that sending costs the
    client almost nothing."""
    return [
        json.dumps({"type": "input_audio_buffer.append", "audio": payload})
        for payload in payloads(audio, chunk_ms, fmt)
    ]


async def open_session(url: str, session: dict[str, Any]) -> ClientConnection:
    connection = await connect(url, max_size=None, compression=None)
    await connection.send(json.dumps({"type": "session.update", "session": {"type": "realtime", **session}}))
    while json.loads(await connection.recv())["type"] != "session.updated":
        pass
    return connection


async def stream(
    connection: ClientConnection,
    events: list[str],
    chunk_ms: int,
    timeline: Timeline,
    until: asyncio.Future[Any] | None = None,
) -> None:
    """Send each chunk when its audio would have been captured; stop early once `until` is done, as a
    microphone that keeps listening until the answer is over."""
    timeline.started = time.perf_counter()
    for index, event in enumerate(events):
        if until is not None and until.done():
            return
        delay = timeline.started + index * chunk_ms / 1000 - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await connection.send(event)


async def listen(connection: ClientConnection, timeline: Timeline, until: str | None, watch: tuple[str, ...]) -> None:
    """Note arrivals; stop after the event `until` (or when the connection closes)."""
    async for message in connection:
        now = time.perf_counter()
        text = message if isinstance(message, str) else message.decode()
        kind = _event_type(text)
        if kind in watch:
            timeline.first.setdefault(kind, now)
            if kind == "input_audio_buffer.speech_stopped":
                timeline.stops.append((now, int(json.loads(text)["audio_end_ms"])))
        if kind == until:
            return


def silence(ms: int) -> Samples:
    return np.zeros(RATE * ms // 1000, dtype=np.int16)


def _event_type(text: str) -> str:
    """The event's type without parsing the whole event (realtalk writes compact JSON)."""
    start = text.find('"type":"')
    if start < 0:
        return str(json.loads(text).get("type", ""))
    start += 8
    return text[start : text.find('"', start)]
