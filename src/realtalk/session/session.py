"""`RealtimeSession`: one connection's state machine, driven by client events, speaking through an outbox.

It knows no sockets and no dialect: a test drives it with plain objects, a transport adapts a wire.
Handlers return quickly; responses and transcriptions run in tasks the session owns and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from realtalk.audio.formats import FORMATS, Resampler
from realtalk.audio.noise import suppress
from realtalk.clock import Clock
from realtalk.engines.base import LLMRequest, TranscriptDelta, TranscriptEvent, TranscriptFinal
from realtalk.engines.registry import Engines
from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.errors import ProtocolError, from_validation_error, validated
from realtalk.protocol.items import Content, Item, ItemParam
from realtalk.protocol.session_config import (
    SessionConfig,
    TranscriptionSessionConfig,
    check_tools,
    merge_session,
    transcription_view,
)
from realtalk.session.context import chat_messages, function_specs, tool_choice_spec
from realtalk.session.conversation import Conversation
from realtalk.session.input_audio_buffer import InputAudioBuffer
from realtalk.session.rate_limits import RateLimiter
from realtalk.session.response import Emit, ResponsePlan, ResponseRun
from realtalk.session.turn_detection import SpeechStart, TurnDetector, looks_finished

log = logging.getLogger(__name__)
NOTICE_SECONDS = 5.0
LOGPROBS = "item.input_audio_transcription.logprobs"


@dataclass(frozen=True)
class SessionLimits:
    max_session_seconds: float = 30 * 60
    max_conversation_items: int = 4096
    max_input_buffer_seconds: float = 15 * 60
    requests_per_minute: int = 600
    tokens_per_minute: int = 1_000_000
    max_parallel_responses: int = 8


class RealtimeSession:
    def __init__(
        self,
        *,
        config: SessionConfig,
        engines: Engines,
        emit: Emit,
        clock: Clock,
        limits: SessionLimits = SessionLimits(),
        session_id: str | None = None,
    ) -> None:
        self.id = session_id or ids.session_id()
        self.config = config
        self.engines = engines
        self.clock = clock
        self.limits = limits
        self.created_at = clock.now()
        self.conversation = Conversation(limits.max_conversation_items)
        self.input_audio = InputAudioBuffer(FORMATS[config.input_audio_format], limits.max_input_buffer_seconds)
        self.turns: TurnDetector | None = None
        self._turn_item_id: str | None = None
        self._idle_since_ms: float | None = None
        self.expired = asyncio.Event()
        self._emit = emit
        self._limiter = RateLimiter(clock, limits.requests_per_minute, limits.tokens_per_minute)
        self._default_response: ResponseRun | None = None
        self._responses: dict[str, ResponseRun] = {}
        self._transcriptions: dict[str, asyncio.Task[None]] = {}
        self._audio_sent = False
        self._responded = False  # until then the model name (a label here) may still be set
        self._expiry: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        self._configure_turn_detection()
        await self._emit(ev.SessionCreated(self.info()))
        await self._emit(ev.ConversationCreated(self.conversation.id))
        self._expiry = asyncio.create_task(self._expire_after(self.limits.max_session_seconds))

    async def close(self) -> None:
        """Stop every task of this session without emitting anything (the client is gone)."""
        runs = list(self._responses.values())
        for run in runs:
            run.cancel(None)
        tasks = [*(r.task for r in runs if r.task), *self._transcriptions.values()]
        if self._expiry is not None:
            tasks.append(self._expiry)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._responses.clear()
        self._transcriptions.clear()

    def pending_tasks(self) -> int:
        """Tasks still running for this session (responses and transcriptions); 0 after `close`."""
        return sum(1 for r in self._responses.values() if r.task and not r.task.done()) + sum(
            1 for t in self._transcriptions.values() if not t.done()
        )

    def info(self) -> ev.SessionInfo:
        expires_at = int(self.created_at + self.limits.max_session_seconds)
        return ev.SessionInfo(self.id, expires_at, self.config)

    async def _expire_after(self, seconds: float) -> None:
        await self.clock.sleep(seconds)
        notice = ev.Error(f"Your session hit the maximum duration of {seconds / 60:g} minutes.", code="session_expired")
        with contextlib.suppress(TimeoutError):  # a client that stopped reading still gets closed
            await asyncio.wait_for(self._emit(notice), NOTICE_SECONDS)
        self.expired.set()

    # --- client events -----------------------------------------------------------------------------

    async def handle(self, event: ce.ClientEvent) -> None:
        """Apply one client event; a refusal becomes an `error` event and the session carries on."""
        try:
            await self._dispatch(event)
        except ProtocolError as exc:
            await self.report(exc, event.event_id)
        except Exception:
            log.exception("session %s failed to handle %s", self.id, type(event).__name__)
            await self._emit(
                ev.Error(
                    "The server failed to handle this event; the session goes on.",
                    type="server_error",
                    code="internal_error",
                    event_id=event.event_id,
                )
            )

    async def report(self, exc: ProtocolError, event_id: str | None) -> None:
        await self._emit(ev.Error(exc.message, exc.type, exc.code, exc.param, event_id))

    async def _dispatch(self, event: ce.ClientEvent) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise ProtocolError(
                f"'{type(event).__name__}' is not available in a realtime session.", code="unsupported_event"
            )
        await handler(self, event)

    async def _update_session(self, event: ce.UpdateSession) -> None:
        patch = event.session
        kind = patch.get("type", "realtime")
        if kind != self.config.type:
            hint = " (send transcription_session.update)" if self.config.type == "transcription" else ""
            raise ProtocolError(
                f"This is a {self.config.type} session; its type cannot change{hint}.",
                code="invalid_value",
                param="session.type",
            )
        if "model" in patch and patch["model"] != self.config.model and self._responded:
            raise ProtocolError(
                "The session's model cannot be changed once it has responded; open a new session instead.",
                code="invalid_value",
                param="session.model",
            )
        if self._audio_sent and "voice" in patch and patch["voice"] != self.config.voice:
            raise ProtocolError(
                "Cannot update a conversation's voice if assistant audio is present.",
                code="cannot_update_voice",
                param="session.voice",
            )
        self.config = _merged(self.config, patch)
        self.input_audio.set_format(FORMATS[self.config.input_audio_format])
        self._configure_turn_detection()
        await self._emit(ev.SessionUpdated(self.info()))

    async def _update_transcription_session(self, event: ce.UpdateTranscriptionSession) -> None:
        """Beta transcription sessions: the patch uses the transcription-session field names."""
        if self.config.type != "transcription":
            raise ProtocolError(
                "transcription_session.update is only valid in a transcription session "
                "(connect with ?intent=transcription).",
                code="unsupported_event",
                param="type",
            )
        current = transcription_view(self.config)
        merged = validated(TranscriptionSessionConfig, {**current, **event.session}, "session")
        self.config = merged.as_session(self.config.model)
        self.input_audio.set_format(FORMATS[self.config.input_audio_format])
        self._configure_turn_detection()
        await self._emit(ev.SessionUpdated(self.info()))

    async def _append_audio(self, event: ce.AppendInputAudio) -> None:
        buffer = self.input_audio
        buffer.append(event.audio)
        if self.turns is None:
            return
        for turn in await self.turns.feed(buffer.format.decode(event.audio)):
            if isinstance(turn, SpeechStart):
                await self._speech_started(turn.onset_ms)
            else:
                await self._speech_stopped(turn.end_ms)
        if not self.turns.speaking:  # keep only what a coming turn's prefix padding may need
            buffer.drop_before(self.turns.position_ms - self.turns.config.prefix_padding_ms)
            await self._check_idle()

    async def _commit_audio(self, event: ce.CommitInputAudio) -> None:
        audio = self.input_audio.take()
        item_id = self._turn_item_id or ids.item_id()
        self._end_turn()
        await self._commit(item_id, audio)

    async def _commit(self, item_id: str, audio: bytes) -> None:
        fmt = self.input_audio.format
        content = Content("input_audio", audio=audio, audio_format=fmt.name)
        item = Item(item_id, "message", "completed", "user", [content])
        previous = self.conversation.insert(item)
        await self._emit(ev.InputAudioCommitted(item.id, previous))
        await self._emit(ev.ItemCreated(item, previous))
        if self.config.input_audio_transcription is not None:
            self._transcriptions[item.id] = asyncio.create_task(self._transcribe(item))

    async def _clear_audio(self, event: ce.ClearInputAudio) -> None:
        self.input_audio.clear()
        self._end_turn()
        await self._emit(ev.InputAudioCleared())

    async def _clear_output_audio(self, event: ce.ClearOutputAudio) -> None:
        raise ProtocolError(
            "output_audio_buffer.clear applies to WebRTC and SIP connections only; over a "
            "WebSocket the client owns playback (use response.cancel).",
            code="unsupported_event",
            param="type",
        )

    async def _create_item(self, event: ce.CreateItem) -> None:
        item = _client_item(event.item, self.config)
        if item.type == "function_call_output" and not any(
            i.type == "function_call" and i.call_id == item.call_id for i in self.conversation.items
        ):
            raise ProtocolError(
                f"No function call with call_id '{item.call_id}' found in the conversation.",
                code="invalid_value",
                param="item.call_id",
            )
        previous = self.conversation.insert(item, event.previous_item_id)
        await self._emit(ev.ItemCreated(item, previous))

    async def _retrieve_item(self, event: ce.RetrieveItem) -> None:
        await self._emit(ev.ItemRetrieved(self.conversation.get(event.item_id)))

    async def _delete_item(self, event: ce.DeleteItem) -> None:
        self.conversation.delete(event.item_id)
        await self._emit(ev.ItemDeleted(event.item_id))

    async def _truncate_item(self, event: ce.TruncateItem) -> None:
        item = self.conversation.get(event.item_id)
        if (
            item.role != "assistant"
            or event.content_index >= len(item.content)
            or item.content[event.content_index].type != "audio"
        ):
            raise ProtocolError(
                "Only model output audio messages can be truncated.", code="unsupported_content_type", param="item_id"
            )
        part = item.content[event.content_index]
        fmt = FORMATS[part.audio_format or "pcm16"]
        audio = part.audio or b""
        duration = fmt.duration_ms(len(audio))
        if event.audio_end_ms > duration:
            raise ProtocolError(
                f"Audio content of {duration:.0f}ms is already shorter than {event.audio_end_ms}ms.",
                code="invalid_value",
                param="audio_end_ms",
            )
        part.audio = audio[: fmt.bytes_for_ms(event.audio_end_ms)]
        part.text = _heard_prefix(
            part.text if part.text is not None else part.transcript or "",
            event.audio_end_ms / duration if duration else 0.0,
        )
        part.transcript = None
        await self._emit(ev.ItemTruncated(item.id, event.content_index, event.audio_end_ms))

    async def _create_response(self, event: ce.CreateResponse) -> None:
        if self.config.type == "transcription":
            raise ProtocolError(
                "A transcription session transcribes; it does not create responses.",
                code="unsupported_event",
                param="type",
            )
        params = event.params
        in_conversation = params.conversation == "auto"
        if in_conversation and self._default_response is not None:
            raise ProtocolError(
                f"Conversation already has an active response in progress: {self._default_response.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
            )
        if len(self._responses) >= self.limits.max_parallel_responses:
            raise ProtocolError(
                f"At most {self.limits.max_parallel_responses} responses may run at once in a session.",
                code="too_many_responses",
            )
        self._responded = True
        run = ResponseRun(
            self._plan(params), self.engines, self._emit, self._limiter, self._audio_went_out, self._forget
        )
        self._responses[run.id] = run
        if in_conversation:
            self._default_response = run
        run.start()

    async def _cancel_response(self, event: ce.CancelResponse) -> None:
        run = self._responses.get(event.response_id) if event.response_id else self._default_response
        if run is None or run.response.status != "in_progress":
            raise ProtocolError(
                "Cancellation failed: no active response found.",
                code="response_cancel_not_active",
                param="response_id" if event.response_id else None,
            )
        run.cancel("client_cancelled")
        await run.wait()

    # --- turn detection ----------------------------------------------------------------------------

    def _configure_turn_detection(self) -> None:
        td = self.config.turn_detection
        buffer = self.input_audio
        if td is None:
            self.turns = None
            self._turn_item_id = None
        elif self.turns is None:
            self.turns = TurnDetector(
                self.engines.vad,
                td,
                buffer.format.sample_rate,
                buffer.received_ms,
                self.config.input_audio_noise_reduction,
                self._sounds_finished,
            )
        else:
            self.turns.reconfigure(
                td, buffer.format.sample_rate, buffer.received_ms, self.config.input_audio_noise_reduction
            )

    def _end_turn(self) -> None:
        self._turn_item_id = None
        if self.turns is not None:
            self.turns.reset()

    async def _speech_started(self, onset_ms: float) -> None:
        assert self.turns is not None
        buffer = self.input_audio
        start_ms = max(buffer.start_ms, onset_ms - self.turns.config.prefix_padding_ms)
        buffer.drop_before(start_ms)
        self._turn_item_id = ids.item_id()
        self._idle_since_ms = None
        run = self._default_response
        if run is not None and self.turns.config.interrupt_response:
            run.mute()  # not one more delta of it after `speech_started`
            await self._emit(ev.SpeechStarted(round(start_ms), self._turn_item_id))
            run.cancel("turn_detected")
            await run.wait()
        else:
            await self._emit(ev.SpeechStarted(round(start_ms), self._turn_item_id))

    async def _speech_stopped(self, end_ms: float) -> None:
        assert self.turns is not None
        item_id = self._turn_item_id or ids.item_id()
        self._turn_item_id = None
        await self._emit(ev.SpeechStopped(round(end_ms), item_id))
        audio = self.input_audio.take(end_ms, minimum_ms=0)
        await self._commit(item_id, audio)
        if self.turns.config.create_response and self._default_response is None:
            await self._create_response(ce.CreateResponse(None, ce.ResponseParams()))

    async def _check_idle(self) -> None:
        """`idle_timeout_ms`: the user has said nothing that long since the last answer finished playing."""
        assert self.turns is not None
        timeout = self.turns.config.idle_timeout_ms
        since = self._idle_since_ms
        if timeout is None or since is None or self._default_response is not None:
            return
        now = self.turns.position_ms
        if now - since < timeout:
            return
        self._idle_since_ms = None
        item_id = ids.item_id()
        await self._emit(ev.IdleTimeout(round(since), round(now), item_id))
        await self._commit(item_id, self.input_audio.take(minimum_ms=0))
        if self.turns.config.create_response:
            await self._create_response(ce.CreateResponse(None, ce.ResponseParams()))

    async def _sounds_finished(self, onset_ms: float) -> bool:
        """semantic_vad's judge: transcribe the turn so far and ask whether it reads as finished."""
        fmt = self.input_audio.format
        text = ""
        async for result in self._hear(self.input_audio.peek(onset_ms), fmt.name):
            if isinstance(result, TranscriptFinal):
                text = result.text
        return looks_finished(text)

    # --- responses ---------------------------------------------------------------------------------

    def _plan(self, params: ce.ResponseParams) -> ResponsePlan:
        config = self.config
        tools = params.tools if params.tools is not None else config.tools
        choice = params.tool_choice if params.tool_choice is not None else config.tool_choice
        try:
            check_tools(tools, choice)
        except ProtocolError as exc:
            raise exc.under("response") from None
        context = self._context(params.input) if params.input is not None else None
        max_tokens = (
            params.max_response_output_tokens
            if params.max_response_output_tokens is not None
            else config.max_response_output_tokens
        )
        temperature = params.temperature if params.temperature is not None else config.temperature
        instructions = params.instructions if params.instructions is not None else config.instructions
        response = ev.Response(
            id=ids.response_id(),
            conversation_id=self.conversation.id if params.conversation == "auto" else None,
            modalities=list(params.modalities or config.modalities),
            voice=params.voice or config.voice,
            output_audio_format=params.output_audio_format or config.output_audio_format,
            temperature=temperature,
            max_output_tokens=max_tokens,
            metadata=params.metadata,
        )

        async def request() -> LLMRequest:
            items = context if context is not None else list(self.conversation.items)
            await self._transcripts_of(items)
            return LLMRequest(
                messages=chat_messages(instructions, items),
                tools=function_specs(tools),
                tool_choice=tool_choice_spec(choice, tools),
                temperature=temperature,
                max_output_tokens=None if max_tokens == "inf" else int(max_tokens),
            )

        conversation = self.conversation if params.conversation == "auto" else None
        parallel = params.parallel_tool_calls if params.parallel_tool_calls is not None else config.parallel_tool_calls
        return ResponsePlan(response, request, config.speed, conversation, parallel)

    def _context(self, inputs: list[ItemParam]) -> list[Item]:
        """`response.input`: fresh items, or references to items of the conversation."""
        items = []
        for index, param in enumerate(inputs):
            where = f"response.input[{index}]"
            if param.type == "item_reference":
                try:
                    param.check()
                except ProtocolError as exc:
                    raise exc.under(where) from None
                items.append(self.conversation.get(param.id or "", f"{where}.id"))
            else:
                items.append(_client_item(param, self.config, where))
        return items

    def _forget(self, run: ResponseRun) -> None:
        self._responses.pop(run.id, None)
        if self._default_response is run:
            self._default_response = None
            # the idle countdown starts once the client has played this answer out
            self._idle_since_ms = self.input_audio.received_ms + run.audio_ms

    def _audio_went_out(self) -> None:
        self._audio_sent = True

    # --- input transcription -----------------------------------------------------------------------

    async def _transcripts_of(self, items: list[Item]) -> None:
        """Wait for transcriptions of these items still running, so the LLM reads what was said."""
        pending = [self._transcriptions[i.id] for i in items if i.id in self._transcriptions]
        if pending:
            await asyncio.wait(pending)

    async def _hear(self, audio: bytes, format_name: str) -> AsyncIterator[TranscriptEvent]:
        """What the STT hears in `audio`: resampled to its rate, noise-reduced as the session asks."""
        settings = self.config.input_audio_transcription
        stt = self.engines.stt
        fmt = FORMATS[format_name]
        samples = Resampler(fmt.sample_rate, stt.sample_rate).process(fmt.decode(audio), last=True)
        noise = self.config.input_audio_noise_reduction
        if noise is not None:
            samples = suppress(samples, noise.type, stt.sample_rate)
        language = settings.language if settings else None
        async for result in stt.transcribe(samples, language=language, prompt=settings.prompt if settings else None):
            yield result

    async def _transcribe(self, item: Item) -> None:
        """Stream the transcript of a committed user item: deltas, then the whole (or a failure)."""
        part = item.content[0]
        logprobs = LOGPROBS in self.config.include
        try:
            fmt = FORMATS[part.audio_format or "pcm16"]
            async for result in self._hear(part.audio or b"", fmt.name):
                if isinstance(result, TranscriptDelta):
                    shown = list(result.logprobs) if logprobs else None
                    await self._emit(ev.TranscriptionDelta(item.id, 0, result.text, shown))
                else:
                    part.transcript = result.text
                    seconds = round(fmt.duration_ms(len(part.audio or b"")) / 1000, 3)
                    shown = list(result.logprobs) if logprobs else None
                    await self._emit(ev.TranscriptionCompleted(item.id, 0, result.text, seconds, shown))
        except Exception as exc:
            log.exception("transcription of %s failed", item.id)
            await self._emit(ev.TranscriptionFailed(item.id, 0, f"{type(exc).__name__}: {exc}"))
        finally:
            self._transcriptions.pop(item.id, None)


