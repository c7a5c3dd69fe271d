"""Server-side turn detection (`server_vad`, `semantic_vad`) on the VAD engine's speech probabilities.

Everything is measured on the session's audio clock (milliseconds of audio received), never the wall
clock, so results do not depend on how fast or in what chunks a client streams.

server_vad: a turn starts at the first frame whose probability reaches `threshold` (reported
`prefix_padding_ms` earlier, since that much audio before the onset is kept) and stops once the
probability has stayed below `threshold - 0.15` for `silence_duration_ms`.

semantic_vad: the same onset; after a pause of `JUDGE_AFTER_MS[eagerness]` the detector asks for a
judgement (`JudgeTurn`), which the input pipeline runs off the reader's path: the end-of-turn model
(Smart Turn v3 by default) hears the turn so far and gives the probability that the speaker has
finished. At or over `FINISHED_PROBABILITY[eagerness]` the turn ends once the silence has lasted
`FINISHED_WAIT_MS[eagerness]`; below it, the turn waits up to the documented maximum
(`UNFINISHED_WAIT_MS`: low 8 s, medium/auto 4 s, high 2 s). Until the verdict is in, the turn does not
end. Speech that resumes starts the judging over (a verdict for an earlier pause is ignored: each
judgement carries the pause it was asked for).

It also says when the voice stops (`Paused`, after `PAUSE_MS`) and comes back (`Resumed`), so the
session can prepare an answer during the silence window and drop it if the user goes on.

The detector only decides: it is fed speech probabilities frame by frame and holds no audio, so a
settings change applies from the next frame and never disturbs the clock or the audio around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from realtalk.protocol.config import TurnDetection

HYSTERESIS = 0.15
JUDGE_AFTER_MS = {"high": 200, "medium": 300, "auto": 300, "low": 500}
FINISHED_PROBABILITY = {"high": 0.3, "medium": 0.5, "auto": 0.5, "low": 0.7}
FINISHED_WAIT_MS = {"high": 200, "medium": 500, "auto": 500, "low": 1000}
UNFINISHED_WAIT_MS = {"high": 2000, "medium": 4000, "auto": 4000, "low": 8000}


@dataclass(frozen=True)
class SpeechStart:
    onset_ms: float


@dataclass(frozen=True)
class SpeechStop:
    end_ms: float
    pause_ms: float  # when the silence that ended the turn began


@dataclass(frozen=True)
class Paused:
    """The voice has stopped for `PAUSE_MS`: the turn may end at this pause (so its answer may be prepared)."""

    pause_ms: float


@dataclass(frozen=True)
class Resumed:
    """The voice came back after a `Paused`: the turn goes on."""


@dataclass(frozen=True)
class JudgeTurn:
    """semantic_vad asks: does the speech since `onset_ms` sound finished? Answer with `decide(pause_ms, …)`."""

    onset_ms: float
    pause_ms: float  # when the pause being judged began: identifies this judgement


TurnEvent = SpeechStart | SpeechStop | JudgeTurn | Paused | Resumed
PAUSE_MS = 32  # one Silero frame of silence: on real speech few gaps between words are that long (95% hit rate)


class TurnDetector:
    def __init__(self, config: TurnDetection, frame_ms: float, origin_ms: float) -> None:
        self.config = config
        self._frame_ms = frame_ms
        self._origin_ms = origin_ms
        self._frames = 0
        self.speaking = False
        self._onset_ms = 0.0
        self._last_voice_ms = 0.0
        self._required_silence: float | None = None
        self._judging = False
        self._paused = False

    @property
    def position_ms(self) -> float:
        """How far into the audio the detector has judged."""
        return self._origin_ms + self._frames * self._frame_ms

    def reset(self) -> None:
        """Forget a turn in progress (the buffer was cleared or committed by hand)."""
        self.speaking = False
        self._required_silence = None
        self._judging = False
        self._paused = False

    def step(self, probability: float) -> list[TurnEvent]:
        """One frame's speech probability → what it means for the turn (often nothing)."""
        start = self.position_ms
        self._frames += 1
        end = self.position_ms
        threshold = self.config.threshold
        if not self.speaking:
            if probability < threshold:
                return []
            self.speaking = True
            self._onset_ms, self._last_voice_ms = start, end
            self._required_silence, self._judging, self._paused = None, False, False
            return [SpeechStart(start)]
        if probability >= max(threshold - HYSTERESIS, 0.0):
            resumed = self._paused
            self._last_voice_ms = end
            self._required_silence, self._judging, self._paused = None, False, False
            return [Resumed()] if resumed else []
        events: list[TurnEvent] = []
        if not self._paused and end - self._last_voice_ms >= PAUSE_MS:
            self._paused = True
            events.append(Paused(self._last_voice_ms))
        if self.config.type == "server_vad":
            self._required_silence = float(self.config.silence_duration_ms)
        elif self._awaits_judgement(end):
            self._judging = True
            events.append(JudgeTurn(self._onset_ms, self._last_voice_ms))
        stop = self._stop_if_silent_enough()
        return [*events, stop] if stop else events

    def _awaits_judgement(self, now_ms: float) -> bool:
        pause = now_ms - self._last_voice_ms
        return self._required_silence is None and not self._judging and pause >= JUDGE_AFTER_MS[self.config.eagerness]

    def decide(self, pause_ms: float, finished: bool) -> SpeechStop | None:
        """The verdict on the pause that began at `pause_ms`; stale verdicts (speech resumed since) are ignored."""
        if not (self.speaking and self._judging and pause_ms == self._last_voice_ms):
            return None
        self._judging = False
        eagerness = self.config.eagerness
        self._required_silence = float((FINISHED_WAIT_MS if finished else UNFINISHED_WAIT_MS)[eagerness])
        return self._stop_if_silent_enough()

    def _stop_if_silent_enough(self) -> SpeechStop | None:
        required = self._required_silence
        if required is None or self.position_ms - self._last_voice_ms < required:
            return None
        self.speaking = False
        self._required_silence, self._paused = None, False
        return SpeechStop(self._last_voice_ms + required, self._last_voice_ms)  # when the silence became enough
