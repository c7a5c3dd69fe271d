"""One response: LLM tokens → output items, with text, or speech through the sentence chunker and TTS.

Each response runs in its own task. Cancelling it (client cancel, barge-in) closes whatever output is
open with the `*.done` events and sends `response.done`; tearing it down (disconnect) just stops it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from realtalk.audio.formats import FORMATS, AudioEncoder
from realtalk.engines.base import (
    Completion,
    LLMEvent,
    LLMRequest,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallStart,
)
from realtalk.engines.registry import Engines
from realtalk.engines.speech_text import SentenceChunker
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.items import Content, Item
from realtalk.session.conversation import ConversationStore
from realtalk.session.rate_limits import RateLimiter
from realtalk.session.speculation import Prefetch, Speculation
from realtalk.session.truncation import ContextTooLong

log = logging.getLogger(__name__)

Emit = Callable[[ev.ServerEvent], Awaitable[None]]
CancelReason = Literal["turn_detected", "client_cancelled"]
OUTPUT_AUDIO_MS_PER_TOKEN = 50
_PREFETCH = 256
_EMPTY = np.zeros(0, dtype=np.int16)


@dataclass
class ResponsePlan:
    """Everything a response needs, resolved from session config, overrides and conversation."""

    response: ev.Response
    request: Callable[[], Awaitable[LLMRequest]]
    speed: float
    conversation: ConversationStore | None
    parallel_tool_calls: bool = True
    speculation: Speculation | None = None  # an answer prepared during the silence, if the turn had one


@dataclass
class _OpenMessage:
    item: Item
    output_index: int
    audio: bool
    text: str = ""
    speech: bytearray = field(default_factory=bytearray)  # grows in place: no copy per chunk
    chunker: SentenceChunker = field(default_factory=SentenceChunker)
    encoder: AudioEncoder | None = None


@dataclass
class _OpenCall:
    item: Item
    output_index: int


class ResponseRun:
    def __init__(
        self,
        plan: ResponsePlan,
        engines: Engines,
        emit: Emit,
        limiter: RateLimiter,
        on_audio: Callable[[], None],
        on_finish: Callable[[ResponseRun], None],
    ) -> None:
        self.plan = plan
        self.response = plan.response
        self._engines = engines
        self._emit = emit
        self._limiter = limiter
        self._on_audio = on_audio
        self._on_finish = on_finish
        self._message: _OpenMessage | None = None
        self._call: _OpenCall | None = None
        self._audio_ms = 0.0
        self._llm_events = 0
        self._calls = 0
        self._previous: dict[str, str | None] = {}
        self._muted = False
        self._cancel_reason: CancelReason | None = None
        self._running = False
        self._prefetch: Prefetch | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self.response.id

    @property
    def audio_ms(self) -> float:
        """How long the speech this response produced lasts."""
        return self._audio_ms

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(self._run(), name=f"response {self.id}")
        return self.task

    def mute(self) -> None:
        """Drop any further deltas at once; used before announcing the speech that interrupts us."""
        self._muted = True

    def cancel(self, reason: CancelReason | None) -> None:
        """Stop the response; with a reason it still reports `response.done` (cancelled), without it is silent."""
        self._muted = True
        if self._cancel_reason is None:
            self._cancel_reason = reason
        if self.task is None or self.task.done():
            return
        if self._running or reason is None:
            self.task.cancel()
        # else: not started yet; `_run` sees the reason first thing and reports the cancellation itself

    async def wait(self) -> None:
        if self.task is not None:
            await asyncio.wait({self.task})

    # --- the run ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._respond()
        finally:  # whatever ended it, an answer prepared for it and not taken stops here
            if self.plan.speculation is not None:
                await self.plan.speculation.release()

    async def _respond(self) -> None:
        self._running = True
        response = self.response
        completion: Completion | None = None
        try:
            await self._emit(ev.ResponseCreated(response))
            exhausted = self._limiter.exhausted()
            self._limiter.spend(requests=1)
            await self._emit(ev.RateLimitsUpdated(self._limiter.snapshot()))
            if self._cancel_reason is not None:
                raise asyncio.CancelledError
            if exhausted:
                raise _RateLimited(exhausted)
            completion = await self._generate()
            length = completion.finish_reason == "length"
            await self._close_outputs("incomplete" if length else "completed")
            response.status = "incomplete" if length else "completed"
            response.status_details = ev.StatusDetails("incomplete", "max_output_tokens") if length else None
        except asyncio.CancelledError:
            if self._cancel_reason is None:
                raise
            await self._close_outputs("incomplete")
            response.status = "cancelled"
            response.status_details = ev.StatusDetails("cancelled", self._cancel_reason)
        except ContextTooLong as exc:
            response.status = "failed"
            response.status_details = ev.StatusDetails(
                "failed",
                error={
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                    "message": f"The conversation does not fit the model's context window: {exc}. "
                    + (
                        "The instructions and the last user turn must stay: shorten them, or lower max_output_tokens."
                        if exc.dropping
                        else "Delete older items, or set the session's truncation to 'auto'."
                    ),
                },
            )
        except _RateLimited as exc:
            response.status = "failed"
            response.status_details = ev.StatusDetails(
                "failed",
                error={
                    "type": exc.budget,
                    "code": "rate_limit_exceeded",
                    "message": f"Rate limit reached for {exc.budget} per minute in this session.",
                },
            )
        except Exception as exc:
            log.exception("response %s failed", self.id)
            await self._close_outputs("incomplete")
            response.status = "failed"
            response.status_details = ev.StatusDetails(
                "failed",
                error={"type": "server_error", "code": "engine_error", "message": f"{type(exc).__name__}: {exc}"},
            )
        response.usage = self._usage(completion)
        self._limiter.spend(tokens=response.usage.input_tokens + response.usage.output_tokens)
        self._on_finish(self)  # before `response.done`, so a client reacting to it may respond at once
        await self._emit(ev.ResponseDone(response))

    async def _generate(self) -> Completion:
        """Run the LLM ahead of the consumer (so TTS of one sentence overlaps the next tokens)."""
        request = await self.plan.request()
        speculation = self.plan.speculation
        self._prefetch = await speculation.take(request) if speculation is not None else None
        stream = self._prefetch.events() if self._prefetch is not None else self._engines.llm.stream(request)
        queue: asyncio.Queue[LLMEvent | BaseException | None] = asyncio.Queue(_PREFETCH)

        async def pump() -> None:
            try:
                async for event in stream:
                    await queue.put(event)
            except Exception as exc:  # handed to the consumer, which fails the response with it
                await queue.put(exc)
            else:
                await queue.put(None)

        producer = asyncio.create_task(pump(), name=f"llm {self.id}")
        try:
            while True:
                event = await queue.get()
                if isinstance(event, BaseException):
                    raise event
                if event is None:
                    raise RuntimeError("the LLM stream ended without a completion")
                if isinstance(event, Completion):
                    return event
                if isinstance(event, ToolCallStart) and self._calls and not self.plan.parallel_tool_calls:
                    return Completion("tool_calls", 0, self._llm_events)  # one call only: stop generating
                self._llm_events += 1
                await self._consume(event)
        finally:
            producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)
            if self._prefetch is not None:
                await self._prefetch.close()

    async def _consume(self, event: LLMEvent) -> None:
        match event:
            case TextDelta(text=text):
                await self._text(text)
            case ToolCallStart(call_id=call_id, name=name):
                await self._close_outputs("completed")
                await self._open_call(call_id or ids.call_id(), name)
            case ToolCallArgumentsDelta(delta=delta) if self._call is not None:
                call = self._call
                call.item.arguments = (call.item.arguments or "") + delta
                await self._emit(
                    ev.FunctionArgumentsDelta(self.id, call.item.id, call.output_index, call.item.call_id or "", delta)
                )

    # --- output items ----------------------------------------------------------------------------

    async def _add_output(self, item: Item) -> int:
        output_index = len(self.response.output)
        self.response.output.append(item)
        await self._emit(ev.OutputItemAdded(self.id, output_index, item))
        conversation = self.plan.conversation
        if conversation is not None:
            previous = conversation.insert(item)
            self._previous[item.id] = previous
            await self._emit(ev.ItemCreated(item, previous))
        return output_index

    async def _item_done(self, index: int, item: Item) -> None:
        await self._emit(ev.OutputItemDone(self.id, index, item))
        if item.id in self._previous:
            await self._emit(ev.ItemDone(item, self._previous[item.id]))

    async def _text(self, text: str) -> None:
        if self._call is not None:
            return  # text after a tool call is not part of any item the protocol can express
        message = self._message or await self._open_message()
        message.text += text
        if not message.audio:
            message.item.content[0].text = message.text
            await self._stream(message, "text", text)
            return
        for clause in message.chunker.push(text):
            await self._speak(message, clause)

    async def _open_message(self) -> _OpenMessage:
        """The item is announced with no content (as OpenAI does), then its one content part is added."""
        audio = self.response.modality == "audio"
        item = Item(ids.item_id(), "message", "in_progress", "assistant", [])
        output_index = await self._add_output(item)
        message = _OpenMessage(item, output_index, audio)
        if audio:
            fmt = self.response.output_format
            item.content.append(Content("output_audio", transcript="", audio=message.speech, audio_format=fmt))
            message.encoder = AudioEncoder(self._engines.tts.sample_rate, FORMATS[fmt])
        else:
            item.content.append(Content("output_text", text=""))
        self._message = message
        await self._emit(ev.ContentPartAdded(self.id, item.id, output_index, 0, "audio" if audio else "text"))
        return self._message

    async def _speak(self, message: _OpenMessage, clause: str) -> None:
        part = message.item.content[0]
        part.transcript = (part.transcript or "") + clause
        await self._stream(message, "transcript", clause)
        if not clause.strip():
            return
        assert message.encoder is not None
        tts, text, voice, speed = self._engines.tts, clause.strip(), self.response.voice, self.plan.speed
        prepared = self._prefetch.speech(text, voice, speed) if self._prefetch is not None else None
        async for samples in prepared or tts.synthesize(text, voice=voice, speed=speed):
            await self._audio(message, message.encoder.encode(samples), len(samples) * 1000 / tts.sample_rate)

    async def _audio(self, message: _OpenMessage, data: bytes, ms: float) -> None:
        self._audio_ms += ms
        if not data:
            return
        message.speech += data
        self._on_audio()
        await self._stream(message, "audio", data)

    async def _stream(self, message: _OpenMessage, kind: ev.StreamKind, delta: str | bytes) -> None:
        if not self._muted:
            await self._emit(ev.ContentDelta(self.id, message.item.id, message.output_index, 0, kind, delta))

    async def _open_call(self, call_id: str, name: str) -> None:
        item = Item(ids.item_id(), "function_call", "in_progress", call_id=call_id, name=name, arguments="")
        self._calls += 1
        self._call = _OpenCall(item, await self._add_output(item))

    async def _close_outputs(self, status: Literal["completed", "incomplete"]) -> None:
        if self._message is not None:
            await self._close_message(self._message, status)
            self._message = None
        if self._call is not None:
            call, self._call = self._call, None
            item = call.item
            item.status = status
            await self._emit(
                ev.FunctionArgumentsDone(
                    self.id, item.id, call.output_index, item.call_id or "", item.name or "", item.arguments or ""
                )
            )
            await self._item_done(call.output_index, item)

    async def _close_message(self, message: _OpenMessage, status: Literal["completed", "incomplete"]) -> None:
        item, index = message.item, message.output_index
        if message.audio and status == "completed":
            rest = message.chunker.flush()
            if rest:
                await self._speak(message, rest)
            assert message.encoder is not None
            await self._audio(message, message.encoder.encode(_EMPTY, last=True), 0.0)
        part = item.content[0]
        if message.audio:
            await self._emit(ev.ContentDone(self.id, item.id, index, 0, "audio"))
            await self._emit(ev.ContentDone(self.id, item.id, index, 0, "transcript", part.transcript or ""))
        else:
            await self._emit(ev.ContentDone(self.id, item.id, index, 0, "text", part.text or ""))
        await self._emit(
            ev.ContentPartDone(
                self.id,
                item.id,
                index,
                0,
                "audio" if message.audio else "text",
                (part.transcript if message.audio else part.text) or "",
            )
        )
        item.status = status
        await self._item_done(index, item)

    def _usage(self, completion: Completion | None) -> ev.Usage:
        audio_tokens = math.ceil(self._audio_ms / OUTPUT_AUDIO_MS_PER_TOKEN)
        if completion is None:  # stopped early: count what the LLM had streamed so far
            return ev.Usage(output_text_tokens=self._llm_events, output_audio_tokens=audio_tokens)
        return ev.Usage(
            input_text_tokens=completion.input_tokens,
            output_text_tokens=completion.output_tokens,
            output_audio_tokens=audio_tokens,
        )


class _RateLimited(Exception):
    def __init__(self, budget: str) -> None:
        super().__init__(budget)
        self.budget = budget
