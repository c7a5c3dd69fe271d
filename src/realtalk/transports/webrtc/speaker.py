"""`Speaker`: the call's outgoing audio track — the session's answers, played in real time.

Over WebRTC the server plays the answer (the client just listens), so the speaker is also what knows
how much of each answer was heard: when a response's audio first reaches the wire it announces
`output_audio_buffer.started`, when the last of it has played `.stopped`, and when it is cut off it
drops the rest, announces `.cleared` and tells the session how far the listener got (`Playback`).

Audio arrives as the session's encoded deltas (in the response's output format), is decoded and
resampled to 48 kHz once, and waits in a queue of chunks, each remembering which part it belongs to.
`recv` (called by the RTP sender) hands out one 20 ms frame per 20 ms of wall time: the queued answer,
or silence between answers.
"""

from __future__ import annotations

import asyncio
import fractions
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from realtalk.audio.formats import FORMATS, AudioFormat, Resampler
from realtalk.audio.g711 import Int16Array
from realtalk.protocol import events as ev
from realtalk.session.playback import Heard

RATE = 48_000
FRAME_MS = 20
FRAME_SAMPLES = RATE * FRAME_MS // 1000
_TIME_BASE = fractions.Fraction(1, RATE)
_NOTHING = np.zeros(0, dtype=np.int16)


@dataclass
class _Part:
    """One assistant audio part as played: its decoder, how long it is, how much of it was played.

    Each part resamples on its own and is flushed when its audio is done, so every sample played is
    counted to the part it came from (a resampler holds a few milliseconds back until told the end).
    """

    response_id: str
    item_id: str
    content_index: int
    format: AudioFormat
    resampler: Resampler
    received_ms: float = 0.0
    played_samples: int = 0

    def heard(self) -> Heard:
        played_ms = min(self.played_samples * 1000 / RATE, self.received_ms)
        return Heard(self.response_id, self.item_id, self.content_index, int(played_ms))


@dataclass
class _Answer:
    """One response: the format of its audio, whether it started playing, whether all of it arrived."""

    format: AudioFormat
    started: bool = False
    finished: bool = False


class Speaker(MediaStreamTrack):
    kind = "audio"

    def __init__(
        self, emit: ev.Emit, announce: Callable[[ev.OutputAudioBuffer], None], clock: Callable[[], float]
    ) -> None:
        super().__init__()
        self._emit = emit  # in the session's lane: `cleared` comes out before what the cut-off causes
        self._announce = announce  # from the sender's pace: queued to the outbox, never waited on
        self._clock = clock
        self._answers: dict[str, _Answer] = {}
        self._queue: deque[tuple[_Part, Int16Array]] = deque()
        self._parts: dict[tuple[str, int], _Part] = {}
        self._start: float | None = None
        self._sent = 0

    # --- what the session produces (fed by the call from its events) ---------------------------------

    def response_created(self, response: ev.Response) -> None:
        self._answers[response.id] = _Answer(FORMATS[response.output_format])

    def audio(self, delta: ev.ContentDelta) -> None:
        """Queue one encoded audio delta of a response for playing."""
        answer = self._answers.get(delta.response_id)
        if answer is None or not isinstance(delta.delta, bytes):
            return
        key = (delta.item_id, delta.content_index)
        part = self._parts.get(key)
        if part is None:
            fmt = answer.format
            part = _Part(delta.response_id, delta.item_id, delta.content_index, fmt, Resampler(fmt.sample_rate, RATE))
            self._parts[key] = part
        part.received_ms += part.format.duration_ms(len(delta.delta))
        self._enqueue(part, part.resampler.process(part.format.decode(delta.delta)))

    def audio_done(self, item_id: str, content_index: int) -> None:
        """A part's audio is complete: play what its resampler still holds."""
        part = self._parts.get((item_id, content_index))
        if part is not None:
            self._enqueue(part, part.resampler.process(_NOTHING, last=True))

    def _enqueue(self, part: _Part, samples: Int16Array) -> None:
        if samples.size:
            self._queue.append((part, samples))

    def response_done(self, response_id: str) -> None:
        """All of this response's audio has arrived: it stops once the queue has played it out."""
        answer = self._answers.get(response_id)
        if answer is None:
            return
        answer.finished = True
        if not any(part.response_id == response_id for part, _ in self._queue):
            self._finish(response_id)

    # --- Playback ------------------------------------------------------------------------------------

    async def clear(self) -> Heard | None:
        """Drop every queued sample; say what was heard of the part that was playing.

        An answer that started playing and is not over is cleared too, even if nothing of it is queued
        at this instant (its next words were still being synthesized).
        """
        heard = self._queue[0][0].heard() if self._queue else None
        queued = (part.response_id for part, _ in self._queue)
        live = (rid for rid, answer in self._answers.items() if answer.started)
        cut = list(dict.fromkeys([*queued, *live]))
        self._queue.clear()
        for response_id in cut:
            answer = self._answers.pop(response_id, None)
            if answer is not None and answer.started:
                await self._emit(ev.OutputAudioBuffer(response_id, "cleared"))
        self._forget(set(cut))
        return heard

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
        if self._start is None:
            self._start = now
            return
        wait = self._start + self._sent / RATE - now
        if wait > 0:
            await asyncio.sleep(wait)

    def _next_samples(self) -> Int16Array:
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        filled = 0
        while filled < FRAME_SAMPLES and self._queue:
            part, samples = self._queue[0]
            take = min(FRAME_SAMPLES - filled, len(samples))
            out[filled : filled + take] = samples[:take]
            filled += take
            self._play(part, take)
            if take == len(samples):
                self._queue.popleft()
                self._part_may_end(part)
            else:
                self._queue[0] = (part, samples[take:])
        return out

    def _play(self, part: _Part, samples: int) -> None:
        answer = self._answers.get(part.response_id)
        if answer is not None and not answer.started:
            answer.started = True
            self._announce(ev.OutputAudioBuffer(part.response_id, "started"))
        part.played_samples += samples

    def _part_may_end(self, part: _Part) -> None:
        """After a chunk: if its response has arrived whole and nothing of it is left, it has stopped."""
        answer = self._answers.get(part.response_id)
        if answer is None or not answer.finished:
            return
        if not any(p.response_id == part.response_id for p, _ in self._queue):
            self._finish(part.response_id)

    def _finish(self, response_id: str) -> None:
        answer = self._answers.pop(response_id, None)
        if answer is not None and answer.started:
            self._announce(ev.OutputAudioBuffer(response_id, "stopped"))
        self._forget({response_id})

    def _forget(self, response_ids: set[str]) -> None:
        for key in [k for k, p in self._parts.items() if p.response_id in response_ids]:
            del self._parts[key]
