"""Drive a `RealtimeSession` with no network: client events in as JSON objects, server events out.

Protocol tests run in both dialects, GA first: a module marked `pytest.mark.dialects("ga", "beta")` runs
each test once per dialect, and `SessionHarness()` speaks the dialect of the run. Tests name server
events in GA's names; `harness.expect`, `harness.name` and `harness.only` turn them into the dialect's.
Configurations are given in the core's own vocabulary (`config(...)`), which is neither dialect.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import orjson

from realtalk.engines.registry import EngineChoice, Engines, build_engines
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.config import SessionConfig
from realtalk.protocol.events import ServerEvent
from realtalk.protocol.ga import GADialect
from realtalk.protocol.wire import Dialect, dumps
from realtalk.session.session import RealtimeSession, SessionLimits
from realtalk.session.speculation import SpeculationStats
from realtalk.transports.frames import deliver
from tests.virtual_clock import VirtualClock

WAIT_SECONDS = 10.0
OPEN_HARNESSES: list[SessionHarness] = []
DIALECTS: dict[str, type[Dialect]] = {"ga": GADialect, "beta": BetaDialect}
CURRENT = {"dialect": "ga"}  # set per test by the `session_dialect` fixture

# GA event name → beta's (None: beta has no such event).
_BETA_NAMES: dict[str, str | None] = {
    "conversation.item.added": "conversation.item.created",
    "conversation.item.done": None,
    "input_audio_buffer.timeout_triggered": None,
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
}
# core content type → each dialect's
_CONTENT_TYPES = {"ga": {}, "beta": {"output_text": "text", "output_audio": "audio"}}


def event_name(dialect: str, ga_name: str) -> str:
    """A server event's name in `dialect`, from its GA name (for tests that speak a wire without a harness)."""
    if dialect == "ga":
        return ga_name
    beta = _BETA_NAMES.get(ga_name, ga_name)
    assert beta is not None, f"beta has no {ga_name}"
    return beta


def config(**fields: Any) -> SessionConfig:
    """A session configuration in core names (`modality`, `input={...}`, `output={...}`), the test model's."""
    return SessionConfig.model_validate({"model": "gpt-4o-realtime-preview", **fields})


def no_vad(**fields: Any) -> SessionConfig:
    """A configuration with manual turns (no turn detection)."""
    audio_in = {"turn_detection": None, **fields.pop("input", {})}
    return config(input=audio_in, **fields)


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
        speculation: SpeculationStats | None = None,
    ) -> None:
        self.dialect = dialect or DIALECTS[CURRENT["dialect"]]()
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
            speculation=speculation,
        )

    async def _emit(self, event: ServerEvent) -> None:
        for data in self.dialect.encode(event):
            dumps(data)  # written as the WebSocket writes it: an event no socket could carry fails here too
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

    # --- names in the dialect under test ----------------------------------------------------------

    @property
    def ga(self) -> bool:
        return self.dialect.name == "ga"

    def name(self, ga_name: str) -> str:
        """A server event's name in this harness's dialect, from its GA name."""
        return event_name(self.dialect.name, ga_name)

    def expect(self, ga_names: list[str]) -> list[str]:
        """A sequence of GA event names as this dialect sends it (events beta lacks are left out)."""
        if self.ga:
            return list(ga_names)
        return [b for b in (_BETA_NAMES.get(n, n) for n in ga_names) if b is not None]

    def only(self, events: list[dict[str, Any]], ga_name: str) -> dict[str, Any]:
        return only(events, self.name(ga_name))

    def of(self, events: list[dict[str, Any]], ga_name: str) -> list[dict[str, Any]]:
        """Every event of that (GA-named) type."""
        wanted = self.name(ga_name)
        return [e for e in events if e["type"] == wanted]

    def content_type(self, core_type: str) -> str:
        """A content part's type in this dialect (`output_text` is beta's `text`)."""
        return _CONTENT_TYPES[self.dialect.name].get(core_type, core_type)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        """An item written with core content types, as this dialect sends or takes it."""
        content = item.get("content")
        if not isinstance(content, list):
            return item
        return {**item, "content": [{**c, "type": self.content_type(c["type"])} for c in content]}

    # --- conversations ----------------------------------------------------------------------------

    async def response(self, create: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """`response.create` and every event up to its `response.done`."""
        await self.send({"type": "response.create", **({"response": create} if create is not None else {})})
        return await self.until("response.done")

    async def update(self, ga_session: dict[str, Any], beta_session: dict[str, Any]) -> list[dict[str, Any]]:
        """`session.update` with the same change written in each dialect's shape."""
        if self.ga:
            return await self.request({"type": "session.update", "session": {"type": "realtime", **ga_session}})
        return await self.request({"type": "session.update", "session": beta_session})

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.request(
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
            }
        )

    async def close(self) -> None:
        await self.session.close()


# How an audio response in mid-output ends when it is cancelled, whatever cancelled it (GA names).
AUDIO_CANCELLED_TAIL = [
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def only(events: list[dict[str, Any]], event_type: str) -> dict[str, Any]:
    matching = [event for event in events if event["type"] == event_type]
    assert len(matching) == 1, f"expected one {event_type}, got {types(events)}"
    return matching[0]
