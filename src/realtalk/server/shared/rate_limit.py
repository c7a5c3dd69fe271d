"""How many sessions, calls and client secrets one API key may start a minute, on every worker together.

A sliding window: the starts of the last 60 seconds are kept (in memory, or in a Redis sorted set
`realtalk:starts:<key id>` scored by Redis's own clock) and one more is admitted while they are fewer
than the cap. Refusals are 429 `rate_limit_exceeded`, as OpenAI's. With Redis away the limit fails
open (logged): a rate limit is a guard against a runaway client, not a reason to refuse everyone.
"""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from typing import Protocol

from redis.asyncio import Redis

from realtalk.clock import Clock
from realtalk.server.errors import TooManyRequests
from realtalk.server.shared.redis_client import PREFIX, best_effort

WINDOW_SECONDS = 60.0

# KEYS[1] the key's window; ARGV: a unique id for this start, the cap, the window in µs. 1 = admitted.
_TAKE = """
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) / 1000))
return 1
"""


class StartWindow(Protocol):
    async def take(self, owner: str, cap: int) -> bool:
        """Record one start of `owner` unless it made `cap` in the window already (then False)."""
        ...


class InMemoryStartWindow:
    def __init__(self, clock: Clock, seconds: float = WINDOW_SECONDS) -> None:
        self._clock = clock
        self._seconds = seconds
        self._starts: defaultdict[str, deque[float]] = defaultdict(deque)

    async def take(self, owner: str, cap: int) -> bool:
        now = self._clock.now()
        starts = self._starts[owner]
        while starts and starts[0] <= now - self._seconds:
            starts.popleft()
        if len(starts) >= cap:
            return False
        starts.append(now)
        return True


def starts_key(owner: str) -> str:
    return f"{PREFIX}starts:{owner}"


class RedisStartWindow:
    def __init__(self, redis: Redis, seconds: float = WINDOW_SECONDS) -> None:
        self._window_us = int(seconds * 1_000_000)
        self._take = redis.register_script(_TAKE)

    async def take(self, owner: str, cap: int) -> bool:
        async with best_effort("the per-key rate limit"):
            return bool(await self._take(keys=[starts_key(owner)], args=[uuid.uuid4().hex, cap, self._window_us]))
        return True


class KeyRateLimit:
    """`--max-new-sessions-per-minute`, charged by every route that starts something for a key."""

    def __init__(self, per_minute: int | None, window: StartWindow) -> None:
        self.per_minute = per_minute
        self._window = window

    async def charge(self, owner: str | None) -> None:
        """Count one start against `owner`, or raise the 429 (an open server's callers have no key: never)."""
        if owner is None or self.per_minute is None:
            return
        if not await self._window.take(owner, self.per_minute):
            raise TooManyRequests(
                f"This API key has started {self.per_minute} sessions, calls or client secrets in the last "
                "minute, the most one key may; wait a moment and try again.",
                code="rate_limit_exceeded",
                type="requests",
            )
