"""`Responder`: the session's response runs — planned from config and overrides, started, cancelled.

At most one response writes into the default conversation at a time (the protocol's rule); others
(`conversation: "none"`) run beside it, up to a cap. Each run is its own task (see `ResponseRun`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from realtalk.engines.base import LLMRequest
from realtalk.engines.registry import Engines
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.client_events import ResponseOverrides
from realtalk.protocol.config import FunctionTool, MaxTokens, SessionConfig, ToolChoice, check_tools
from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.items import Content, Item, ItemParam
from realtalk.session.context import chat_messages, fitted, function_specs, tool_choice_spec
from realtalk.session.conversation import ConversationStore
from realtalk.session.rate_limits import RateLimiter
from realtalk.session.response import CancelReason, ResponsePlan, ResponseRun
from realtalk.session.speculation import Speculation


@dataclass(frozen=True)
class ResponderHooks:
    """What the session hears of responses: the default one started / finished, audio went out."""

    started: Callable[[], None]
    finished: Callable[[ResponseRun], None]
    audio_sent: Callable[[], None]
    transcripts_of: Callable[[list[Item]], Awaitable[None]]


class Responder:
    def __init__(
        self,
        engines: Engines,
        emit: ev.Emit,
        limiter: RateLimiter,
        conversation: ConversationStore,
        hooks: ResponderHooks,
        max_parallel: int,
    ) -> None:
        self._engines = engines
        self._emit = emit
        self._limiter = limiter
        self._conversation = conversation
        self._hooks = hooks
        self._max_parallel = max_parallel
        self._runs: dict[str, ResponseRun] = {}
        self._running: set[asyncio.Task[None]] = set()  # until each run's last event is out, `response.done` too
        self.default: ResponseRun | None = None  # the run writing into the default conversation, if any
        self.has_responded = False
        self._truncated: set[str] = set()  # conversation items cut from the context: they stay out

    def create(
        self, overrides: ResponseOverrides, config: SessionConfig, speculation: Speculation | None = None
    ) -> ResponseRun:
        """Plan and start a response; refusals (one already in the conversation, too many) raise."""
        in_conversation = overrides.conversation == "auto"
        if in_conversation and self.default is not None:
            raise ProtocolError(
                f"Conversation already has an active response in progress: {self.default.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
            )
        if len(self._runs) >= self._max_parallel:
            raise ProtocolError(
                f"At most {self._max_parallel} responses may run at once in a session.", code="too_many_responses"
            )
        if in_conversation:  # its output would have nowhere to go (an out-of-band response writes none)
            self._conversation.require_room()
        run = ResponseRun(
            self._plan(overrides, config, speculation),
            self._engines,
            self._emit,
            self._limiter,
            self._hooks.audio_sent,
            self._forget,
        )
        self.has_responded = True
        self._runs[run.id] = run
        if in_conversation:
            self.default = run
            self._hooks.started()
        task = run.start()
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return run

    async def cancel(self, response_id: str | None) -> None:
        """`response.cancel`: the named response, else the default one; it ends with `response.done`."""
        run = self._runs.get(response_id) if response_id else self.default
        if run is None or run.response.status != "in_progress":
            raise ProtocolError(
                "Cancellation failed: no active response found.",
                code="response_cancel_not_active",
                path=("response_id",) if response_id else None,
            )
        run.cancel("client_cancelled")
        await run.wait()

    async def interrupt(self, announce: Callable[[], Awaitable[None]], reason: CancelReason) -> None:
        """Barge-in: silence the default response at once, `announce` the speech, then cancel it."""
        run = self.default
        if run is None:
            await announce()
            return
        run.mute()  # not one more delta of it after the announcement
        await announce()
        run.cancel(reason)
        await run.wait()

    async def until_idle(self) -> None:
        """Return once no response is running (at once if none is), its `response.done` sent: a draining
        server closes the session then."""
        while self._running:
            await asyncio.wait(set(self._running))

    def tasks(self) -> list[asyncio.Task[None]]:
        return [r.task for r in self._runs.values() if r.task is not None and not r.task.done()]

    async def close(self) -> None:
        """Stop every run without a word (the client is gone)."""
        runs = list(self._runs.values())
        for run in runs:
            run.cancel(None)
        await asyncio.gather(*(r.task for r in runs if r.task), return_exceptions=True)
        self._runs.clear()
        self.default = None

    def _forget(self, run: ResponseRun) -> None:
        self._runs.pop(run.id, None)
        if self.default is run:
            self.default = None
            self._hooks.finished(run)

    # --- planning ----------------------------------------------------------------------------------

    def _plan(
        self, overrides: ResponseOverrides, config: SessionConfig, speculation: Speculation | None
    ) -> ResponsePlan:
        asked = _Asked.of(overrides, config)
        context = self._context(overrides.input, config) if overrides.input is not None else None
        in_conversation = overrides.conversation == "auto"
        response = ev.Response(
            id=ids.response_id(),
            conversation_id=self._conversation.id if in_conversation else None,
            modality=overrides.modality or config.modality,
            voice=overrides.voice or config.output.voice,
            output_format=overrides.output_format or config.output.format,
            temperature=asked.temperature,
            max_output_tokens=asked.max_tokens,
            metadata=overrides.metadata,
        )

        async def request() -> LLMRequest:
            items = context if context is not None else self._conversation_context()
            await self._hooks.transcripts_of(items)
            request, left_out = await self._request(asked, items, config)
            if context is None:
                self._truncated |= left_out
            return request

        parallel = _given(overrides.parallel_tool_calls, config.parallel_tool_calls)
        conversation = self._conversation if in_conversation else None
        return ResponsePlan(response, request, config.output.speed, conversation, parallel, speculation)

    def speculative_request(self, config: SessionConfig) -> Callable[[str], Awaitable[LLMRequest]]:
        """The request a default response would make if the turn being spoken now ended as `words`.

        The conversation is read now, at the pause: by the time the words are known the turn may have
        ended and its own item joined the conversation, which must not then be read twice.
        """
        before = self._conversation_context()
        asked = _Asked.of(ResponseOverrides(), config)

        async def request_for(words: str) -> LLMRequest:
            said = Item("speculative", "message", "completed", "user", [Content("input_audio", transcript=words)])
            request, _ = await self._request(asked, [*before, said], config)
            return request

        return request_for

    async def _request(self, asked: _Asked, items: list[Item], config: SessionConfig) -> tuple[LLMRequest, set[str]]:
        """The LLM request for `items`, fitted to the engine's window; also the items truncation left out."""
        chat = chat_messages(asked.instructions, items)
        whole = LLMRequest(
            messages=chat.messages,
            tools=function_specs(asked.tools),
            tool_choice=tool_choice_spec(asked.tool_choice, asked.tools),
            temperature=asked.temperature,
            max_output_tokens=None if asked.max_tokens == "inf" else int(asked.max_tokens),
        )
        return await fitted(self._engines.llm, whole, chat, config.truncation)

    def _conversation_context(self) -> list[Item]:
        """The conversation as the model reads it: less what truncation has already cut from its front."""
        return [item for item in self._conversation.items if item.id not in self._truncated]

    def _context(self, inputs: list[ItemParam], config: SessionConfig) -> list[Item]:
        """`response.input`: fresh items, or references to items of the conversation."""
        items = []
        for index, param in enumerate(inputs):
            where = ("response", "input", index)
            try:
                if param.type == "item_reference":
                    param.check()
                    items.append(self._conversation.get(param.id or "", "id"))
                else:
                    items.append(param.to_item(config.input.format))
            except ProtocolError as exc:
                raise exc.under(*where) from None
        return items


T = TypeVar("T")


@dataclass(frozen=True)
class _Asked:
    """What a response asks of the model: the session's settings under the response's overrides."""

    instructions: str
    tools: list[FunctionTool]
    tool_choice: ToolChoice
    temperature: float
    max_tokens: MaxTokens

    @classmethod
    def of(cls, overrides: ResponseOverrides, config: SessionConfig) -> _Asked:
        tools = _given(overrides.tools, config.tools)
        choice = _given(overrides.tool_choice, config.tool_choice)
        try:
            check_tools(tools, choice)
        except ProtocolError as exc:
            raise exc.under("response") from None
        return cls(
            _given(overrides.instructions, config.instructions),
            tools,
            choice,
            _given(overrides.temperature, config.temperature),
            _given(overrides.max_output_tokens, config.max_output_tokens),
        )


def _given(override: T | None, default: T) -> T:
    """A response's override where it gives one (even a falsy one), else the session's setting."""
    return default if override is None else override
