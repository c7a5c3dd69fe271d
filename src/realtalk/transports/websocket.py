"""The realtime session over a WebSocket: one JSON event per text frame, each way.

Server events are encoded the moment they are emitted (so later changes to an item cannot leak into
an earlier event) and queued to a writer task; a bounded queue pushes back on a slow client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from realtalk.logs import SESSION_ID
from realtalk.protocol import events as ev
from realtalk.protocol.wire import Dialect, dumps
from realtalk.session.session import RealtimeSession
from realtalk.transports.event_rate import EventRate, EventRateLimit, TooManyEvents
from realtalk.transports.frames import deliver
from realtalk.transports.restart import CLOSE_CODE, CLOSE_REASON, restart_notice

log = logging.getLogger(__name__)

SEND_QUEUE_EVENTS = 1024
DRAIN_SECONDS = 5.0
_CLOSE = None


class EventSocket(Protocol):
    """What the transport needs of its socket: Starlette's WebSocket, or a sideband relayed from another worker."""

    async def receive(self) -> Message: ...

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class WebSocketTransport:
    def __init__(
        self, websocket: EventSocket, dialect: Dialect, max_event_bytes: int, rate: EventRateLimit | None = None
    ) -> None:
        self.websocket = websocket
        self.dialect = dialect
        self.max_event_bytes = max_event_bytes
        self._rate = EventRate(rate) if rate is not None else None
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(SEND_QUEUE_EVENTS)
        self._close: tuple[int, str] = (1000, "")  # 1008 once the client floods past its event rate

    async def emit(self, event: ev.ServerEvent) -> None:
        for message in self.dialect.encode(event):
            await self._outbox.put(dumps(message))

    async def serve(self, session: RealtimeSession, restarting: Awaitable[None] | None = None) -> None:
        """Run a built session until the client leaves or the session ends; leave no task behind.

        Once `restarting` is done (the server drains), the session is told so and closed with code 1012.
        """
        SESSION_ID.set(session.id)  # every line logged for this session, in its tasks too, carries its id
        session.attach(self.emit)
        writer = asyncio.create_task(self._write(), name=f"writer {session.id}")
        reader = asyncio.create_task(self._read(session), name=f"reader {session.id}")
        expired = asyncio.create_task(session.expired.wait())
        restart = asyncio.ensure_future(restarting if restarting is not None else asyncio.Event().wait())
        try:
            await session.start()
            log.info("session started (%s)", self.dialect.name)
            await asyncio.wait({reader, writer, expired, restart}, return_when=asyncio.FIRST_COMPLETED)
            if restart.done() and not writer.done():
                await self._restart(session, reader)
            if expired.done() or self._close[0] != 1000:  # the last error goes out before the close
                await self._drain(writer)
        finally:
            for task in (reader, expired, restart):
                task.cancel()
            await session.close()
            writer.cancel()
            await asyncio.gather(reader, writer, expired, restart, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.websocket.close(*self._close)
            log.info("session closed (%d)", self._close[0])

    async def _restart(self, session: RealtimeSession, reader: asyncio.Task[None]) -> None:
        """The server is draining: read no more, stop what still runs, say why, and close with 1012."""
        reader.cancel()
        await session.close()
        await self.emit(restart_notice())
        self._close = (CLOSE_CODE, CLOSE_REASON)

    async def _drain(self, writer: asyncio.Task[None]) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.put(_CLOSE), DRAIN_SECONDS)
        await asyncio.wait({writer}, timeout=DRAIN_SECONDS)

    async def join(
        self,
        session: RealtimeSession,
        listen_in: Callable[[ev.Emit], Callable[[], None]],
        ended: asyncio.Event,
    ) -> None:
        """Sideband: take part in a session another transport owns (a WebRTC call) until either ends.

        The socket sees `session.created` (the session as it is now), then every event of the call, and
        may send any client event; closing it leaves the call running.
        """
        stop = listen_in(self.emit)
        writer = asyncio.create_task(self._write(), name=f"sideband writer {session.id}")
        reader = asyncio.create_task(self._read(session), name=f"sideband reader {session.id}")
        over = asyncio.create_task(ended.wait())
        try:
            await self.emit(ev.SessionCreated(session.info()))
            await asyncio.wait({reader, writer, over}, return_when=asyncio.FIRST_COMPLETED)
            if self._close[0] != 1000:
                await self._drain(writer)
        finally:
            stop()
            for task in (reader, writer, over):
                task.cancel()
            await asyncio.gather(reader, writer, over, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.websocket.close(*self._close)

    async def _read(self, session: RealtimeSession) -> None:
        while True:
            try:
                message = await self.websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            frame = message.get("text")
            if frame is None:
                frame = message.get("bytes") or b""
            try:
                await deliver(session, self.dialect, frame, self.max_event_bytes, self._rate)
            except TooManyEvents as exc:
                self._close = (1008, str(exc))
                return

    async def _write(self) -> None:
        while (text := await self._outbox.get()) is not _CLOSE:
            try:
                await self.websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                return
