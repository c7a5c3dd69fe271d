"""`WebRTCCall`: one realtime session over WebRTC — a browser's call to `/v1/realtime/calls`.

    microphone (Opus track) ──▶ listen ──▶ RealtimeSession ──▶ emit ─┬─ audio deltas ─▶ Speaker (Opus track)
    data channel "oai-events" ◀─▶ events (GA)                       ├─ data channel
    sideband WebSockets (`/v1/realtime?call_id=`) ◀─▶ events          └─ sideband listeners

Audio never travels as events: the server plays the answer on its track, paced in real time, and so
knows what was heard (see `Speaker`). The call lives until it is hung up, the peer goes away (ICE
failure, DTLS close, the data channel closed), or the session expires; then everything is freed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiortc import RTCDataChannel, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.exceptions import InvalidStateError
from aiortc.mediastreams import MediaStreamTrack

from realtalk.protocol import events as ev
from realtalk.protocol.wire import Dialect, dumps
from realtalk.session.session import RealtimeSession
from realtalk.transports.event_rate import EventRate, EventRateLimit, TooManyEvents
from realtalk.transports.frames import deliver
from realtalk.transports.webrtc.ice import IceSettings
from realtalk.transports.webrtc.microphone import listen
from realtalk.transports.webrtc.sdp import Offer
from realtalk.transports.webrtc.speaker import Speaker

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "oai-events"
CONNECT_SECONDS = 30.0  # from the answer until the peer must be connected
CODECS = ("audio/opus", "audio/PCMU", "audio/PCMA")  # what we accept for the microphone, best first
INBOX_EVENTS = 4096  # client events waiting for the session; a client that outruns this is cut off
MAX_BUFFERED_BYTES = 16 * 1024 * 1024  # events the peer has not taken yet; past this it is not listening


class WebRTCCall:
    def __init__(
        self,
        call_id: str,
        session: RealtimeSession,
        dialect: Dialect,
        ice: IceSettings,
        max_event_bytes: int,
        clock: Callable[[], float],
        rate: EventRateLimit | None = None,
    ) -> None:
        self.id = call_id
        self.session = session
        self.dialect = dialect
        self.ended = asyncio.Event()
        self.end_reason = ""
        self._max_event_bytes = max_event_bytes
        self._rate = EventRate(rate, clock) if rate is not None else None  # data channel events only
        self._pc = RTCPeerConnection(ice.configuration())
        self._notices: asyncio.Queue[ev.ServerEvent] = asyncio.Queue()
        self._speaker = Speaker(self._broadcast, self._notices.put_nowait, clock)
        self._inbox: asyncio.Queue[str | bytes] = asyncio.Queue(INBOX_EVENTS)
        self._channel: RTCDataChannel | None = None
        self._channel_open = asyncio.Event()
        self._connected = asyncio.Event()
        self._microphone: MediaStreamTrack | None = None
        self._listeners: list[ev.Emit] = []
        self._wants_channel = False
        self._tasks: list[asyncio.Task[None]] = []

    # --- signalling ----------------------------------------------------------------------------------

    async def answer(self, offer: Offer) -> str:
        """The SDP answer to `offer`: the microphone received, the speaker sent, events on `oai-events`."""
        pc = self._pc
        pc.on("datachannel", self._on_channel)
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_state)
        transceiver = pc.addTransceiver(self._speaker, direction="sendrecv")
        capabilities = RTCRtpSender.getCapabilities("audio").codecs
        transceiver.setCodecPreferences([c for name in CODECS for c in capabilities if c.mimeType == name])
        self._wants_channel = offer.has_data_channel
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        except Exception as exc:  # aiortc refuses what it cannot negotiate; say what was offered
            raise offer.refusal(exc) from None
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    def _on_channel(self, channel: RTCDataChannel) -> None:
        if channel.label != EVENTS_CHANNEL or self._channel is not None:
            return
        self._channel = channel
        channel.on("message", self._on_message)
        channel.on("close", lambda: self.end("the data channel was closed"))
        self._channel_open.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self._microphone is None:
            self._microphone = track

    def _on_state(self) -> None:
        state = self._pc.connectionState
        if state == "connected":
            self._connected.set()
        elif state in ("failed", "closed"):
            self.end(f"the peer connection {state}")

    def _on_message(self, message: str | bytes) -> None:
        try:
            self._inbox.put_nowait(message)
        except asyncio.QueueFull:
            self.end("the client sent events faster than the session could take them")

    # --- the call ------------------------------------------------------------------------------------

    def end(self, reason: str) -> None:
        """Hang up (idempotent): `run` frees everything."""
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()

    async def run(self) -> None:
        """Serve the call from the answer to its end; leave no task, track or socket behind."""
        self.session.attach(self._broadcast, self._speaker)
        try:
            if await self._wait_connected():
                await self.session.start()
                self._tasks = [
                    asyncio.create_task(self._read(), name=f"call reader {self.id}"),
                    asyncio.create_task(self._announce(), name=f"call notices {self.id}"),
                ]
                if self._microphone is not None:
                    self._tasks.append(asyncio.create_task(self._listen(self._microphone), name=f"mic {self.id}"))
                expired = asyncio.create_task(self.session.expired.wait())
                ended = asyncio.create_task(self.ended.wait())
                await asyncio.wait({expired, ended}, return_when=asyncio.FIRST_COMPLETED)
                for waiter in (expired, ended):
                    waiter.cancel()
                if expired.done() and not expired.cancelled():
                    self.end("the session expired")
        finally:
            await self._close()

    async def _wait_connected(self) -> bool:
        """Until the events channel is open (or, with none offered, ICE has connected); False if never."""
        ready = asyncio.create_task((self._channel_open if self._wants_channel else self._connected).wait())
        ended = asyncio.create_task(self.ended.wait())
        done, _ = await asyncio.wait({ready, ended}, timeout=CONNECT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (ready, ended):
            waiter.cancel()
        if ready not in done:
            self.end(self.end_reason or f"the peer did not connect within {CONNECT_SECONDS:g} s")
            return False
        return True

    async def _listen(self, track: MediaStreamTrack) -> None:
        await listen(track, self.session)
        self.end("the microphone track ended")

    async def _read(self) -> None:
        while True:
            frame = await self._inbox.get()
            try:
                await deliver(self.session, self.dialect, frame, self._max_event_bytes, self._rate)
            except TooManyEvents as exc:
                self.end(str(exc))
                return

    async def _announce(self) -> None:
        """`output_audio_buffer.started` / `.stopped`, timed by the speaker, out through the usual fan-out."""
        while True:
            await self._broadcast(await self._notices.get())

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.session.close()
        self._speaker.stop()
        with contextlib.suppress(Exception):
            await self._pc.close()
        self._listeners.clear()
        log.info("call %s ended: %s", self.id, self.end_reason)

    # --- server events -------------------------------------------------------------------------------

    async def _broadcast(self, event: ev.ServerEvent) -> None:
        """Audio to the speaker; every other event to the data channel and to each sideband listener."""
        if isinstance(event, ev.ContentDelta) and event.kind == "audio":
            self._speaker.audio(event)
            return
        if isinstance(event, ev.ResponseCreated):
            self._speaker.response_created(event.response)
        if isinstance(event, ev.ContentDone) and event.kind == "audio":
            self._speaker.audio_done(event.item_id, event.content_index)
        self._send(event)
        for listener in list(self._listeners):
            await listener(event)
        if isinstance(event, ev.ResponseDone):
            self._speaker.response_done(event.response.id)

    def _send(self, event: ev.ServerEvent) -> None:
        """To the data channel, if the peer opened one (an audio-only call has only its sideband)."""
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return
        try:
            for message in self.dialect.encode(event):
                channel.send(dumps(message))
        except InvalidStateError:
            return
        if channel.bufferedAmount > MAX_BUFFERED_BYTES:
            self.end("the client stopped reading events")

    # --- the sideband --------------------------------------------------------------------------------

    def listen_in(self, listener: ev.Emit) -> Callable[[], None]:
        """Let a sideband connection see every event from now on; returns how to stop."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None
