"""`InputPipeline`: input audio → turns and transcripts, each stage run once per turn.

    append → InputAudioBuffer (wire bytes, what a committed item holds)
           → HeardAudio (one stream at the VAD's rate, denoised if asked: made once per sample)
           → VAD → TurnDetector → turn started / ended (reported through `InputHooks`)
    semantic_vad's judge and transcription read the heard stream in tasks of their own, off the reader's
    path: a session's socket is read while they think.

It owns the input side's state and nothing else: the session decides what a turn means for the
conversation and for responses. A settings change re-plans only what depends on it (see `configure`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from realtalk.audio.formats import FORMATS, Resampler
from realtalk.audio.g711 import Int16Array
from realtalk.audio.noise import suppress
from realtalk.engines.base import (
    EndOfTurnEngine,
    STTEngine,
    TranscriptDelta,
    TranscriptEvent,
    VADEngine,
    VADStream,
)
from realtalk.protocol import events as ev
from realtalk.protocol.config import InputAudio
from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.items import Item
from realtalk.session.heard_audio import HeardAudio
from realtalk.session.input_audio_buffer import InputAudioBuffer
from realtalk.session.turn_detection import (
    FINISHED_PROBABILITY,
    JudgeTurn,
    Paused,
    Resumed,
    SpeechStart,
    SpeechStop,
    TurnDetector,
    TurnEvent,
)

log = logging.getLogger(__name__)
_EMPTY = np.zeros(0, dtype=np.int16)


Prepared = Awaitable[list[TranscriptEvent]]  # a transcript already being made (by a speculation)


@dataclass
class TurnAudio:
    """One turn's audio: as received (for the item) and as the models hear it (None: not processed)."""

    audio: bytes
    heard: Int16Array | None
    pause_ms: float | None = None  # when the silence that ended it began (None: ended by hand)


class InputHooks(Protocol):
    async def turn_started(self, start_ms: float) -> None: ...

    async def turn_paused(self, pause_ms: float, heard: Int16Array) -> None:
        """The voice stopped; `heard` is the turn so far, as the models hear it."""

    async def turn_resumed(self) -> None: ...

    async def turn_ended(self, end_ms: float, turn: TurnAudio) -> None: ...

    async def idle_timeout(self, since_ms: float, now_ms: float, turn: TurnAudio) -> None: ...


