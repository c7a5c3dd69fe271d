"""`PhoneCall`: one phone call, bridged from a carrier's media stream (a WebSocket) to a realtime session.

    carrier ── media (μ-law) ─▶ InputFeed ─▶ RealtimeSession ─▶ emit ─┬─ audio deltas ─▶ PhonePlayer
            ◀─ media + mark, clear (barge-in) ─────────────────────────┼────────────────────┘
            ── mark echoes ─▶ PhonePlayer (what was heard)              └─ sideband listeners (`?call_id=`)
            ── dtmf ─▶ `input_audio_buffer.dtmf_event_received`, to the sideband

The carrier's `start` has been read before the call exists (it names the profile); the call then lives
until the carrier stops the stream, its socket goes away or it stops reading (`OUTBOX_MESSAGES`), a
hangup, or the session's expiry, and frees everything as every call does (`LiveCall`). A message the
bridge cannot use is logged and ignored: one bad message never ends a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from realtalk.audio.formats import FORMATS, AudioEncoder
from realtalk.protocol import events as ev
from realtalk.protocol.wire import dumps
from realtalk.session.session import RealtimeSession
from realtalk.transports.input_feed import InputFeed
from realtalk.transports.live_call import LiveCall
from realtalk.transports.phone.carrier import (
    SAMPLE_RATE,
    BadMessage,
    CallerAudio,
    Carrier,
    Digit,
    Inbound,
    Line,
    MarkPlayed,
    StreamStart,
    StreamStop,
)
from realtalk.transports.phone.player import ULAW, PhonePlayer

log = logging.getLogger(__name__)
LOGGED_BAD_MESSAGES = 10  # per call; a carrier (or an impostor) sending garbage cannot flood the log
# Messages for the carrier not yet written to its socket: a media and a mark per 100 ms of answer, so
# ~13 minutes of audio. A carrier that takes nothing while keeping its socket open fills it, and its
# call ends rather than growing the queue for the whole session.
OUTBOX_MESSAGES = 16384


class _IntoSession:
    """The caller's μ-law in the session's input format: as it is for `g711_ulaw` (bit-exact), else decoded
    and encoded anew, resampled from 8 kHz (a sideband may change the format with `session.update`)."""

    def __init__(self) -> None:
        self._encoder: AudioEncoder | None = None

    def convert(self, ulaw: bytes, format_name: str) -> bytes:
        if format_name == "g711_ulaw":
            return ulaw
        if self._encoder is None or self._encoder.format.name != format_name:
            self._encoder = AudioEncoder(SAMPLE_RATE, FORMATS[format_name])
        return self._encoder.encode(ULAW.decode(ulaw))


class PhoneCall(LiveCall[PhonePlayer]):
    def __init__(
        self,
        call_id: str,
        session: RealtimeSession,
        websocket: WebSocket,
        carrier: Carrier,
        start: StreamStart,
        clock: Callable[[], float],
    ) -> None:
        self._outbox: asyncio.Queue[str] = asyncio.Queue(OUTBOX_MESSAGES)
        line = Line(carrier, start.stream_id, self._send_line)
        super().__init__(call_id, session, lambda emit, announce: PhonePlayer(emit, announce, line, clock))
        self.carrier = carrier
        self._websocket = websocket
        self._feed = InputFeed(session)
        self._into_session = _IntoSession()
        self._bad_messages = 0

    # --- the call (LiveCall) -------------------------------------------------------------------------

    async def _connect(self) -> bool:
        return True  # the carrier's stream has started: its `start` was read before the call was made

    def _serve(self) -> dict[str, Coroutine[Any, Any, None]]:
        return {"reader": self._read(), "writer": self._write()}

    async def _release(self) -> None:
        with contextlib.suppress(Exception):
            await self._websocket.close()

    # --- the carrier's messages ----------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            try:
                message = await self._websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                message = {"type": "websocket.disconnect"}
            if message["type"] == "websocket.disconnect":
                self.end("the carrier's stream closed")
                return
            try:
                inbound = self.carrier.parse(_json(message))
            except BadMessage as exc:
                self._ignore(str(exc))
                continue
            await self._take(inbound)

    async def _take(self, inbound: Inbound) -> None:
        match inbound:
            case CallerAudio(ulaw=ulaw):
                await self._feed.append(self._into_session.convert(ulaw, self.session.config.input.format))
            case MarkPlayed(name=name):
                self.player.played(name)
            case Digit(digit=digit):
                await self._broadcast(ev.DtmfReceived(digit, int(self.session.clock.now())))
            case StreamStop():
                self.end("the carrier stopped the stream")
            case StreamStart():
                self._ignore("a second 'start'")

    def _ignore(self, why: str) -> None:
        self._bad_messages += 1
        if self._bad_messages <= LOGGED_BAD_MESSAGES:
            more = " (no more are logged for this call)" if self._bad_messages == LOGGED_BAD_MESSAGES else ""
            log.warning("call %s: ignored a %s message: %s%s", self.id, self.carrier.name, why, more)

    def _send_line(self, message: dict[str, Any]) -> None:
        """To the carrier, through the writer; one that stopped reading (its socket still open) ends the call."""
        try:
            self._outbox.put_nowait(dumps(message))
        except asyncio.QueueFull:
            self.end("the carrier stopped reading")

    async def _write(self) -> None:
        while True:
            text = await self._outbox.get()
            try:
                await self._websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.end("the carrier's stream closed")
                return


async def read_start(websocket: WebSocket, carrier: Carrier) -> StreamStart:
    """Read the stream's messages up to its `start` (after `connected`); raises `BadMessage` if the carrier
    says anything else first, or a bad `start`, and `WebSocketDisconnect` if it leaves."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        inbound = carrier.parse(_json(message))
        if isinstance(inbound, StreamStart):
            return inbound
        if inbound is not None:
            raise BadMessage(f"{type(inbound).__name__} before 'start'")


def _json(message: Message) -> dict[str, Any]:
    """The JSON object a text or binary WebSocket message carries; `BadMessage` if it carries none."""
    try:
        data = orjson.loads(message.get("text") or message.get("bytes") or b"")
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadMessage("not a JSON object")
    return data
