"""Who may open a realtime WebSocket: API keys, subprotocol keys, ephemeral secrets until they expire."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from realtalk.config import Settings
from realtalk.server.app import create_app
from tests.live import LiveServer
from tests.virtual_clock import VirtualClock
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live
KEY = "sk-realtalk-test-0123456789"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def server(clock: VirtualClock) -> Iterator[LiveServer]:
    with LiveServer(create_app(Settings(engines="scripted", api_key=[KEY]), clock=clock)) as live:
        yield live


async def refused(url: str, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as raised:
        await RealtimeClient.open(url, **kwargs)  # type: ignore[arg-type]
    return raised.value.response.status_code


async def opens(url: str, **kwargs: object) -> dict[str, object]:
    client = await RealtimeClient.open(url, **kwargs)  # type: ignore[arg-type]
    created = await client.receive()
    await client.close()
    assert created["type"] == "session.created"
    return created


def mint(server: LiveServer, **session: object) -> str:
    response = httpx.post(
        f"{server.http_url}/v1/realtime/sessions", json=session, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["client_secret"]["value"])


async def test_no_key_is_refused_before_the_upgrade(server: LiveServer) -> None:
    assert await refused(server.ws_url + "?model=gpt-realtime") == 401


async def test_a_wrong_key_is_refused(server: LiveServer) -> None:
    assert await refused(server.ws_url, headers={"Authorization": "Bearer sk-wrong"}) == 401


async def test_a_refusal_carries_openais_error_body(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as raised:
        await RealtimeClient.open(server.ws_url, headers={"Authorization": "Bearer sk-wrong"})
    body = raised.value.response.body or b""
    assert b'"code":"invalid_api_key"' in body


async def test_the_api_key_as_bearer_opens_a_session(server: LiveServer) -> None:
    await opens(server.ws_url + "?model=gpt-realtime", headers={"Authorization": f"Bearer {KEY}"})


async def test_browsers_send_the_key_as_a_subprotocol_and_get_realtime_back(server: LiveServer) -> None:
    client = await RealtimeClient.open(
        server.ws_url, subprotocols=["realtime", f"openai-insecure-api-key.{KEY}", "openai-beta.realtime-v1"]
    )
    assert client.connection.subprotocol == "realtime"
    assert (await client.receive())["type"] == "session.created"
    await client.close()


async def test_a_wrong_subprotocol_key_is_refused(server: LiveServer) -> None:
    assert await refused(server.ws_url, subprotocols=["realtime", "openai-insecure-api-key.sk-wrong"]) == 401


async def test_an_ephemeral_secret_opens_a_session_with_its_minted_config(server: LiveServer) -> None:
    secret = mint(server, voice="sage", instructions="Speak like a pirate.", modalities=["text"])
    created = await opens(server.ws_url + "?model=gpt-realtime", headers={"Authorization": f"Bearer {secret}"})
    session = created["session"]
    assert (session["voice"], session["instructions"], session["modalities"]) == (  # type: ignore[index]
        "sage",
        "Speak like a pirate.",
        ["text"],
    )


async def test_an_ephemeral_secret_works_as_a_subprotocol(server: LiveServer) -> None:
    secret = mint(server)
    await opens(server.ws_url, subprotocols=["realtime", f"openai-insecure-api-key.{secret}"])


async def test_an_expired_secret_is_refused(server: LiveServer, clock: VirtualClock) -> None:
    secret = mint(server, client_secret={"expires_after": {"anchor": "created_at", "seconds": 10}})
    await opens(server.ws_url, headers={"Authorization": f"Bearer {secret}"})
    server.call(lambda: clock.advance(11))
    assert await refused(server.ws_url, headers={"Authorization": f"Bearer {secret}"}) == 401


async def test_an_unknown_ephemeral_secret_is_refused(server: LiveServer) -> None:
    assert await refused(server.ws_url, headers={"Authorization": "Bearer ek_made_up"}) == 401


async def test_without_configured_keys_the_server_is_open() -> None:
    with LiveServer(create_app(Settings(engines="scripted"))) as open_server:
        await opens(open_server.ws_url)
        await opens(open_server.ws_url, headers={"Authorization": "Bearer anything"})


async def test_secrets_never_reach_the_logs(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = mint(server)
    await opens(server.ws_url, headers={"Authorization": f"Bearer {secret}"})
    await opens(server.ws_url, subprotocols=["realtime", f"openai-insecure-api-key.{KEY}"])
    await refused(server.ws_url, headers={"Authorization": "Bearer sk-guess"})
    server_side = [r for r in caplog.records if not r.name.startswith("websockets.client")]
    logged = "\n".join(record.getMessage() for record in server_side)
    assert secret not in logged and KEY not in logged and "sk-guess" not in logged
