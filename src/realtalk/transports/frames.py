"""One client frame into a session: parse, decode in the connection's dialect, handle or report."""

from __future__ import annotations

from typing import Any

from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.wire import Dialect, client_event_id, parse_frame
from realtalk.session.session import RealtimeSession


async def deliver(session: RealtimeSession, dialect: Dialect, frame: str | bytes, max_event_bytes: int) -> None:
    """Whatever the frame holds, the session answers it and carries on: an event, or an `error`."""
    data: dict[str, Any] | None = None
    try:
        data = parse_frame(frame, max_event_bytes)
        event = dialect.decode(data)
    except ProtocolError as exc:
        await session.report(exc, client_event_id(data) if data is not None else None)
        return
    await session.handle(event)
