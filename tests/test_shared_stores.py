"""The shared-state stores on their own: secrets, per-key session leases and the start window, in a real Redis
(each store on its own client, as two workers would be) and in memory."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from realtalk.clock import SystemClock
from realtalk.server.errors import SharedStateUnavailable, TooManyRequests
from realtalk.server.secrets import StoredSecret
from realtalk.server.shared.rate_limit import InMemoryStartWindow, KeyRateLimit, RedisStartWindow
from realtalk.server.shared.redis_client import connect, reachable
from realtalk.server.shared.secrets import RedisSecretStore
from realtalk.server.shared.session_leases import InMemorySessionLeases, RedisSessionLeases
from tests.redis_server import RedisServer
from tests.virtual_clock import VirtualClock

SECRET = "ek_shared_state_test_secret_value"
CONFIG = {"instructions": "Be brief."}
Clients = Callable[[], Redis]


@pytest.fixture
async def clients(redis_server: RedisServer) -> AsyncIterator[Clients]:
    """A new client to the test's Redis per call (a worker each), all closed after the test."""
    made: list[Redis] = []

    def client() -> Redis:
        made.append(connect(redis_server.url))
        return made[-1]

    yield client
    for redis in made:
        await redis.aclose()


def record(seconds: int) -> StoredSecret:
    return StoredSecret(int(time.time()) + seconds, CONFIG, "key-digest")


# --- secrets ---------------------------------------------------------------------------------------------


async def test_a_secret_put_by_one_worker_is_found_by_another(clients: Clients) -> None:
    stored = record(60)
    await RedisSecretStore(clients(), SystemClock()).put(SECRET, stored)
    assert await RedisSecretStore(clients(), SystemClock()).get(SECRET) == stored


async def test_a_secret_is_kept_under_its_sha256_with_a_ttl_to_its_expiry(clients: Clients) -> None:
    redis = clients()
    await RedisSecretStore(redis, SystemClock()).put(SECRET, record(60))
    key = f"realtalk:secret:{hashlib.sha256(SECRET.encode()).hexdigest()}"
    assert [k async for k in redis.scan_iter()] == [key.encode()]
    assert 58 <= await redis.ttl(key) <= 60
    assert SECRET.encode() not in (await redis.get(key) or b"")


async def test_a_secret_is_gone_once_its_ttl_runs_out(clients: Clients) -> None:
    store = RedisSecretStore(clients(), SystemClock())
    await store.put(SECRET, record(1))
    assert await store.get(SECRET) is not None
    await asyncio.sleep(1.1)
    assert await store.get(SECRET) is None


async def test_an_unknown_secret_is_none(clients: Clients) -> None:
    assert await RedisSecretStore(clients(), SystemClock()).get("ek_never_minted") is None


# --- session leases --------------------------------------------------------------------------------------


async def test_a_keys_sessions_are_counted_across_workers(clients: Clients) -> None:
    a, b = RedisSessionLeases(clients()), RedisSessionLeases(clients())
    assert await a.acquire("key", "sess_1", 2)
    assert await b.acquire("key", "sess_2", 2)
    assert not await a.acquire("key", "sess_3", 2)
    assert await b.acquire("other-key", "sess_4", 2)
    await a.release("key", "sess_1")
    assert await b.acquire("key", "sess_3", 2)


async def test_a_crashed_workers_sessions_fall_out_of_the_count_after_their_lease(clients: Clients) -> None:
    crashed, alive = RedisSessionLeases(clients(), lease_seconds=0.3), RedisSessionLeases(clients())
    assert await crashed.acquire("key", "sess_1", 1)
    assert not await alive.acquire("key", "sess_2", 1)
    await asyncio.sleep(0.35)  # no renewal came
    assert await alive.acquire("key", "sess_2", 1)


