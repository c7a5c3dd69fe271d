"""`LiveCall`: what every call shares — a WebRTC call, a phone call — whatever carries its audio.

    RealtimeSession ──▶ emit ─┬─ audio deltas ─▶ the call's Player (plays them; knows what was heard)
                              ├─ the call's own event channel, if it has one (WebRTC's data channel)
                              └─ every sideband listener (`/v1/realtime?call_id=`)

A call's session is attached to this fan-out with the player as its `Playback`; the player's
`output_audio_buffer.started` / `.stopped` notices come through a queue (it never waits on a listener)
and go out through the same fan-out. The lifecycle is one: connect (the subclass's part), start the
session, serve (the subclass's tasks) until the call is ended — hangup, the peer or carrier gone — or
the session expires, then stop every task, close the session and release the wire.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from realtalk.logs import CALL_ID, SESSION_ID
from realtalk.protocol import events as ev
from realtalk.session.session import RealtimeSession
from realtalk.transports.player import Announce, Player
from realtalk.transports.restart import restart_notice

log = logging.getLogger(__name__)
PlayerT = TypeVar("PlayerT", bound=Player)


class LiveCall(ABC, Generic[PlayerT]):
    def __init__(self, call_id: str, session: RealtimeSession, player: Callable[[ev.Emit, Announce], PlayerT]) -> None:
        self.id = call_id
        self.session = session
        self.ended = asyncio.Event()
        self.end_reason = ""
        self._notices: asyncio.Queue[ev.ServerEvent] = asyncio.Queue()
        self.player = player(self._broadcast, self._notices.put_nowait)
        self._listeners: list[ev.Emit] = []
        self._tasks: list[asyncio.Task[None]] = []

    # --- what a kind of call does --------------------------------------------------------------------

    @abstractmethod
    async def _connect(self) -> bool:
        """Until the peer is ready for events and audio; False if it never will be (the call then ends)."""

    @abstractmethod
    def _serve(self) -> dict[str, Coroutine[Any, Any, None]]:
        """The call's own tasks once the session has started (reading the wire, feeding the microphone), by name."""

    @abstractmethod
    async def _release(self) -> None:
        """Free the wire (peer connection, stream socket) once the session is closed."""

    def _send(self, event: ev.ServerEvent) -> None:
        """To the call's own event channel; a call with none (a phone line) has only its sideband."""

    # --- the lifecycle -------------------------------------------------------------------------------

    def end(self, reason: str) -> None:
        """Hang up (idempotent): `run` frees everything."""
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()

    async def restart(self) -> None:
        """The server is draining: tell the call's channel and sidebands why, then hang up."""
        await self._broadcast(restart_notice())
        self.end("the server is restarting")

    async def run(self) -> None:
        """Serve the call from its start to its end; leave no task, track or socket behind."""
        CALL_ID.set(self.id)
        SESSION_ID.set(self.session.id)
        self.session.attach(self._broadcast, self.player)
        try:
            if await self._connect():
                await self.session.start()
                tasks = {"notices": self._announce(), **self._serve()}
                self._tasks = [asyncio.create_task(work, name=f"call {name} {self.id}") for name, work in tasks.items()]
                await self._until_over()
        finally:
            await self._close()

    async def _until_over(self) -> None:
        expired = asyncio.create_task(self.session.expired.wait())
        ended = asyncio.create_task(self.ended.wait())
        await asyncio.wait({expired, ended}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (expired, ended):
            waiter.cancel()
        if expired.done() and not expired.cancelled():
            self.end("the session expired")

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.session.close()
        await self._release()
        self._listeners.clear()
        log.info("call %s ended: %s", self.id, self.end_reason)

    # --- server events -------------------------------------------------------------------------------

    async def _announce(self) -> None:
        """`output_audio_buffer.started` / `.stopped`, timed by the player, out through the usual fan-out."""
        while True:
            await self._broadcast(await self._notices.get())

    async def _broadcast(self, event: ev.ServerEvent) -> None:
        """Audio to the player; every other event to the call's channel and to each sideband listener."""
        if isinstance(event, ev.ContentDelta) and event.kind == "audio":
            self.player.audio(event)
            return
        if isinstance(event, ev.ResponseCreated):
            self.player.response_created(event.response)
        if isinstance(event, ev.ContentDone) and event.kind == "audio":
            self.player.audio_done(event.item_id, event.content_index)
        self._send(event)
        for listener in list(self._listeners):
            await listener(event)
        if isinstance(event, ev.ResponseDone):
            self.player.response_done(event.response.id)

    # --- the sideband --------------------------------------------------------------------------------

    def listen_in(self, listener: ev.Emit) -> Callable[[], None]:
        """Let a sideband connection see every event from now on; returns how to stop."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None
