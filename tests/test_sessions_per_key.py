"""Concurrent sessions per API key: refused with 429 before the upgrade, counting the secrets a key minted."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from realtalk.config import Settings
from realtalk.server.app import create_app
from tests.harness import scripted_engines
from tests.live import LiveServer
from tests.test_websocket import wait_until
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live
KEY_A = "sk-realtalk-test-aaaaaaaaaaaa"
KEY_B = "sk-realtalk-test-bbbbbbbbbbbb"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def session(server: LiveServer, token: str) -> RealtimeClient:
    client = await RealtimeClient.open(server.ws_url, headers=bearer(token), ga=True)
    assert (await client.receive())["type"] == "session.created"
    return client


async def refusal(server: LiveServer, token: str) -> tuple[int, dict[str, object]]:
    with pytest.raises(InvalidStatus) as raised:
        await RealtimeClient.open(server.ws_url, headers=bearer(token), ga=True)
    response = raised.value.response
    return response.status_code, json.loads(response.body or b"{}")["error"]


async def test_a_key_at_its_cap_is_refused_with_429_and_other_keys_are_not() -> None:
    settings = Settings(engines="scripted", api_key=[KEY_A, KEY_B], max_sessions_per_key=2)
    with LiveServer(create_app(settings, engines=scripted_engines())) as server:
        held = [await session(server, KEY_A), await session(server, KEY_A)]
        status, error = await refusal(server, KEY_A)
        assert (status, error) == (
            429,
            {
                "message": "This API key already holds 2 concurrent sessions, the most one key may; "
                "close one and try again.",
                "type": "invalid_request_error",
                "param": None,
                "code": "too_many_sessions",
            },
        )
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{server.http_url}/v1/realtime/client_secrets",
                json={"session": {"type": "realtime"}},
                headers=bearer(KEY_A),
            )
        minted = answer.json()["value"]
        assert (await refusal(server, minted))[0] == 429  # a secret's sessions count against the key that minted it
        other = await session(server, KEY_B)
        await held.pop().close()
        assert await wait_until(lambda: server.call(lambda: len(server.app.state.sessions)) == 2)  # one let go
        held.append(await session(server, minted))
        for client in (*held, other):
            await client.close()
