"""The one Redis client a worker shares its state through, tuned to fail fast rather than hang.

Each command gets `SOCKET_SECONDS` to connect and to answer, and one immediate retry (a pooled socket
that died with a restarted Redis is replaced on the spot). A request that needs Redis then gets a 503
within about two seconds of Redis going away, and works again as soon as Redis is back: no restart.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from realtalk.server.errors import SharedStateUnavailable

log = logging.getLogger(__name__)
SOCKET_SECONDS = 1.0
PREFIX = "realtalk:"  # every key and channel realtalk uses, so one Redis can serve other things too


def connect(url: str) -> Redis:
    """A pooled client for `url` (no connection is made until the first command)."""
    return Redis.from_url(
        url,
        socket_timeout=SOCKET_SECONDS,
        socket_connect_timeout=SOCKET_SECONDS,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=10,
    )


@contextlib.asynccontextmanager
async def required() -> AsyncIterator[None]:
    """Around commands a request cannot do without: Redis failing becomes the client's 503."""
    try:
        yield
    except RedisError as exc:
        log.warning("the shared state store is unreachable: %s", exc)
        raise SharedStateUnavailable from None


@contextlib.asynccontextmanager
async def best_effort(what: str) -> AsyncIterator[None]:
    """Around commands that must never fail a session: Redis failing is logged and the work goes on."""
    try:
        yield
    except RedisError as exc:
        log.warning("%s skipped, the shared state store is unreachable: %s", what, exc)


async def reachable(redis: Redis) -> bool:
    """Does Redis answer a PING now? (The readiness check.)"""
    try:
        return bool(await redis.ping())
    except RedisError:
        return False
