"""`WebRTCCall`: one realtime session over WebRTC — a browser's call to `/v1/realtime/calls`.

    microphone (Opus track) ──▶ listen ──▶ RealtimeSession ──▶ emit ─┬─ audio deltas ─▶ Speaker (Opus track)
    data channel "oai-events" ◀─▶ events (GA)                       ├─ data channel
    sideband WebSockets (`/v1/realtime?call_id=`) ◀─▶ events          └─ sideband listeners

Audio never travels as events: the server plays the answer on its track, paced in real time, and so
knows what was heard (see `Speaker`). The call lives until it is hung up, the peer goes away (ICE
failure, DTLS close, the data channel closed), or the session expires; then everything is freed. The
fan-out and the lifecycle are every call's (`LiveCall`); this class owns the peer connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.exceptions import InvalidStateError
from aiortc.mediastreams import MediaStreamTrack

from realtalk.protocol import events as ev
from realtalk.protocol.wire import Dialect, dumps
from realtalk.session.session import RealtimeSession
from realtalk.transports.event_rate import EventRate, EventRateLimit, TooManyEvents
from realtalk.transports.frames import deliver
from realtalk.transports.live_call import LiveCall
from realtalk.transports.webrtc.ice import IceSettings
from realtalk.transports.webrtc.microphone import listen
from realtalk.transports.webrtc.sdp import Offer
from realtalk.transports.webrtc.speaker import Speaker

EVENTS_CHANNEL = "oai-events"
CONNECT_SECONDS = 30.0  # from the answer until the peer must be connected
CODECS = ("audio/opus", "audio/PCMU", "audio/PCMA")  # what we accept for the microphone, best first
INBOX_EVENTS = 4096  # client events waiting for the session; a client that outruns this is cut off
MAX_BUFFERED_BYTES = 16 * 1024 * 1024  # events the peer has not taken yet; past this it is not listening


class WebRTCCall(LiveCall[Speaker]):
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
        super().__init__(call_id, session, lambda emit, announce: Speaker(emit, announce, clock))
        self.dialect = dialect
        self._max_event_bytes = max_event_bytes
        self._rate = EventRate(rate, clock) if rate is not None else None  # data channel events only
        self._pc = RTCPeerConnection(ice.configuration())
        self._inbox: asyncio.Queue[str | bytes] = asyncio.Queue(INBOX_EVENTS)
        self._channel: RTCDataChannel | None = None
        self._channel_open = asyncio.Event()
        self._connected = asyncio.Event()
        self._microphone: MediaStreamTrack | None = None
        self._wants_channel = False

    # --- signalling ----------------------------------------------------------------------------------

    async def answer(self, offer: Offer) -> str:
        """The SDP answer to `offer`: the microphone received, the speaker sent, events on `oai-events`."""
        pc = self._pc
        pc.on("datachannel", self._on_channel)
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_state)
        transceiver = pc.addTransceiver(self.player, direction="sendrecv")
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

    # --- the call (LiveCall) ------------------------------------------------------------------------

    async def _connect(self) -> bool:
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

    def _serve(self) -> dict[str, Coroutine[Any, Any, None]]:
        tasks = {"reader": self._read()}
        if self._microphone is not None:
            tasks["microphone"] = self._listen(self._microphone)
        return tasks

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

    async def _release(self) -> None:
        self.player.stop()
        with contextlib.suppress(Exception):
            await self._pc.close()

    # --- server events -------------------------------------------------------------------------------

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
