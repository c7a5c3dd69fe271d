"""`RealtimeSession`: one connection's session — it routes client events to the parts that own them.

    client events ─▶ RealtimeSession ─┬─ InputPipeline     (input audio → turns, transcripts)
                                      ├─ ConversationStore (items)
                                      └─ Responder         (response runs)
    server events ◀─ one outbox (`emit`)

It knows no sockets and no dialect: a transport (WebSocket today; WebRTC and telephony next) is given
a built session and feeds it decoded events. Handlers return quickly; responses, transcriptions and the
end-of-turn judge run in tasks their owners stop. State changes happen in one lane (`_lock`), whether
they come from the reader or from a verdict arriving off it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from dataclasses import dataclass

from realtalk.audio.g711 import Int16Array
from realtalk.clock import Clock
from realtalk.engines.registry import Engines
from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.client_events import ResponseOverrides
from realtalk.protocol.config import LOGPROBS, SessionConfig, SessionPatch
from realtalk.protocol.errors import PARAM, FieldPath, ProtocolError
from realtalk.protocol.items import Content, Item
from realtalk.session.conversation import ConversationStore
from realtalk.session.input_pipeline import InputPipeline, TurnAudio
from realtalk.session.observer import SessionObserver
from realtalk.session.playback import Heard, Playback
from realtalk.session.rate_limits import RateLimiter
from realtalk.session.responder import Responder, ResponderHooks
from realtalk.session.response import CancelReason, ResponseRun
from realtalk.session.speculation import Speculation, SpeculationStats, Speculator

log = logging.getLogger(__name__)
NOTICE_SECONDS = 5.0


@dataclass(frozen=True)
class SessionLimits:
    max_session_seconds: float = 30 * 60
    max_conversation_items: int = 4096
    max_input_buffer_seconds: float = 15 * 60
    requests_per_minute: int = 600
    tokens_per_minute: int = 1_000_000
    max_parallel_responses: int = 8
    max_audio_bytes: int = 200 * 1024 * 1024  # buffered and in the conversation, user and assistant


class RealtimeSession:
    def __init__(
        self,
        *,
        config: SessionConfig,
        engines: Engines,
        clock: Clock,
        emit: ev.Emit | None = None,
        limits: SessionLimits = SessionLimits(),
        session_id: str | None = None,
        speculation: SpeculationStats | None = None,
        observer: SessionObserver | None = None,
    ) -> None:
        self.id = session_id or ids.session_id()
        self.config = config
        self.clock = clock
        self.limits = limits
        self.created_at = clock.now()
        self.expired = asyncio.Event()
        self._sink = emit  # where server events go: given now, or by a transport through `attach`
        self._playback: Playback | None = None  # set when the transport plays the answer itself
        self._observer = observer
        self._lock = asyncio.Lock()
        self._turn_item_id: str | None = None
        self._audio_sent = False
        self._expiry: asyncio.Task[None] | None = None
        self._speculator = Speculator(speculation, engines.llm, engines.tts)
        self.conversation = ConversationStore(limits.max_conversation_items)
        # The parts reach back to their session weakly. Holding it (its hooks, its outbox) would make every
        # session a reference cycle, which only the cyclic garbage collector frees, at a full collection that
        # under load comes hundreds of megabytes later; this way a session is freed once its transport lets go.
        this = weakref.proxy(self)

        async def outbox(event: ev.ServerEvent) -> None:
            await this._emit(event)

        self.input = InputPipeline(
            config.input,
            vad=engines.vad,
            stt=engines.stt,
            turn=engines.turn,
            emit=outbox,
            hooks=this,
            lock=self._lock,
            max_buffer_seconds=limits.max_input_buffer_seconds,
        )
        self.input.configure(config.input, LOGPROBS in config.include)
        self.responder = Responder(
            engines,
            outbox,
            RateLimiter(clock, limits.requests_per_minute, limits.tokens_per_minute),
            self.conversation,
            ResponderHooks(
                started=lambda: this.input.idle_from(None),
                finished=lambda run: this._response_finished(run),
                audio_sent=lambda: this._audio_went_out(),
                transcripts_of=self.input.transcripts_of,
            ),
            limits.max_parallel_responses,
        )

    # --- lifecycle ---------------------------------------------------------------------------------

    def attach(self, emit: ev.Emit, playback: Playback | None = None) -> None:
        """Connect a built session to its transport's outbox (WebSocket, WebRTC data channel, phone bridge).

        A transport that plays the answer itself passes its `playback`: a barge-in then clears it and
        keeps in the conversation only what the listener heard.
        """
        self._sink = emit
        self._playback = playback

    async def _emit(self, event: ev.ServerEvent) -> None:
        if self._sink is None:
            raise RuntimeError("the session has no transport attached")
        if self._observer is not None:
            self._observer.sent(event)
        await self._sink(event)

    async def start(self) -> None:
        await self._emit(ev.SessionCreated(self.info()))
        await self._emit(ev.ConversationCreated(self.conversation.id))
        self._expiry = asyncio.create_task(self._expire_after(self.limits.max_session_seconds))

    async def close(self) -> None:
        """Stop every task of this session without emitting anything (the client is gone). The observer is
        told even if stopping raises or is cancelled: else the active gauges stay up and the trace never ends."""
        try:
            if self._expiry is not None:
                self._expiry.cancel()
                await asyncio.gather(self._expiry, return_exceptions=True)
                self._expiry = None  # its CancelledError holds the frame that awaited it, and so this session
            await self._speculator.drop()
            await self.responder.close()
            await self.input.close()
        finally:
            if self._observer is not None:
                self._observer.closed()
                self._observer = None

    def pending_tasks(self) -> int:
        """Tasks still running for this session (responses, transcriptions, judging, speculation); 0 after `close`."""
        return len(self.responder.tasks()) + len(self.input.tasks()) + len(self._speculator.tasks())

    def info(self) -> ev.SessionInfo:
        return ev.SessionInfo(self.id, int(self.created_at + self.limits.max_session_seconds), self.config)

    async def _expire_after(self, seconds: float) -> None:
        await self.clock.sleep(seconds)
        notice = ev.Error(f"Your session hit the maximum duration of {seconds / 60:g} minutes.", code="session_expired")
        with contextlib.suppress(TimeoutError):  # a client that stopped reading still gets closed
            await asyncio.wait_for(self._emit(notice), NOTICE_SECONDS)
        self.expired.set()

    # --- client events -----------------------------------------------------------------------------

    async def handle(self, event: ce.ClientEvent) -> None:
        """Apply one client event; a refusal becomes an `error` event and the session carries on."""
        if self._observer is not None:
            self._observer.received(event)
        try:
            async with self._lock:
                await self._route(event)
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
        await self._emit(ev.Error.of(exc, event_id))

    async def _route(self, event: ce.ClientEvent) -> None:
        match event:
            case ce.UpdateSession(patch=patch):
                await self._update(patch)
                await self._speculator.drop()  # it was made for the settings before this update
            case ce.AppendInputAudio(audio=audio):
                self._require_audio_room(len(audio), ("audio",))
                await self.input.append(audio)
            case ce.CommitInputAudio():
                self.conversation.require_room()  # a refused commit keeps the buffered audio
                item_id = self._turn_item_id or ids.item_id()
                turn = self.input.take_all()
                self._turn_item_id = None
                await self._speculator.drop()
                await self._commit(item_id, turn)
            case ce.ClearInputAudio():
                self.input.clear()
                self._turn_item_id = None
                await self._speculator.drop()
                await self._emit(ev.InputAudioCleared())
            case ce.ClearOutputAudio():
                if self._playback is None:
                    raise ProtocolError(
                        "output_audio_buffer.clear applies to WebRTC and SIP connections only; over a "
                        "WebSocket the client owns playback (use response.cancel).",
                        code="unsupported_event",
                        path=("type",),
                    )
                await self._cut_off("client_cancelled", None)
            case ce.CreateItem():
                await self._create_item(event)
            case ce.RetrieveItem(item_id=item_id):
                await self._emit(ev.ItemRetrieved(self.conversation.get(item_id)))
            case ce.DeleteItem(item_id=item_id):
                self.conversation.delete(item_id)
                await self._emit(ev.ItemDeleted(item_id))
            case ce.TruncateItem(item_id=item_id, content_index=index, audio_end_ms=end_ms):
                self.conversation.truncate(item_id, index, end_ms)
                await self._emit(ev.ItemTruncated(item_id, index, end_ms))
            case ce.CreateResponse(overrides=overrides):
                self._respond(overrides)
            case ce.CancelResponse(response_id=response_id):
                await self.responder.cancel(response_id)

    async def _update(self, patch: SessionPatch) -> None:
        """Change only what the patch changes: the input side re-plans only what depends on it."""
        if patch.type != self.config.type:
            raise ProtocolError(
                f"Invalid value for {PARAM}: this is a {self.config.type} session; its type cannot change.",
                code="invalid_value",
                path=("session", "type"),
            )
        config = self.config.patched(patch)
        if config.model != self.config.model and self.responder.has_responded:
            raise ProtocolError(
                "The session's model cannot be changed once it has responded; open a new session instead.",
                code="invalid_value",
                path=("session", "model"),
            )
        if self.config.tracing is not None and config.tracing != self.config.tracing:
            raise ProtocolError(
                "Tracing cannot be modified once it is enabled for a session.",
                code="invalid_value",
                path=("session", "tracing"),
            )
        if self._audio_sent and config.output.voice != self.config.output.voice:
            raise ProtocolError(
                "Cannot update a conversation's voice if assistant audio is present.",
                code="cannot_update_voice",
                path=("session", "output", "voice"),
            )
        self.config = config
        self.input.configure(config.input, LOGPROBS in config.include)
        await self._emit(ev.SessionUpdated(self.info()))

    async def _create_item(self, event: ce.CreateItem) -> None:
        try:
            item = event.item.to_item(self.config.input.format)
        except ProtocolError as exc:
            raise exc.under("item") from None
        self._require_audio_room(sum(len(part.audio) for part in item.content if part.audio), ("item", "content"))
        if item.type == "function_call_output" and not self.conversation.has_call(item.call_id):
            raise ProtocolError(
                f"Invalid value for {PARAM}: no function call with call_id '{item.call_id}' found in the conversation.",
                code="invalid_value",
                path=("item", "call_id"),
            )
        previous = self.conversation.insert(item, event.previous_item_id)
        await self._emit(ev.ItemCreated(item, previous))

    def _require_audio_room(self, adding: int, path: FieldPath) -> None:
        """Refuse audio that would take the session past its cap: what is buffered plus what the items hold."""
        if not adding:
            return
        held = self.input.buffer.size + self.conversation.audio_bytes()
        if held + adding > self.limits.max_audio_bytes:
            raise ProtocolError(
                f"The session holds at most {self.limits.max_audio_bytes / 2**20:g} MiB of audio, buffered and "
                f"in the conversation ({held / 2**20:.1f} MiB now); clear the buffer or delete audio items first.",
                code="session_audio_full",
                path=path,
            )

    def _respond(self, overrides: ResponseOverrides) -> None:
        if self.config.type == "transcription":
            raise ProtocolError(
                "A transcription session transcribes; it does not create responses.",
                code="unsupported_event",
                path=("type",),
            )
        self.responder.create(overrides, self.config)

    async def _commit(self, item_id: str, turn: TurnAudio, speculation: Speculation | None = None) -> None:
        """A turn's audio becomes a user item, transcribed so the model reads what was said.

        The client sees the transcript only if the session asks for it (`transcription`).
        """
        content = Content("input_audio", audio=turn.audio, audio_format=self.config.input.format)
        item = Item(item_id, "message", "completed", "user", [content])
        previous = self.conversation.insert(item)
        await self._emit(ev.InputAudioCommitted(item.id, previous))
        await self._emit(ev.ItemCreated(item, previous))
        announce = self.config.input.transcription is not None
        if announce or self.config.type == "realtime":
            prepared = asyncio.shield(speculation.transcript) if speculation is not None else None
            self.input.transcribe(item, turn.heard, announce=announce, prepared=prepared)

    # --- what the input pipeline reports (InputHooks) ----------------------------------------------

    async def turn_started(self, start_ms: float) -> None:
        item_id = self._turn_item_id = ids.item_id()
        started = ev.SpeechStarted(round(start_ms), item_id)
        td = self.config.input.turn_detection
        if td is not None and td.interrupt_response:
            await self._cut_off("turn_detected", started)
        else:
            await self._emit(started)

    async def _cut_off(self, reason: CancelReason, announcement: ev.SpeechStarted | None) -> None:
        """Silence the answer: `announcement` first, then the playback cleared, then the response cancelled.

        What the listener heard of the part being played is all the conversation keeps of it.
        """
        heard: Heard | None = None

        async def announce() -> None:
            nonlocal heard
            if announcement is not None:
                await self._emit(announcement)
            if self._playback is not None:
                heard = await self._playback.clear()

        await self.responder.interrupt(announce, reason)
        if heard is not None and heard.item_id in self.conversation:
            self.conversation.truncate(heard.item_id, heard.content_index, heard.audio_end_ms)
            await self._emit(ev.ItemTruncated(heard.item_id, heard.content_index, heard.audio_end_ms))

    async def turn_paused(self, pause_ms: float, heard: Int16Array) -> None:
        """The voice stopped: prepare this turn's transcript and answer while the silence runs."""
        config = self.config
        answer = self._will_answer()
        await self._speculator.start(
            pause_ms,
            lambda: self.input.listen(heard, self.input.heard_rate),
            self.responder.speculative_request(config) if answer else None,
            config.output.voice,
            config.output.speed,
        )

    async def turn_resumed(self) -> None:
        await self._speculator.drop()

    async def turn_ended(self, end_ms: float, turn: TurnAudio) -> None:
        item_id = self._turn_item_id or ids.item_id()
        self._turn_item_id = None
        speculation = await self._speculator.ended(turn.pause_ms)
        if self._observer is not None and turn.pause_ms is not None:
            # as long ago as the audio received since the voice stopped lasts: exact for a live microphone
            self._observer.speech_ended((self.input.buffer.received_ms - turn.pause_ms) / 1000)
        await self._emit(ev.SpeechStopped(round(end_ms), item_id))
        await self._commit(item_id, turn, speculation)
        if not self._answer_turn(speculation) and speculation is not None:
            await speculation.release()

    async def idle_timeout(self, since_ms: float, now_ms: float, turn: TurnAudio) -> None:
        item_id = ids.item_id()
        await self._emit(ev.IdleTimeout(round(since_ms), round(now_ms), item_id))
        await self._commit(item_id, turn)
        self._answer_turn(None)

    def _will_answer(self) -> bool:
        """Will the turn now in progress be answered as soon as it ends?"""
        td = self.config.input.turn_detection
        return (
            self.config.type == "realtime" and td is not None and td.create_response and self.responder.default is None
        )

    def _answer_turn(self, speculation: Speculation | None) -> bool:
        if not self._will_answer():
            return False
        self.responder.create(ResponseOverrides(), self.config, speculation)
        return True

    # --- what the responder reports ----------------------------------------------------------------

    def _response_finished(self, run: ResponseRun) -> None:
        """The idle countdown starts once the client has played this answer out."""
        self.conversation.audio_changed()  # its speech grew in place while it ran
        self.input.idle_from(self.input.buffer.received_ms + run.audio_ms)

    def _audio_went_out(self) -> None:
        self._audio_sent = True
