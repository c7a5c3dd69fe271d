"""Concurrent sessions per API key, counted across every worker that shares a Redis (or in one process).

In Redis each key has a sorted set (`realtalk:sessions:<key id>`) of its live session ids, each scored
by the moment its lease runs out. The worker serving a session renews the lease every third of it; a
worker that crashes renews nothing, so its sessions fall out of the count one lease later and a count
never leaks. Times are Redis's own (`TIME` inside the scripts): the workers' clocks need not agree.

Redis going away must not end or block a session that is already talking, so counting fails open:
a session whose lease cannot be taken is admitted uncounted (logged), renewals and releases that fail
are skipped, and once Redis is back the next renewal counts every session each worker holds again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Protocol

from redis.asyncio import Redis

from realtalk.server.shared.redis_client import PREFIX, best_effort

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0

# KEYS[1] the key's set; ARGV: session id, cap, lease in ms. 1 = counted, 0 = the key is at its cap.
_ACQUIRE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS[1] the key's set; ARGV: lease in ms, then the session ids this worker holds for that key.
_RENEW = """
local t = redis.call('TIME')
local until_ms = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], until_ms, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return #ARGV - 1
"""


class SessionLeases(Protocol):
    async def acquire(self, owner: str, session_id: str, cap: int) -> bool:
        """Count `session_id` against `owner` unless the key already holds `cap` sessions (then False)."""
        ...

    async def release(self, owner: str, session_id: str) -> None: ...


class InMemorySessionLeases:
    """One process: the count is this process's own sessions."""

    def __init__(self) -> None:
        self._held: defaultdict[str, set[str]] = defaultdict(set)

    async def acquire(self, owner: str, session_id: str, cap: int) -> bool:
        if len(self._held[owner]) >= cap:
            return False
        self._held[owner].add(session_id)
        return True

    async def release(self, owner: str, session_id: str) -> None:
        held = self._held.get(owner)
        if held is not None:
            held.discard(session_id)
            if not held:
                del self._held[owner]


def sessions_key(owner: str) -> str:
    return f"{PREFIX}sessions:{owner}"


class RedisSessionLeases:
    def __init__(self, redis: Redis, lease_seconds: float = LEASE_SECONDS) -> None:
        self._redis = redis
        self._lease_ms = int(lease_seconds * 1000)
        self._held: dict[str, str] = {}  # session id → owner: what this worker renews
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)

    async def acquire(self, owner: str, session_id: str, cap: int) -> bool:
        self._held[session_id] = owner  # counted by the next renewal if Redis is away now
        async with best_effort(f"counting session {session_id} against its key"):
            if not await self._acquire(keys=[sessions_key(owner)], args=[session_id, cap, self._lease_ms]):
                del self._held[session_id]
                return False
        return True

    async def release(self, owner: str, session_id: str) -> None:
        self._held.pop(session_id, None)
        async with best_effort(f"releasing session {session_id}"):
            await self._redis.zrem(sessions_key(owner), session_id)

    async def renew(self) -> None:
        """Extend the lease of every session this worker holds (and count again any Redis forgot)."""
        by_owner: defaultdict[str, list[str]] = defaultdict(list)
        for session_id, owner in self._held.items():
            by_owner[owner].append(session_id)
        async with best_effort("renewing the session leases"):
            for owner, session_ids in by_owner.items():
                await self._renew(keys=[sessions_key(owner)], args=[self._lease_ms, *session_ids])

    async def keep(self) -> None:
        """Renew every third of a lease, until cancelled (the server's lifespan)."""
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            await self.renew()
