"""Rate-limit bookkeeping and the client-secret store, on a virtual clock."""

from __future__ import annotations

import pickle

import pytest

from realtalk.server.secrets import InMemorySecretStore, StoredSecret
from realtalk.session.rate_limits import RateLimiter
from realtalk.session.session import SessionLimits
from tests.harness import SessionHarness, config, only
from tests.virtual_clock import VirtualClock


def test_budgets_refill_each_minute() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, requests_per_minute=2, tokens_per_minute=100)
    limiter.spend(requests=2, tokens=40)
    assert limiter.exhausted() == "requests"
    requests, tokens = limiter.snapshot()
    assert (requests.remaining, tokens.remaining, tokens.reset_seconds) == (0, 60, 60.0)
    clock.advance(61)
    assert limiter.exhausted() is None
    assert limiter.snapshot()[0].remaining == 2


@pytest.mark.dialects("ga", "beta")
async def test_a_response_over_budget_fails_with_rate_limit_exceeded() -> None:
    harness = SessionHarness(config(modality="text"), limits=SessionLimits(requests_per_minute=1))
    await harness.start()
    assert only(await harness.response(), "response.done")["response"]["status"] == "completed"
    done = only(await harness.response(), "response.done")["response"]
    assert done["status"] == "failed"
    assert done["status_details"]["error"]["code"] == "rate_limit_exceeded"


async def test_secrets_are_found_until_they_expire_and_stored_hashed() -> None:
    clock = VirtualClock()
    store = InMemorySecretStore(clock)
    record = StoredSecret(int(clock.now()) + 10, {"voice": "ash"})
    await store.put("ek_abc", record)
    assert await store.get("ek_abc") == record
    assert await store.get("ek_abd") is None
    dump = pickle.dumps(store)  # everything the store holds, with no private names needed to reach it
    assert b"ash" in dump and b"ek_abc" not in dump
    clock.advance(10)
    assert await store.get("ek_abc") is None


async def test_expired_secrets_are_purged() -> None:
    clock = VirtualClock()
    store = InMemorySecretStore(clock)
    await store.put("ek_old", StoredSecret(int(clock.now()) + 10, {}))
    clock.advance(11)
    await store.put("ek_new", StoredSecret(int(clock.now()) + 10, {}))
    assert len(store) == 1
