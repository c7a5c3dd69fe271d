"""`PhonePlayer`: the answer played on a phone line — the carrier plays it, marks say how far it got.

The carrier buffers and plays what it is sent, so the answer goes out as it is made, in chunks of at
most `CHUNK_MS`, each followed by a `mark`. The carrier echoes a mark once the audio before it has
played: the echoed chunks are what the caller heard, and the chunk after the last echo has been
playing since that echo (or since it was sent, if later), so a cut-off knows the heard length to the
millisecond. `clear` tells the carrier to drop everything queued; it then echoes the pending marks at
once, and those names, forgotten by then, are ignored.

The line speaks μ-law at 8 kHz: an answer in `g711_ulaw` goes out byte for byte, any other format is
decoded and resampled to it.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from realtalk.audio.formats import FORMATS
from realtalk.protocol import events as ev
from realtalk.transports.phone.carrier import SAMPLE_RATE, Line
from realtalk.transports.player import Announce, Part, Player

CHUNK_MS = 100  # the most audio between two marks: the heard length is exact at each, interpolated between
CHUNK_BYTES = SAMPLE_RATE * CHUNK_MS // 1000
ULAW = FORMATS["g711_ulaw"]


@dataclass
class _Chunk:
    """Audio sent to the carrier whose mark has not come back yet."""

    mark: str
    part: Part
    samples: int
    sent_at: float


class PhonePlayer(Player):
    def __init__(self, emit: ev.Emit, announce: Announce, line: Line, clock: Callable[[], float]) -> None:
        super().__init__(emit, announce, SAMPLE_RATE)
        self._line = line
        self._clock = clock
        self._pending: deque[_Chunk] = deque()
        self._marks = itertools.count(1)
        self._last_echo = 0.0

    def played(self, mark: str) -> None:
        """The carrier echoed `mark`: the chunks up to it have been heard (marks come back in order)."""
        if all(chunk.mark != mark for chunk in self._pending):
            return  # echoed by a `clear`, or not ours
        self._last_echo = self._clock()
        while self._pending:
            chunk = self._pending.popleft()
            chunk.part.played_samples += chunk.samples
            self._drained(chunk.part.response_id)
            if chunk.mark == mark:
                return

    # --- Player --------------------------------------------------------------------------------------

    def _queue(self, part: Part, audio: bytes, last: bool) -> None:
        ulaw = audio if part.format == ULAW else ULAW.encode(part.samples(audio, last))
        for at in range(0, len(ulaw), CHUNK_BYTES):
            chunk = ulaw[at : at + CHUNK_BYTES]
            self._begin(part.response_id)
            name = str(next(self._marks))
            self._line.media(chunk)
            self._line.mark(name)
            self._pending.append(_Chunk(name, part, len(chunk), self._clock()))

    def _queued_responses(self) -> Iterator[str]:
        return (chunk.part.response_id for chunk in self._pending)

    def _playing(self) -> Part | None:
        """The part of the first chunk not yet echoed, counted to this instant: it has been playing since the
        last echo (or since it was sent, if that was later), and not for longer than it lasts."""
        if not self._pending:
            return None
        chunk = self._pending[0]
        since = self._clock() - max(self._last_echo, chunk.sent_at)
        chunk.part.played_samples += min(chunk.samples, max(0, round(since * SAMPLE_RATE)))
        return chunk.part

    def _drop(self) -> None:
        if self._pending:
            self._pending.clear()
            self._line.clear()
