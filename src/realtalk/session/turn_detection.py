"""Server-side turn detection (`server_vad`, `semantic_vad`) on the VAD engine's speech probabilities.

Everything is measured on the session's audio clock (milliseconds of audio received), never the wall
clock, so results do not depend on how fast or in what chunks a client streams.

server_vad: a turn starts at the first frame whose probability reaches `threshold` (reported
`prefix_padding_ms` earlier, since that much audio before the onset is kept) and stops once the
probability has stayed below `threshold - 0.15` for `silence_duration_ms`.

semantic_vad: the same onset; after a pause of `JUDGE_AFTER_MS[eagerness]` the words so far are
transcribed and judged (`looks_finished`). A turn that looks finished ends after
`FINISHED_WAIT_MS[eagerness]` of silence; one that does not waits up to the documented maximum
(`UNFINISHED_WAIT_MS`: low 8 s, medium/auto 4 s, high 2 s). Speech that resumes starts the judging over.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from realtalk.audio.formats import Resampler
from realtalk.audio.g711 import Int16Array
from realtalk.audio.noise import NoiseSuppressor
from realtalk.engines.base import VADEngine
from realtalk.protocol.session_config import NoiseReduction, TurnDetection

HYSTERESIS = 0.15
JUDGE_AFTER_MS = {"high": 200, "medium": 300, "auto": 300, "low": 500}
FINISHED_WAIT_MS = {"high": 200, "medium": 500, "auto": 500, "low": 1000}
UNFINISHED_WAIT_MS = {"high": 2000, "medium": 4000, "auto": 4000, "low": 8000}

FILLERS = {"um", "uh", "er", "erm", "hmm", "mm", "like", "well", "so", "you know"}
CONTINUATIONS = {
    "and", "but", "or", "so", "because", "if", "then", "that", "which", "who", "when", "while", "although",
    "the", "a", "an", "to", "of", "for", "with", "in", "on", "at", "my", "your", "is", "are", "was", "i",
}  # fmt: skip
_TERMINAL = re.compile(r"[.!?…][\"')\]]*$")


def looks_finished(text: str) -> bool:
    """A turn looks finished when it ends in terminal punctuation and not in a filler or a conjunction."""
    words = re.findall(r"[\w']+", text.lower())
    if not words:
        return True  # nothing intelligible: do not hold the floor for it
    tail = words[-1]
    if tail in FILLERS or tail in CONTINUATIONS or " ".join(words[-2:]) in FILLERS:
        return False
    return bool(_TERMINAL.search(text.strip()))


@dataclass(frozen=True)
class SpeechStart:
    onset_ms: float


@dataclass(frozen=True)
class SpeechStop:
    end_ms: float


TurnEvent = SpeechStart | SpeechStop
Judge = Callable[[float], Awaitable[bool]]  # onset ms → does the speech so far look like a finished turn?


class TurnDetector:
    def __init__(
        self,
        vad: VADEngine,
        config: TurnDetection,
        input_rate: int,
        origin_ms: float,
        noise: NoiseReduction | None,
        judge: Judge,
    ) -> None:
        self._vad = vad
        self._stream = vad.open_stream()
        self._frame_ms = vad.frame_samples * 1000 / vad.sample_rate
        self._judge = judge
        self.config = config
        self._restart(input_rate, origin_ms, noise)
        self.speaking = False
        self._onset_ms = 0.0
        self._last_voice_ms = 0.0
        self._required_silence: float | None = None

    def reconfigure(self, config: TurnDetection, input_rate: int, now_ms: float, noise: NoiseReduction | None) -> None:
        """New settings apply from the audio that follows; a format change restarts the resampler there."""
        self.config = config
        self._restart(input_rate, now_ms, noise)

    def _restart(self, input_rate: int, origin_ms: float, noise: NoiseReduction | None) -> None:
        self._resampler = Resampler(input_rate, self._vad.sample_rate)
        self._noise = NoiseSuppressor(noise.type, self._vad.sample_rate) if noise else None
        self._pending = np.zeros(0, dtype=np.int16)
        self._origin_ms = origin_ms
        self._frames = 0

    @property
    def position_ms(self) -> float:
        """How far into the audio the VAD has judged (it trails what was received by a frame or so)."""
        return self._origin_ms + self._frames * self._frame_ms

    def reset(self) -> None:
        """Forget a turn in progress (the buffer was cleared or committed by hand)."""
        self.speaking = False
        self._required_silence = None

    async def feed(self, samples: Int16Array) -> list[TurnEvent]:
        audio = self._resampler.process(samples)
        if self._noise is not None:
            audio = self._noise.process(audio)
        audio = np.concatenate([self._pending, audio])
        whole = len(audio) - len(audio) % self._vad.frame_samples
        self._pending = audio[whole:]
        if not whole:
            return []
        probabilities = await self._stream.process(audio[:whole])
        events: list[TurnEvent] = []
        for probability in probabilities:
            start = self._origin_ms + self._frames * self._frame_ms
            self._frames += 1
            event = await self._step(probability, start, start + self._frame_ms)
            if event is not None:
                events.append(event)
        return events

    async def _step(self, probability: float, start_ms: float, end_ms: float) -> TurnEvent | None:
        threshold = self.config.threshold
        if not self.speaking:
            if probability >= threshold:
                self.speaking = True
                self._onset_ms = start_ms
                self._last_voice_ms = end_ms
                self._required_silence = None
                return SpeechStart(start_ms)
            return None
        if probability >= max(threshold - HYSTERESIS, 0.0):
            self._last_voice_ms = end_ms
            self._required_silence = None
            return None
        silence = end_ms - self._last_voice_ms
        required = await self._required(silence)
        if required is not None and silence >= required:
            self.speaking = False
            return SpeechStop(self._last_voice_ms + required)  # the instant the silence became enough
        return None

    async def _required(self, silence: float) -> float | None:
        """How much silence ends this turn (None: not decided yet)."""
        if self.config.type == "server_vad":
            return float(self.config.silence_duration_ms)
        eagerness = self.config.eagerness
        if self._required_silence is None and silence >= JUDGE_AFTER_MS[eagerness]:
            finished = await self._judge(self._onset_ms)
            self._required_silence = float((FINISHED_WAIT_MS if finished else UNFINISHED_WAIT_MS)[eagerness])
        return self._required_silence
