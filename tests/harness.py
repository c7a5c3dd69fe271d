"""Drive a `RealtimeSession` with no network: client events in as JSON objects, server events out."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import orjson

from realtalk.engines.registry import EngineChoice, Engines, build_engines
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.events import ServerEvent
from realtalk.protocol.session_config import SessionConfig
from realtalk.protocol.wire import Dialect
from realtalk.session.session import RealtimeSession, SessionLimits
from realtalk.transports.frames import deliver
from tests.virtual_clock import VirtualClock

WAIT_SECONDS = 10.0
OPEN_HARNESSES: list[SessionHarness] = []


def scripted_engines(**engines: Any) -> Engines:
    """The scripted engines, with any of `vad`, `stt`, `llm`, `tts` replaced by the given objects."""
    return dataclasses.replace(build_engines(EngineChoice()), **engines)


class SessionHarness:
    def __init__(
        self,
        config: SessionConfig | None = None,
        engines: Engines | None = None,
        limits: SessionLimits | None = None,
        max_event_bytes: int = 24 * 1024 * 1024,
        dialect: Dialect | None = None,
    ) -> None:
        self.dialect = dialect or BetaDialect()
        self.clock = VirtualClock()
        self.engines = engines or scripted_engines()
        self.events: list[dict[str, Any]] = []
        self._unread: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.max_event_bytes = max_event_bytes
        OPEN_HARNESSES.append(self)
        self.session = RealtimeSession(
            config=config or SessionConfig(model="gpt-4o-realtime-preview"),
            engines=self.engines,
            emit=self._emit,
            clock=self.clock,
            limits=limits or SessionLimits(),
        )

    async def _emit(self, event: ServerEvent) -> None:
        for data in self.dialect.encode(event):
            self.events.append(data)
            self._unread.put_nowait(data)

    async def start(self) -> list[dict[str, Any]]:
        await self.session.start()
        return self.drain()

    async def send(self, event: dict[str, Any] | str | bytes) -> None:
        frame = event if isinstance(event, str | bytes) else orjson.dumps(event).decode()
        await deliver(self.session, self.dialect, frame, self.max_event_bytes)

    async def request(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one event and return what the session emitted while handling it."""
        await self.send(event)
        return self.drain()

    def drain(self) -> list[dict[str, Any]]:
        out = []
        while not self._unread.empty():
            out.append(self._unread.get_nowait())
        return out

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self._unread.get(), WAIT_SECONDS)

    async def until(self, event_type: str) -> list[dict[str, Any]]:
        """Events up to and including the next one of `event_type`."""
        out = []
        while True:
            event = await self.next()
            out.append(event)
            if event["type"] == event_type:
                return out

    async def response(self, create: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """`response.create` and every event up to its `response.done`."""
        await self.send({"type": "response.create", **({"response": create} if create is not None else {})})
        return await self.until("response.done")

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.request(
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
            }
        )

    async def close(self) -> None:
        await self.session.close()


# How an audio response in mid-output ends when it is cancelled, whatever cancelled it.
AUDIO_CANCELLED_TAIL = [
    "response.audio.done",
    "response.audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def only(events: list[dict[str, Any]], event_type: str) -> dict[str, Any]:
    matching = [event for event in events if event["type"] == event_type]
    assert len(matching) == 1, f"expected one {event_type}, got {types(events)}"
    return matching[0]
