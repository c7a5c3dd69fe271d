"""Frames to JSON objects and back, before any dialect looks at them."""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from realtalk.protocol.client_events import ClientEvent
from realtalk.protocol.errors import FieldPath, ProtocolError
from realtalk.protocol.events import ServerEvent, SessionInfo


class Dialect(Protocol):
    """One serialization of the protocol (GA or beta), chosen per connection; a sibling of the other."""

    name: str

    def decode(self, data: dict[str, Any]) -> ClientEvent:
        """Check a client event's shape; raise ProtocolError naming the offending `param`."""
        ...

    def encode(self, event: ServerEvent) -> list[dict[str, Any]]:
        """Render a server event as this dialect's JSON objects (none, one or more), each with a fresh id."""
        ...

    def param(self, path: FieldPath) -> str:
        """This dialect's name for a core field path (`("session", "output", "voice")` → `session.voice`)."""
        ...

    def session_object(self, info: SessionInfo) -> dict[str, Any]:
        """The session as this dialect shows it (in `session.created`, and in REST answers)."""
        ...


def parse_frame(frame: str | bytes, max_bytes: int) -> dict[str, Any]:
    """A client frame as a JSON object; everything else is a ProtocolError with a specific code."""
    if isinstance(frame, bytes):
        raise ProtocolError(
            "Binary frames are not supported: send each event as a JSON text frame.", code="invalid_event"
        )
    if len(frame) > max_bytes:
        raise ProtocolError(
            f"Event of {len(frame)} bytes exceeds the limit of {max_bytes} bytes.", code="event_too_large"
        )
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"Invalid JSON: {exc}.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"Each event must be a JSON object, not {type(data).__name__}.", code="invalid_event")
    return data


def client_event_id(data: dict[str, Any]) -> str | None:
    """The client's `event_id`, if it sent a usable one, so an error can echo it."""
    value = data.get("event_id")
    return value if isinstance(value, str) and len(value) <= 512 else None


def dumps(obj: dict[str, Any]) -> str:
    return orjson.dumps(obj).decode()
