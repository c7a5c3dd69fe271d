"""Ephemeral client secrets in Redis: minted on any worker, accepted by every other.

A secret is kept under its SHA-256 (the key `realtalk:secret:<digest>`), never in clear, as JSON, and
Redis itself forgets it when it expires (`SET … EX`). Both directions need Redis: a secret that cannot
be stored is not handed out, and one that cannot be looked up opens nothing (a 503 either way).
"""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from realtalk.clock import Clock
from realtalk.server.secrets import StoredSecret, digest
from realtalk.server.shared.redis_client import PREFIX, required


def secret_key(secret: str) -> str:
    return f"{PREFIX}secret:{digest(secret)}"


class RedisSecretStore:
    def __init__(self, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock

    async def put(self, secret: str, record: StoredSecret) -> None:
        seconds = record.expires_at - int(self._clock.now())
        if seconds <= 0:
            return  # born expired: nothing to keep
        value = orjson.dumps({"expires_at": record.expires_at, "config": record.config, "key_id": record.key_id})
        async with required():
            await self._redis.set(secret_key(secret), value, ex=seconds)

    async def get(self, secret: str) -> StoredSecret | None:
        async with required():
            value = await self._redis.get(secret_key(secret))
        if value is None:
            return None
        data = orjson.loads(value)
        return StoredSecret(data["expires_at"], data["config"], data["key_id"])
