"""The sessions this process is serving: counted for `/healthz`, capped by `max_connections` and per API key.

The per-key count is kept by a `SessionLeases`: this process's own sessions, or (with Redis) every
worker's, so `--max-sessions-per-key` holds however many processes and machines serve the key.
"""

from __future__ import annotations

from typing import Protocol

from realtalk.observability.metrics import Transport
from realtalk.protocol.config import SessionConfig
from realtalk.server.errors import TooManyRequests
from realtalk.server.shared.session_leases import InMemorySessionLeases, SessionLeases
from realtalk.session.session import RealtimeSession


class SessionFactory(Protocol):
    """A new session on this server's engines, clock, limits and observers: every transport's one way in.

    The transport and the dialect (`ga` or `beta`) it speaks label the session in the metrics.
    """

    def __call__(self, config: SessionConfig, transport: Transport, dialect: str) -> RealtimeSession: ...


class SessionRegistry:
    def __init__(self, capacity: int, per_key: int | None = None, leases: SessionLeases | None = None) -> None:
        self.capacity = capacity
        self.per_key = per_key
        self._leases = leases or InMemorySessionLeases()
        self._sessions: dict[str, RealtimeSession] = {}
        self._owners: dict[str, str] = {}  # session id → the key that opened it (directly or by a secret it minted)

    def __len__(self) -> int:
        return len(self._sessions)

    def full(self) -> bool:
        return len(self._sessions) >= self.capacity

    async def add(self, session: RealtimeSession, owner: str | None = None) -> None:
        """Count `session` (against `owner`'s cap too); raises the 429 if the key holds all it may already.

        An open server's callers have no key, and a server without `per_key` counts no key: never refused.
        """
        if owner is not None and self.per_key is not None:
            if not await self._leases.acquire(owner, session.id, self.per_key):
                raise TooManyRequests(
                    f"This API key already holds {self.per_key} concurrent sessions, the most one key may; "
                    "close one and try again.",
                    code="too_many_sessions",
                )
            self._owners[session.id] = owner
        self._sessions[session.id] = session

    async def remove(self, session: RealtimeSession) -> None:
        self._sessions.pop(session.id, None)
        owner = self._owners.pop(session.id, None)
        if owner is not None:
            await self._leases.release(owner, session.id)

    def pending_tasks(self) -> int:
        return sum(session.pending_tasks() for session in self._sessions.values())
