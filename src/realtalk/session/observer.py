"""`SessionObserver`: what a session tells whoever watches it from outside (metrics, tracing).

The session calls it and never waits on it or reads anything back: an observer sees the events that
cross the session's edge, plus the one fact no event carries, when the user's voice really stopped.
"""

from __future__ import annotations

from typing import Protocol

from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev


class SessionObserver(Protocol):
    def received(self, event: ce.ClientEvent) -> None:
        """A client event, decoded, as the session is about to handle it."""
        ...

    def sent(self, event: ev.ServerEvent) -> None:
        """A server event, as the session emits it."""
        ...

    def speech_ended(self, seconds_ago: float) -> None:
        """The turn about to be announced (`speech_stopped`) ended with speech that stopped `seconds_ago`."""
        ...

    def closed(self) -> None:
        """The session is over; called once."""
        ...
