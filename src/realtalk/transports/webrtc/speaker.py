"""`Speaker`: the call's outgoing audio track — the session's answers, played in real time.

Over WebRTC the server plays the answer (the client just listens), so the speaker is also what knows
how much of each answer was heard (the bookkeeping and announcements of `Player`).

Audio arrives as the session's encoded deltas (in the response's output format), is decoded and
resampled to 48 kHz once, and waits in a queue of chunks, each remembering which part it belongs to.
`recv` (called by the RTP sender) hands out one 20 ms frame per 20 ms of wall time: the queued answer,
or silence between answers.
"""

from __future__ import annotations

import asyncio
import fractions
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from realtalk.audio.g711 import Int16Array
from realtalk.protocol import events as ev
from realtalk.transports.player import Announce, Part, Player

RATE = 48_000
FRAME_MS = 20
FRAME_SAMPLES = RATE * FRAME_MS // 1000
_TIME_BASE = fractions.Fraction(1, RATE)


class Speaker(Player, MediaStreamTrack):
    kind = "audio"

    def __init__(self, emit: ev.Emit, announce: Announce, clock: Callable[[], float]) -> None:
        Player.__init__(self, emit, announce, RATE)
        MediaStreamTrack.__init__(self)
        self._clock = clock
        self._chunks: deque[tuple[Part, Int16Array]] = deque()
        self._start_time: float | None = None
        self._sent = 0

    # --- Player --------------------------------------------------------------------------------------

    def _queue(self, part: Part, audio: bytes, last: bool) -> None:
        samples = part.samples(audio, last)
        if samples.size:
            self._chunks.append((part, samples))

    def _queued_responses(self) -> Iterator[str]:
        return (part.response_id for part, _ in self._chunks)

    def _playing(self) -> Part | None:
        return self._chunks[0][0] if self._chunks else None

    def _drop(self) -> None:
        self._chunks.clear()

    # --- the RTP sender's side -----------------------------------------------------------------------

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pace()
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(self._next_samples().tobytes())
        frame.sample_rate = RATE
        frame.time_base = _TIME_BASE
        frame.pts = self._sent
        self._sent += FRAME_SAMPLES
        return frame

    async def _pace(self) -> None:
        """One frame per 20 ms of wall time, measured from the first, so drift never accumulates."""
        now = self._clock()
        if self._start_time is None:
            self._start_time = now
            return
        wait = self._start_time + self._sent / RATE - now
        if wait > 0:
            await asyncio.sleep(wait)

    def _next_samples(self) -> Int16Array:
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        filled = 0
        while filled < FRAME_SAMPLES and self._chunks:
            part, samples = self._chunks[0]
            take = min(FRAME_SAMPLES - filled, len(samples))
            out[filled : filled + take] = samples[:take]
            filled += take
            self._begin(part.response_id)
            part.played_samples += take
            if take == len(samples):
                self._chunks.popleft()
                self._drained(part.response_id)
            else:
                self._chunks[0] = (part, samples[take:])
        return out