def _merged(config: SessionConfig, patch: dict[str, Any]) -> SessionConfig:
    try:
        return merge_session(config, patch)
    except ValidationError as exc:
        raise from_validation_error(exc, "session") from None
    except ProtocolError as exc:
        raise exc.under("session") from None


def _client_item(param: ItemParam, config: SessionConfig, where: str = "item") -> Item:
    try:
        return param.to_item(config.input_audio_format)
    except ProtocolError as exc:
        raise exc.under(where) from None


def _heard_prefix(text: str, fraction: float) -> str:
    """The words of `text` that fit in `fraction` of it: what the listener heard before truncation."""
    cut = int(len(text) * max(0.0, min(1.0, fraction)))
    if cut >= len(text) or text[cut] == " ":
        return text[:cut]
    return text[:cut].rsplit(" ", 1)[0] if " " in text[:cut] else ""


Handler = Callable[[RealtimeSession, Any], Awaitable[None]]
_HANDLERS: dict[type[Any], Handler] = {
    ce.UpdateSession: RealtimeSession._update_session,
    ce.UpdateTranscriptionSession: RealtimeSession._update_transcription_session,
    ce.AppendInputAudio: RealtimeSession._append_audio,
    ce.CommitInputAudio: RealtimeSession._commit_audio,
    ce.ClearInputAudio: RealtimeSession._clear_audio,
    ce.ClearOutputAudio: RealtimeSession._clear_output_audio,
    ce.CreateItem: RealtimeSession._create_item,
    ce.RetrieveItem: RealtimeSession._retrieve_item,
    ce.DeleteItem: RealtimeSession._delete_item,
    ce.TruncateItem: RealtimeSession._truncate_item,
    ce.CreateResponse: RealtimeSession._create_response,
    ce.CancelResponse: RealtimeSession._cancel_response,
}
