"""Two realtalk workers sharing one Redis, as behind a load balancer: each a live server with its own app,
registries and event loop. What one worker does, the other sees: secrets, per-key caps and rates, calls."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
import websockets
from redis.asyncio import Redis

from realtalk.config import Settings
from realtalk.server.app import create_app
from tests.harness import scripted_engines
from tests.live import LiveServer
from tests.redis_server import RedisServer
from tests.rtc_client import RtcClient
from tests.test_openai_sdk import respond, sdk
from tests.test_sessions_per_key import bearer, refusal, session
from tests.test_webrtc_calls import connect, post_offer, until_no_calls
from tests.test_websocket import wait_until

pytestmark = pytest.mark.live
KEY = "sk-shared-state-aaaaaaaaaaaa"
OTHER_KEY = "sk-shared-state-bbbbbbbbbbbb"
UNAVAILABLE = {
    "message": "The shared state store (Redis) is unreachable, so this request cannot be served now; "
    "try again shortly.",
    "type": "server_error",
    "param": None,
    "code": "shared_state_unavailable",
}
NO_CALL = {"message": "No live call with id 'rtc_nope'.", "type": "invalid_request_error", "param": None}


@contextlib.contextmanager
def workers(redis: RedisServer, **settings: Any) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Workers A and B: separate apps on separate ports, one Redis."""
    shared = Settings(
        api_key=[KEY, OTHER_KEY], webrtc_host_ip=["127.0.0.1"], speculate=False, redis_url=redis.url, **settings
    )
    with (
        LiveServer(create_app(shared, engines=scripted_engines(), engines_warm=True)) as a,
        LiveServer(create_app(shared, engines=scripted_engines(), engines_warm=True)) as b,
    ):
        yield a, b


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


async def mint(server: LiveServer, key: str = KEY, seconds: int = 600) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{server.http_url}/v1/realtime/client_secrets",
            json={"session": {"type": "realtime"}, "expires_after": {"anchor": "created_at", "seconds": seconds}},
            headers=bearer(key),
        )


async def post(server: LiveServer, path: str, token: str = KEY) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(f"{server.http_url}{path}", headers=bearer(token))


def tasks(server: LiveServer) -> int:
    return int(server.call(lambda: len(asyncio.all_tasks())))


async def readiness(server: LiveServer) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{server.http_url}/readyz")
    return answer.status_code, answer.json()


# --- secrets ---------------------------------------------------------------------------------------------


async def test_a_secret_minted_on_one_worker_opens_a_session_on_the_other(redis_server: RedisServer) -> None:
    with workers(redis_server) as (a, b):
        secret = await sdk(a, KEY).realtime.client_secrets.create(
            session={"type": "realtime", "instructions": "Minted on A."}
        )
        async with sdk(b, secret.value).realtime.connect(model="gpt-realtime") as conn:
            created = await conn.recv()
            done = (await respond(conn))[-1]
    assert created.type == "session.created"
    assert created.session.instructions == "Minted on A."
    assert done.response.status == "completed"


async def test_a_secret_is_kept_only_as_its_sha256_with_its_lifetime_as_ttl(
    redis_server: RedisServer, redis: Redis
) -> None:
    with workers(redis_server) as (a, _):
        secret = (await mint(a, seconds=10)).json()["value"]
    keys = [key async for key in redis.scan_iter()]
    assert keys == [f"realtalk:secret:{hashlib.sha256(secret.encode()).hexdigest()}".encode()]
    assert 9 <= await redis.ttl(keys[0]) <= 10
    stored = orjson.loads(await redis.get(keys[0]) or b"{}")
    assert secret not in keys[0].decode() and secret not in orjson.dumps(stored).decode()
    assert stored["key_id"] == hashlib.sha256(KEY.encode()).hexdigest()[:16]


async def test_a_secret_whose_ttl_ran_out_is_refused_by_every_worker(redis_server: RedisServer, redis: Redis) -> None:
    with workers(redis_server) as (a, b):
        secret = (await mint(a, seconds=10)).json()["value"]
        await (await session(b, secret)).close()
        [key] = [key async for key in redis.scan_iter("realtalk:secret:*")]
        await redis.pexpire(key, 50)  # its remaining life, cut short: Redis's TTL is the only clock that counts
        await asyncio.sleep(0.1)
        refusals = [await refusal(a, secret), await refusal(b, secret)]
    assert [(status, error["code"]) for status, error in refusals] == [(401, "invalid_api_key")] * 2
    assert refusals[0][1]["message"] == "The ephemeral client secret is invalid or has expired."


