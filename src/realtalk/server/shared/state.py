"""What the workers share, built from `Settings`: in memory for one process, or in Redis for many.

`create_app` builds one `SharedState` and puts it on `app.state.shared`; `await shared.reachable()`
is the readiness check (always true in memory). The lifespan `start`s it (with Redis: the lease and
route renewals and the call relay) and `close`s it after the last call ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis

from realtalk.clock import Clock
from realtalk.config import Settings
from realtalk.server.secrets import InMemorySecretStore, SecretStore
from realtalk.server.shared.call_relay import HeldCall, RedisCallRoutes
from realtalk.server.shared.rate_limit import InMemoryStartWindow, KeyRateLimit, RedisStartWindow
from realtalk.server.shared.redis_client import connect, reachable
from realtalk.server.shared.secrets import RedisSecretStore
from realtalk.server.shared.session_leases import InMemorySessionLeases, RedisSessionLeases, SessionLeases


@dataclass
class RedisParts:
    """The pieces only a Redis-backed server has: the client, and what needs renewing or listening."""

    client: Redis
    leases: RedisSessionLeases
    routes: RedisCallRoutes
    _upkeep: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, find_call: Callable[[str], HeldCall | None]) -> None:
        """Renew the leases and routes and serve the relay (each in a task) until `close`."""
        self._upkeep = [
            asyncio.create_task(self.leases.keep(), name="session lease renewals"),
            asyncio.create_task(self.routes.keep(), name="call route renewals"),
            asyncio.create_task(self.routes.listen(find_call), name="call relay"),
        ]

    async def close(self) -> None:
        for task in self._upkeep:
            task.cancel()
        await asyncio.gather(*self._upkeep, return_exceptions=True)
        await self.routes.close()
        await self.client.aclose()


@dataclass
class SharedState:
    secrets: SecretStore
    leases: SessionLeases
    rate: KeyRateLimit
    redis: RedisParts | None = None

    @property
    def routes(self) -> RedisCallRoutes | None:
        """Where calls held by other workers are found; None when this process is the only one."""
        return self.redis.routes if self.redis is not None else None

    async def reachable(self) -> bool:
        """Ready to serve requests that need the shared state (the readiness probe's question)."""
        return self.redis is None or await reachable(self.redis.client)

    def start(self, find_call: Callable[[str], HeldCall | None]) -> None:
        """At startup: `find_call` is how relayed sidebands and hangups find this worker's calls."""
        if self.redis is not None:
            self.redis.start(find_call)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close()


def shared_state(settings: Settings, clock: Clock) -> SharedState:
    if settings.redis_url is None:
        return SharedState(
            InMemorySecretStore(clock),
            InMemorySessionLeases(),
            KeyRateLimit(settings.max_new_sessions_per_minute, InMemoryStartWindow(clock)),
        )
    client = connect(settings.redis_url)
    parts = RedisParts(
        client, RedisSessionLeases(client), RedisCallRoutes(client, settings.max_event_bytes, settings.event_rate)
    )
    return SharedState(
        RedisSecretStore(client, clock),
        parts.leases,
        KeyRateLimit(settings.max_new_sessions_per_minute, RedisStartWindow(client)),
        parts,
    )
