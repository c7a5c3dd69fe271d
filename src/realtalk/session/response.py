"""One response: its task, its LLM stream and its status; what it writes is `ResponseOutput`'s job.

Each response runs in its own task. Cancelling it (client cancel, barge-in) closes whatever output is
open with the `*.done` events and sends `response.done`; tearing it down (disconnect) just stops it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from realtalk.engines.base import (
    Completion,
    LLMEvent,
    LLMRequest,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallStart,
)
from realtalk.engines.registry import Engines
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.errors import ProtocolError
from realtalk.session.conversation import ConversationStore
from realtalk.session.rate_limits import RateLimiter
from realtalk.session.response_output import ResponseOutput
from realtalk.session.speculation import Speculation
from realtalk.session.truncation import ContextTooLong

log = logging.getLogger(__name__)

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


class ResponseRun:
    def __init__(
        self,
        plan: ResponsePlan,
        engines: Engines,
        emit: ev.Emit,
        limiter: RateLimiter,
        on_audio: Callable[[], None],
        on_finish: Callable[[ResponseRun], None],
    ) -> None:
        self.plan = plan
        self.response = plan.response
        self._engines = engines
        self._emit = emit
        self._limiter = limiter
        self._on_finish = on_finish
        self._output = ResponseOutput(plan.response, emit, engines.tts, plan.conversation, plan.speed, on_audio)
        self._llm_events = 0
        self._cancel_reason: CancelReason | None = None
        self._running = False
        self.task: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self.response.id

    @property
    def audio_ms(self) -> float:
        """How long the speech this response produced lasts."""
        return self._output.audio_ms

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(self._run(), name=f"response {self.id}")
        return self.task

    def mute(self) -> None:
        """Drop any further deltas at once; used before announcing the speech that interrupts us."""
        self._output.muted = True

    def cancel(self, reason: CancelReason | None) -> None:
        """Stop the response; with a reason it still reports `response.done` (cancelled), without it is silent."""
        self._output.muted = True
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
            await self._output.close("incomplete" if length else "completed")
            response.status = "incomplete" if length else "completed"
            response.status_details = ev.StatusDetails("incomplete", "max_output_tokens") if length else None
        except asyncio.CancelledError:
            if self._cancel_reason is None:
                raise
            await self._output.close("incomplete")
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
        except ProtocolError as exc:  # a limit the output ran into (a full conversation): the client's to fix
            await self._output.close("incomplete")
            response.status = "failed"
            response.status_details = ev.StatusDetails(
                "failed", error={"type": exc.type, "code": exc.code, "message": exc.message}
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
            await self._output.close("incomplete")
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
        prefetch = self._output.prefetch = await speculation.take(request) if speculation is not None else None
        stream = prefetch.events() if prefetch is not None else self._engines.llm.stream(request)
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
                if isinstance(event, ToolCallStart) and self._output.calls and not self.plan.parallel_tool_calls:
                    return Completion("tool_calls", 0, self._llm_events)  # one call only: stop generating
                self._llm_events += 1
                await self._consume(event)
        finally:
            producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)
            if prefetch is not None:
                await prefetch.close()

    async def _consume(self, event: LLMEvent) -> None:
        match event:
            case TextDelta(text=text):
                await self._output.text(text)
            case ToolCallStart(call_id=call_id, name=name):
                await self._output.open_call(call_id or ids.call_id(), name)
            case ToolCallArgumentsDelta(delta=delta):
                await self._output.call_arguments(delta)

    def _usage(self, completion: Completion | None) -> ev.Usage:
        audio_tokens = math.ceil(self._output.audio_ms / OUTPUT_AUDIO_MS_PER_TOKEN)
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