# --- per-key limits --------------------------------------------------------------------------------------


async def test_a_keys_concurrent_sessions_are_capped_across_workers(redis_server: RedisServer) -> None:
    with workers(redis_server, max_sessions_per_key=2) as (a, b):
        held = [await session(a, KEY), await session(b, KEY)]
        status, error = await refusal(a, KEY)
        assert (status, error["code"]) == (429, "too_many_sessions")
        assert (await refusal(b, KEY))[0] == 429
        other = await session(b, OTHER_KEY)
        await held.pop(0).close()  # A lets one go: B may open one
        for _ in range(50):
            with contextlib.suppress(websockets.InvalidStatus):
                held.append(await session(b, KEY))
                break
            await asyncio.sleep(0.05)
        assert len(held) == 2
        for client in (*held, other):
            await client.close()


async def test_a_keys_starts_per_minute_are_limited_across_workers(redis_server: RedisServer) -> None:
    with workers(redis_server, max_new_sessions_per_minute=3) as (a, b):
        assert (await mint(a)).status_code == 200
        held = await session(b, KEY)
        assert (await mint(b)).status_code == 200
        refused = await mint(a)
        status, error = await refusal(b, KEY)
        assert (await mint(a, OTHER_KEY)).status_code == 200
        await held.close()
    assert refused.status_code == 429
    assert refused.json()["error"] == {
        "message": "This API key has started 3 sessions, calls or client secrets in the last minute, "
        "the most one key may; wait a moment and try again.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert (status, error) == (429, refused.json()["error"])


# --- calls held by the other worker ----------------------------------------------------------------------


async def test_a_sideband_on_one_worker_sees_and_drives_a_call_held_by_the_other(redis_server: RedisServer) -> None:
    with workers(redis_server) as (a, b):
        async with RtcClient() as caller, httpx.AsyncClient(base_url=a.http_url, headers=bearer(KEY)) as http:
            call_id = await connect(http, caller, KEY)
            tasks_before = [tasks(a), tasks(b)]
            async with sdk(b, KEY).realtime.connect(call_id=call_id) as sideband:
                created = await sideband.recv()
                mark = len(caller.events)
                await sideband.session.update(session={"type": "realtime", "instructions": "Driven from B."})
                updated = await sideband.recv()
                events = await respond(sideband)
            caller_saw = await caller.next_event("session.updated", after=mark)
            caller_done = await caller.next_event("response.done", after=mark)
            links_gone = await wait_until(lambda: [tasks(a), tasks(b)] == tasks_before)
            calls_after = (await http.get("/healthz")).json()["calls"]
    assert created.type == "session.created"
    assert (updated.type, updated.session.instructions) == ("session.updated", "Driven from B.")
    assert caller_saw["session"]["instructions"] == "Driven from B."
    assert [events[0].type, events[-1].type] == ["response.created", "response.done"]
    assert caller_done["response"]["id"] == events[-1].response.id  # the same response, seen on both sides
    assert calls_after == 1  # the call outlives its sideband
    assert links_gone  # neither worker keeps a task of the relayed sideband


async def test_a_relayed_sideband_closes_when_the_call_hangs_up(redis_server: RedisServer) -> None:
    with workers(redis_server) as (a, b):
        async with RtcClient() as caller, httpx.AsyncClient(base_url=a.http_url, headers=bearer(KEY)) as http:
            call_id = await connect(http, caller, KEY)
            async with websockets.connect(f"{b.ws_url}?call_id={call_id}", additional_headers=bearer(KEY)) as band:
                assert orjson.loads(await band.recv())["type"] == "session.created"
                assert (await http.post(f"/v1/realtime/calls/{call_id}/hangup")).status_code == 200
                with pytest.raises(websockets.ConnectionClosedOK):
                    while True:
                        await asyncio.wait_for(band.recv(), 5)


async def test_a_relayed_sideband_speaks_the_dialect_its_client_asked_for(redis_server: RedisServer) -> None:
    with workers(redis_server) as (a, b):
        async with RtcClient() as caller, httpx.AsyncClient(base_url=a.http_url, headers=bearer(KEY)) as http:
            call_id = await connect(http, caller, KEY)
            beta = {**bearer(KEY), "OpenAI-Beta": "realtime=v1"}
            async with websockets.connect(f"{b.ws_url}?call_id={call_id}", additional_headers=beta) as band:
                created = orjson.loads(await band.recv())
    assert created["type"] == "session.created"
    assert created["session"]["voice"] == "alloy"  # beta's session object: the voice at the top, no `audio`
    assert "audio" not in created["session"]


async def test_a_hangup_sent_to_the_other_worker_ends_the_call(redis_server: RedisServer) -> None:
    with workers(redis_server) as (a, b):
        async with RtcClient() as caller, httpx.AsyncClient(base_url=a.http_url, headers=bearer(KEY)) as http:
            call_id = await connect(http, caller, KEY)
            hung_up = await post(b, f"/v1/realtime/calls/{call_id}/hangup")
            state = await until_no_calls(http)
            again = await post(b, f"/v1/realtime/calls/{call_id}/hangup")
    assert hung_up.status_code == 200
    assert (state["calls"], state["sessions"]) == (0, 0)
    assert again.status_code == 404 and again.json()["error"]["code"] == "call_not_found"


async def test_the_secret_that_opened_a_call_may_hang_it_up_on_the_other_worker(redis_server: RedisServer) -> None:
    with workers(redis_server) as (a, b):
        opener, other = (await mint(a)).json()["value"], (await mint(a)).json()["value"]
        async with RtcClient() as caller, httpx.AsyncClient(base_url=a.http_url) as http:
            call_id = await connect(http, caller, opener)
            refused = await post(b, f"/v1/realtime/calls/{call_id}/hangup", other)
            allowed = await post(b, f"/v1/realtime/calls/{call_id}/hangup", opener)
            state = await until_no_calls(http)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_api_key")
    assert allowed.status_code == 200
    assert state["calls"] == 0


async def test_an_unknown_call_is_404_on_every_worker(redis_server: RedisServer) -> None:
    with workers(redis_server) as (a, b):
        hangups = [await post(server, "/v1/realtime/calls/rtc_nope/hangup") for server in (a, b)]
        with pytest.raises(websockets.InvalidStatus) as denied:
            await websockets.connect(f"{b.ws_url}?call_id=rtc_nope", additional_headers=bearer(KEY))
    for answer in hangups:
        assert (answer.status_code, answer.json()["error"]) == (404, {**NO_CALL, "code": "call_not_found"})
    assert denied.value.response.status_code == 404
    assert orjson.loads(denied.value.response.body or b"{}")["error"] == {**NO_CALL, "code": "call_not_found"}


# --- Redis going away ------------------------------------------------------------------------------------


async def test_without_redis_secrets_are_refused_503_live_sessions_talk_on_and_recovery_needs_no_restart(
    redis_server: RedisServer,
) -> None:
    with workers(redis_server, max_sessions_per_key=4) as (a, b):
        secret = (await mint(a)).json()["value"]
        live = await session(a, KEY)
        redis_server.stop()
        minted = await mint(a)
        status, error = await refusal(b, secret)
        async with RtcClient() as caller, httpx.AsyncClient(base_url=b.http_url) as http:
            offered = await post_offer(http, await caller.offer(), secret)
        await live.send({"type": "response.create"})
        answered = await live.until("response.done")
        uncounted = await session(b, KEY)  # counting fails open: an API key's session still opens
        ready_while_down = await readiness(a)
        redis_server.start()
        ready_again = await readiness(a)
        again = await mint(a)
        await (await session(b, again.json()["value"])).close()
        for client in (live, uncounted):
            await client.close()
    assert (minted.status_code, minted.json()["error"]) == (503, UNAVAILABLE)
    assert (status, error) == (503, UNAVAILABLE)
    assert (offered.status_code, offered.json()["error"]) == (503, UNAVAILABLE)
    assert answered[-1]["response"]["status"] == "completed"
    assert ready_while_down == (503, {"status": "not_ready", "reasons": ["shared state: Redis is unreachable"]})
    assert ready_again[0] == 200
    assert again.status_code == 200
