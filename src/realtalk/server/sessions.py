"""The sessions this process is serving: counted for `/healthz` and capped by `max_connections`."""

from __future__ import annotations

from realtalk.session.session import RealtimeSession


class SessionRegistry:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._sessions: dict[str, RealtimeSession] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def full(self) -> bool:
        return len(self._sessions) >= self.capacity

    def add(self, session: RealtimeSession) -> None:
        self._sessions[session.id] = session

    def remove(self, session: RealtimeSession) -> None:
        self._sessions.pop(session.id, None)

    def pending_tasks(self) -> int:
        return sum(session.pending_tasks() for session in self._sessions.values())
