"""`Player`: what every transport that plays the answer itself shares — WebRTC's speaker, a phone line.

A player is fed the session's audio events by its call (`response_created`, `audio`, `audio_done`,
`response_done`) and plays them its own way: the WebRTC speaker paces 20 ms frames onto an RTP track,
a phone bridge hands chunks to the carrier and hears back when each has played. What they share is the
bookkeeping this class holds: which answers exist and in which format, which part each piece of audio
belongs to and how much of it was played, and the announcements a server-played answer makes —
`output_audio_buffer.started` with its first audio out, `.stopped` once the last of a finished answer
has played, `.cleared` when it is cut off (`Playback.clear`), with the `Heard` of the part that was
playing, so the session keeps only what the listener heard.

A subclass queues each part's audio (`_queue`), says which responses still have audio waiting
(`_queued_responses`) and which part is being heard now (`_playing`), drops its queue (`_drop`), and reports
progress through `_begin` and `_drained`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from realtalk.audio.formats import FORMATS, AudioFormat, Resampler
from realtalk.audio.g711 import Int16Array
from realtalk.protocol import events as ev
from realtalk.session.playback import Heard

_NOTHING = np.zeros(0, dtype=np.int16)
Announce = Callable[[ev.OutputAudioBuffer], None]  # queued to the call's outbox, never waited on


@dataclass
class Part:
    """One assistant audio part as played: how long it is, how much of it was played (at the player's rate).

    Each part resamples on its own and is flushed when its audio is done, so every sample played is
    counted to the part it came from (a resampler holds a few milliseconds back until told the end).
    """

    response_id: str
    item_id: str
    content_index: int
    format: AudioFormat
    rate: int  # of `played_samples`: the rate the player plays at
    resampler: Resampler  # from the part's format's rate (a pass-through if it is the player's)
    received_ms: float = 0.0
    played_samples: int = 0

    def samples(self, audio: bytes, last: bool) -> Int16Array:
        """`audio` (in the part's format) decoded at the player's rate; `last` flushes the resampler."""
        decoded = self.format.decode(audio) if audio else _NOTHING
        return self.resampler.process(decoded, last=last)

    def heard(self) -> Heard:
        played_ms = min(self.played_samples * 1000 / self.rate, self.received_ms)
        return Heard(self.response_id, self.item_id, self.content_index, int(played_ms))


@dataclass
class _Answer:
    """One response: the format of its audio, whether it started playing, whether all of it arrived."""

    format: AudioFormat
    started: bool = False
    finished: bool = False


class Player(ABC):
    def __init__(self, emit: ev.Emit, announce: Announce, rate: int) -> None:
        self._emit = emit  # in the session's lane: `cleared` comes out before what the cut-off causes
        self._announce = announce  # from the playing side's pace: queued, never waited on
        self._rate = rate
        self._answers: dict[str, _Answer] = {}
        self._parts: dict[tuple[str, int], Part] = {}

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
            resampler = Resampler(answer.format.sample_rate, self._rate)
            part = Part(delta.response_id, delta.item_id, delta.content_index, answer.format, self._rate, resampler)
            self._parts[key] = part
        part.received_ms += part.format.duration_ms(len(delta.delta))
        self._queue(part, delta.delta, last=False)

    def audio_done(self, item_id: str, content_index: int) -> None:
        """A part's audio is complete: play what its conversion still holds."""
        part = self._parts.get((item_id, content_index))
        if part is not None:
            self._queue(part, b"", last=True)

    def response_done(self, response_id: str) -> None:
        """All of this response's audio has arrived: it stops once the queue has played it out."""
        answer = self._answers.get(response_id)
        if answer is None:
            return
        answer.finished = True
        if response_id not in self._queued_responses():
            self._finish(response_id)

    # --- Playback ------------------------------------------------------------------------------------

    async def clear(self) -> Heard | None:
        """Drop every queued sample; say what was heard of the part that was playing.

        An answer that started playing and is not over is cleared too, even if nothing of it is queued
        at this instant (its next words were still being synthesized).
        """
        playing = self._playing()
        heard = playing.heard() if playing is not None else None
        live = (rid for rid, answer in self._answers.items() if answer.started)
        cut = list(dict.fromkeys([*self._queued_responses(), *live]))
        self._drop()
        for response_id in cut:
            answer = self._answers.pop(response_id, None)
            if answer is not None and answer.started:
                await self._emit(ev.OutputAudioBuffer(response_id, "cleared"))
        self._forget(set(cut))
        return heard

    # --- what a subclass does and reports ------------------------------------------------------------

    @abstractmethod
    def _queue(self, part: Part, audio: bytes, last: bool) -> None:
        """Queue `audio` (in the part's format) for playing; `last`: the part is complete."""

    @abstractmethod
    def _queued_responses(self) -> Iterable[str]:
        """The responses with audio queued and not yet played, in playing order."""

    @abstractmethod
    def _playing(self) -> Part | None:
        """The part being heard now (its `played_samples` up to this instant), or None."""

    @abstractmethod
    def _drop(self) -> None:
        """Stop playing at once and forget everything queued."""

    def _begin(self, response_id: str) -> None:
        """The answer's first audio went out to the listener: it has started, if it had not."""
        answer = self._answers.get(response_id)
        if answer is not None and not answer.started:
            answer.started = True
            self._announce(ev.OutputAudioBuffer(response_id, "started"))

    def _drained(self, response_id: str) -> None:
        """After a chunk: if its response has arrived whole and nothing of it is left, it has stopped."""
        answer = self._answers.get(response_id)
        if answer is not None and answer.finished and response_id not in self._queued_responses():
            self._finish(response_id)

    def _finish(self, response_id: str) -> None:
        answer = self._answers.pop(response_id, None)
        if answer is not None and answer.started:
            self._announce(ev.OutputAudioBuffer(response_id, "stopped"))
        self._forget({response_id})

    def _forget(self, response_ids: set[str]) -> None:
        for key in [k for k, p in self._parts.items() if p.response_id in response_ids]:
            del self._parts[key]
