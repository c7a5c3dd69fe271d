"""One client frame into a session: parse, decode in the connection's dialect, handle or report."""

from __future__ import annotations

import logging
from typing import Any

from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.wire import Dialect, client_event_id, parse_frame
from realtalk.session.session import RealtimeSession
from realtalk.transports.event_rate import EventRate, TooManyEvents

log = logging.getLogger(__name__)


async def deliver(
    session: RealtimeSession,
    dialect: Dialect,
    frame: str | bytes,
    max_event_bytes: int,
    rate: EventRate | None = None,
) -> None:
    """Whatever the frame holds, the session answers it and carries on: an event, or an `error`.

    A connection with a `rate` has each frame judged first: one over the rate is refused unhandled, and
    one past the second threshold raises `TooManyEvents` (after its `error`) for the transport to close.
    """
    verdict = rate.judge() if rate is not None else "admit"
    data: dict[str, Any] | None = None
    try:
        data = parse_frame(frame, max_event_bytes)
        if log.isEnabledFor(logging.DEBUG):  # its type and size, never its payload (audio, instructions, tools)
            log.debug("client event %.64s, %d bytes", data.get("type"), len(frame))
        if rate is not None and verdict != "admit":
            raise rate.limit.refusal()
        event = dialect.decode(data)
    except ProtocolError as exc:
        await session.report(exc, client_event_id(data) if data is not None else None)
        if verdict == "close":
            raise TooManyEvents(TooManyEvents.REASON) from None
        return
    await session.handle(event)
