"""The sessions this process is serving: counted for `/healthz`, capped by `max_connections` and per API key."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from realtalk.observability.metrics import Transport
from realtalk.protocol.config import SessionConfig
from realtalk.protocol.errors import ProtocolError
from realtalk.session.session import RealtimeSession


class SessionFactory(Protocol):
    """A new session on this server's engines, clock, limits and observers: every transport's one way in.

    The transport and the dialect (`ga` or `beta`) it speaks label the session in the metrics.
    """

    def __call__(self, config: SessionConfig, transport: Transport, dialect: str) -> RealtimeSession: ...


class SessionRegistry:
    def __init__(self, capacity: int, per_key: int | None = None) -> None:
        self.capacity = capacity
        self.per_key = per_key
        self._sessions: dict[str, RealtimeSession] = {}
        self._owners: dict[str, str] = {}  # session id → the key that opened it (directly or by a secret it minted)
        self._per_owner: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._sessions)

    def full(self) -> bool:
        return len(self._sessions) >= self.capacity

    def full_for(self, owner: str | None) -> bool:
        """Does this key hold all the sessions one key may? (An open server's callers have no key: never.)"""
        return owner is not None and self.per_key is not None and self._per_owner[owner] >= self.per_key

    def too_many_for_key(self) -> ProtocolError:
        """The refusal (429) when `full_for` the caller's key."""
        return ProtocolError(
            f"This API key already holds {self.per_key} concurrent sessions, the most one key may; "
            "close one and try again.",
            code="too_many_sessions",
        )

    def add(self, session: RealtimeSession, owner: str | None = None) -> None:
        self._sessions[session.id] = session
        if owner is not None:
            self._owners[session.id] = owner
            self._per_owner[owner] += 1

    def remove(self, session: RealtimeSession) -> None:
        self._sessions.pop(session.id, None)
        owner = self._owners.pop(session.id, None)
        if owner is not None:
            self._per_owner[owner] -= 1
            if not self._per_owner[owner]:
                del self._per_owner[owner]

    def pending_tasks(self) -> int:
        return sum(session.pending_tasks() for session in self._sessions.values())