async def test_renewed_leases_stay_counted_past_their_first_term(clients: Clients) -> None:
    holder, other = RedisSessionLeases(clients(), lease_seconds=0.3), RedisSessionLeases(clients())
    assert await holder.acquire("key", "sess_1", 1)
    for _ in range(3):
        await asyncio.sleep(0.15)
        await holder.renew()
    assert not await other.acquire("key", "sess_2", 1)


async def test_a_renewal_counts_again_the_sessions_redis_forgot(clients: Clients) -> None:
    redis = clients()
    holder, other = RedisSessionLeases(redis), RedisSessionLeases(clients())
    assert await holder.acquire("key", "sess_1", 1)
    await redis.flushall()  # as after a Redis restart without persistence
    await holder.renew()
    assert await redis.zrange("realtalk:sessions:key", 0, -1) == [b"sess_1"]
    assert not await other.acquire("key", "sess_2", 1)


async def test_in_memory_leases_cap_a_key_and_free_on_release() -> None:
    leases = InMemorySessionLeases()
    assert await leases.acquire("key", "sess_1", 1)
    assert not await leases.acquire("key", "sess_2", 1)
    await leases.release("key", "sess_1")
    assert await leases.acquire("key", "sess_2", 1)


# --- the start window ------------------------------------------------------------------------------------


async def test_starts_are_counted_across_workers_in_a_sliding_window(clients: Clients) -> None:
    a, b = RedisStartWindow(clients(), seconds=0.3), RedisStartWindow(clients(), seconds=0.3)
    assert [await a.take("key", 2), await b.take("key", 2), await a.take("key", 2)] == [True, True, False]
    assert await b.take("other-key", 2)
    await asyncio.sleep(0.35)
    assert await b.take("key", 2)


async def test_the_in_memory_window_slides_with_the_clock() -> None:
    clock = VirtualClock()
    window = InMemoryStartWindow(clock)
    assert [await window.take("key", 2) for _ in range(3)] == [True, True, False]
    clock.advance(59.9)
    assert not await window.take("key", 2)
    clock.advance(0.2)
    assert await window.take("key", 2)


async def test_the_rate_limit_refuses_with_429_rate_limit_exceeded() -> None:
    limit = KeyRateLimit(1, InMemoryStartWindow(VirtualClock()))
    await limit.charge("key")
    with pytest.raises(TooManyRequests) as refused:
        await limit.charge("key")
    assert (refused.value.code, refused.value.type) == ("rate_limit_exceeded", "requests")
    assert refused.value.message == (
        "This API key has started 1 sessions, calls or client secrets in the last minute, the most one key may; "
        "wait a moment and try again."
    )
    await limit.charge(None)  # an open server's callers have no key: never limited


# --- Redis unreachable -----------------------------------------------------------------------------------


async def test_without_redis_secrets_fail_fast_and_counting_fails_open(redis_server: RedisServer) -> None:
    redis_server.stop()
    redis = connect(redis_server.url)
    try:
        started = time.monotonic()
        with pytest.raises(SharedStateUnavailable):
            await RedisSecretStore(redis, SystemClock()).put(SECRET, record(60))
        with pytest.raises(SharedStateUnavailable):
            await RedisSecretStore(redis, SystemClock()).get(SECRET)
        assert await RedisSessionLeases(redis).acquire("key", "sess_1", 1)  # admitted uncounted
        assert await RedisStartWindow(redis).take("key", 1)
        assert not await reachable(redis)
        assert time.monotonic() - started < 5
    finally:
        await redis.aclose()


async def test_the_client_works_again_once_redis_is_back(redis_server: RedisServer) -> None:
    redis = connect(redis_server.url)
    try:
        assert await reachable(redis)
        redis_server.stop()
        assert not await reachable(redis)
        redis_server.start()
        assert await reachable(redis)
        store = RedisSecretStore(redis, SystemClock())
        await store.put(SECRET, record(60))
        assert await store.get(SECRET) is not None
    finally:
        await redis.aclose()