class InputPipeline:
    def __init__(
        self,
        settings: InputAudio,
        *,
        vad: VADEngine,
        stt: STTEngine,
        turn: EndOfTurnEngine,
        emit: ev.Emit,
        hooks: InputHooks,
        lock: asyncio.Lock,
        max_buffer_seconds: float,
    ) -> None:
        self.settings = settings
        self.logprobs = False
        self.buffer = InputAudioBuffer(FORMATS[settings.format], max_buffer_seconds)
        self._vad = vad
        self._stt = stt
        self._turn = turn
        self._emit = emit
        self._hooks = hooks
        self._lock = lock  # the session's one lane for state changes, shared with the judge's verdicts
        self._detector: TurnDetector | None = None
        self._vad_stream: VADStream | None = None
        self._heard: HeardAudio | None = None
        self._pending = _EMPTY  # heard samples short of a whole VAD frame
        self._judge: asyncio.Task[None] | None = None
        self._transcriptions: dict[str, asyncio.Task[None]] = {}
        self._idle_since_ms: float | None = None
        self._plan_detection()

    # --- configuration -----------------------------------------------------------------------------

    def configure(self, settings: InputAudio, logprobs: bool) -> None:
        """Apply new input settings, touching only what depends on what changed."""
        old, self.settings, self.logprobs = self.settings, settings, logprobs
        if settings.format != old.format:
            fmt = FORMATS[settings.format]
            self.buffer.set_format(fmt)
            if self._heard is not None:  # what the old resampler held still reaches the VAD, in order
                self._pending = np.concatenate([self._pending, self._heard.set_input_rate(fmt.sample_rate)])
        if self._heard is not None:
            self._pending = np.concatenate([self._pending, self._heard.set_noise_reduction(settings.noise_reduction)])
        if settings.turn_detection != old.turn_detection:
            self._plan_detection()

    def _plan_detection(self) -> None:
        td = self.settings.turn_detection
        if td is None:
            self._stop_detection()
        elif self._detector is None:  # detection starts with the audio that follows
            now = self.buffer.received_ms
            vad = self._vad
            self._heard = HeardAudio(
                vad.sample_rate, self.buffer.format.sample_rate, self.settings.noise_reduction, now
            )
            self._detector = TurnDetector(td, vad.frame_samples * 1000 / vad.sample_rate, now)
            self._vad_stream = vad.open_stream()
        else:
            self._detector.config = td  # from the next frame on; nothing buffered or timed moves

    def _stop_detection(self) -> None:
        self._cancel_judge()
        self._detector, self._vad_stream, self._heard, self._pending = None, None, None, _EMPTY

    @property
    def heard_rate(self) -> int:
        """The sample rate of the heard stream (the VAD's)."""
        return self._vad.sample_rate

    # --- audio in ----------------------------------------------------------------------------------

    async def append(self, audio: bytes) -> None:
        self.buffer.append(audio)
        if self._detector is None or self._heard is None or self._vad_stream is None:
            return
        detector = self._detector
        frame = self._vad.frame_samples
        samples = np.concatenate([self._pending, self._heard.hear(self.buffer.format.decode(audio))])
        whole = len(samples) - len(samples) % frame
        self._pending = samples[whole:]
        if whole:
            for probability in await self._vad_stream.process(samples[:whole]):
                for event in detector.step(probability):
                    await self._on_turn_event(event)
        if self._detector is detector and not detector.speaking:
            self._drop_before(detector.position_ms - detector.config.prefix_padding_ms)
            await self._check_idle(detector)

    async def _on_turn_event(self, event: TurnEvent) -> None:
        match event:
            case SpeechStart(onset_ms=onset):
                assert self._detector is not None
                self._cancel_judge()
                start = max(self.buffer.start_ms, onset - self._detector.config.prefix_padding_ms)
                self._drop_before(start)
                self._idle_since_ms = None
                await self._hooks.turn_started(start)
            case SpeechStop(end_ms=end, pause_ms=pause):
                self._cancel_judge()
                heard = self._heard.take(end) if self._heard is not None else None
                await self._hooks.turn_ended(end, TurnAudio(self.buffer.take(end, minimum_ms=0), heard, pause))
            case Paused(pause_ms=pause) if self._heard is not None:
                await self._hooks.turn_paused(pause, self._heard.since(self._heard.start_ms))
            case Resumed():
                await self._hooks.turn_resumed()
            case JudgeTurn():
                self._cancel_judge()
                self._judge = asyncio.create_task(self._run_judge(event), name="end-of-turn judge")

    def _drop_before(self, ms: float) -> None:
        self.buffer.drop_before(ms)
        if self._heard is not None:
            self._heard.drop_before(ms)

    def take_all(self) -> TurnAudio:
        """A manual commit: all the buffered audio (at least 100 ms), and any turn in progress forgotten."""
        audio = self.buffer.take()
        heard = self._heard.take() if self._heard is not None else None
        self.end_turn()
        return TurnAudio(audio, heard)

    def clear(self) -> None:
        self.buffer.clear()
        if self._heard is not None:
            self._heard.clear()
        self.end_turn()

    def end_turn(self) -> None:
        self._cancel_judge()
        if self._detector is not None:
            self._detector.reset()

    # --- semantic_vad's judge ----------------------------------------------------------------------

    async def _run_judge(self, request: JudgeTurn) -> None:
        """Ask the end-of-turn model about the turn so far, then hand the verdict to the detector in the
        session's lane (a failing model counts as "finished": it must not hold the floor forever)."""
        detector, heard = self._detector, self._heard
        if detector is None or heard is None:
            return
        samples = _at_rate(heard.since(heard.start_ms), heard.rate, self._turn.sample_rate)
        try:
            probability = await self._turn.probability(samples)
        except Exception:
            log.exception("the end-of-turn model failed; the turn is treated as finished")
            probability = 1.0
        async with self._lock:
            if self._detector is detector:
                self._judge = None  # this task is finishing: cancelling it from here on would cancel the lock holder
                finished = probability >= FINISHED_PROBABILITY[detector.config.eagerness]
                stop = detector.decide(request.pause_ms, finished)
                try:
                    if stop is not None:
                        await self._on_turn_event(stop)
                except ProtocolError as exc:  # refused as on the reader's path (e.g. the conversation is full)
                    await self._emit(ev.Error.of(exc, None))

    def _cancel_judge(self) -> None:
        if self._judge is not None and self._judge is not asyncio.current_task():
            self._judge.cancel()
        self._judge = None

    # --- idle timeout ------------------------------------------------------------------------------

    def idle_from(self, ms: float | None) -> None:
        """The idle countdown runs from `ms` (when the last answer has played out), or not at all (None)."""
        self._idle_since_ms = ms

    async def _check_idle(self, detector: TurnDetector) -> None:
        """`idle_timeout_ms`: the user has said nothing that long since the last answer finished playing."""
        timeout, since = detector.config.idle_timeout_ms, self._idle_since_ms
        now = detector.position_ms
        if timeout is None or since is None or now - since < timeout:
            return
        self._idle_since_ms = None
        heard = self._heard.take() if self._heard is not None else None
        await self._hooks.idle_timeout(since, now, TurnAudio(self.buffer.take(minimum_ms=0), heard))

    # --- transcription -----------------------------------------------------------------------------

    def transcribe(
        self, item: Item, heard: Int16Array | None, *, announce: bool, prepared: Prepared | None = None
    ) -> None:
        """Transcribe a committed user item beside whatever else runs, so the LLM reads what was said.

        With `announce`, the client sees the transcript as it streams (the session's `transcription`
        setting); `prepared` is a transcript a speculation already made of the same turn.
        """
        self._transcriptions[item.id] = asyncio.create_task(
            self._transcribe(item, heard, announce, prepared), name=f"stt {item.id}"
        )

    async def transcripts_of(self, items: Iterable[Item]) -> None:
        """Wait for transcriptions of these items still running, so the LLM reads what was said."""
        pending = [self._transcriptions[i.id] for i in items if i.id in self._transcriptions]
        if pending:
            await asyncio.wait(pending)

    async def _transcribe(
        self, item: Item, heard: Int16Array | None, announce: bool, prepared: Prepared | None
    ) -> None:
        part = item.content[0]
        fmt = FORMATS[part.audio_format or "pcm16"]
        seconds = round(fmt.duration_ms(len(part.audio or b"")) / 1000, 3)
        try:
            async for result in self._results(part.audio or b"", fmt.name, heard, prepared):
                shown = list(result.logprobs) if self.logprobs else None
                if isinstance(result, TranscriptDelta):
                    if announce:
                        await self._emit(ev.TranscriptionDelta(item.id, 0, result.text, shown))
                    continue
                part.transcript = result.text
                if announce:
                    await self._emit(ev.TranscriptionCompleted(item.id, 0, result.text, seconds, shown))
        except Exception as exc:
            log.exception("transcription of %s failed", item.id)
            if announce:
                await self._emit(ev.TranscriptionFailed(item.id, 0, f"{type(exc).__name__}: {exc}"))
        finally:
            self._transcriptions.pop(item.id, None)

    async def _results(
        self, audio: bytes | bytearray, format_name: str, heard: Int16Array | None, prepared: Prepared | None
    ) -> AsyncIterator[TranscriptEvent]:
        """What the recognizer makes of a turn: prepared already, or heard now (from the heard stream if any)."""
        if prepared is not None:
            for result in await prepared:
                yield result
        elif heard is None or self._heard is None:
            async for result in self.listen(self._as_heard(bytes(audio), format_name), self._stt.sample_rate):
                yield result
        else:
            async for result in self.listen(heard, self._heard.rate):
                yield result

    def _as_heard(self, audio: bytes, format_name: str) -> Int16Array:
        """Audio that never went through the heard stream (manual mode, items): decoded, resampled, denoised."""
        fmt, rate = FORMATS[format_name], self._stt.sample_rate
        samples = Resampler(fmt.sample_rate, rate).process(fmt.decode(audio), last=True)
        noise = self.settings.noise_reduction
        return suppress(samples, noise.type, rate) if noise is not None else samples

    async def listen(self, samples: Int16Array, rate: int) -> AsyncIterator[TranscriptEvent]:
        """The recognizer's results for `samples` (at `rate`), with the session's language and prompt."""
        transcription = self.settings.transcription
        samples = _at_rate(samples, rate, self._stt.sample_rate)
        language = transcription.language if transcription else None
        prompt = transcription.prompt if transcription else None
        async for result in self._stt.transcribe(samples, language=language, prompt=prompt):
            yield result

    # --- lifecycle ---------------------------------------------------------------------------------

    def tasks(self) -> list[asyncio.Task[None]]:
        return [t for t in [self._judge, *self._transcriptions.values()] if t is not None and not t.done()]

    async def close(self) -> None:
        tasks = self.tasks()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._judge = None
        self._transcriptions.clear()


def _at_rate(samples: Int16Array, rate: int, wanted: int) -> Int16Array:
    """A whole clip at the rate an engine takes (the heard stream is at the VAD's rate, usually the same)."""
    return samples if rate == wanted else Resampler(rate, wanted).process(samples, last=True)
