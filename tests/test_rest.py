"""`POST /v1/realtime/sessions` and `/transcription_sessions`: validation, defaults, OpenAI's error shape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from openai.types.beta.realtime.session_create_response import SessionCreateResponse
from openai.types.beta.realtime.transcription_session import TranscriptionSession
from openai.types.realtime.client_secret_create_response import ClientSecretCreateResponse

from realtalk.config import Settings
from realtalk.server.app import create_app
from tests.virtual_clock import VirtualClock

KEY = "sk-test-key"


def client_for(api_keys: list[str] | None = None) -> tuple[httpx.AsyncClient, VirtualClock]:
    clock = VirtualClock()
    app = create_app(Settings(engines="scripted", api_key=api_keys or []), clock=clock)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://realtalk"), clock


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    http, _ = client_for()
    async with http:
        yield http


def assert_error(response: httpx.Response, status: int, code: str, param: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert (body["error"]["code"], body["error"]["param"]) == (code, param)
    assert body["error"]["message"]
    return body["error"]


async def test_healthz_reports_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


async def test_healthz_counts_the_event_loops_tasks(client: httpx.AsyncClient) -> None:
    before = (await client.get("/healthz")).json()["tasks"]
    waiting = asyncio.create_task(asyncio.Event().wait())
    assert (await client.get("/healthz")).json()["tasks"] == before + 1
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert (await client.get("/healthz")).json()["tasks"] == before


async def test_healthz_counts_speculation_unless_it_is_off(client: httpx.AsyncClient) -> None:
    speculation = (await client.get("/healthz")).json()["speculation"]
    assert speculation == {
        "started": 0,
        "used": 0,
        "discarded": 0,
        "stale": 0,
        "hit_rate": 0.0,
        "wasted_seconds": 0.0,
        "recent": [],
    }
    app = create_app(Settings(engines="scripted", speculate=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://realtalk") as off:
        assert "speculation" not in (await off.get("/healthz")).json()


async def test_minting_returns_the_effective_session_and_a_client_secret() -> None:
    http, clock = client_for()
    async with http:
        response = await http.post("/v1/realtime/sessions", json={"voice": "verse", "modalities": ["text"]})
    assert response.status_code == 200
    body = response.json()
    SessionCreateResponse.model_validate(body, strict=True)
    assert body["id"].startswith("sess_") and body["object"] == "realtime.session"
    assert body["model"] == "gpt-realtime" and body["voice"] == "verse" and body["modalities"] == ["text"]
    assert body["temperature"] == 0.8 and body["max_response_output_tokens"] == "inf" and body["speed"] == 1.0
    assert body["turn_detection"]["type"] == "server_vad" and body["tool_choice"] == "auto"
    secret = body["client_secret"]
    assert secret["value"].startswith("ek_") and len(secret["value"]) > 40
    assert secret["expires_at"] == int(clock.now()) + 60


async def test_secret_lifetime_follows_expires_after() -> None:
    http, clock = client_for()
    async with http:
        response = await http.post(
            "/v1/realtime/sessions", json={"client_secret": {"expires_after": {"anchor": "created_at", "seconds": 600}}}
        )
    assert response.json()["client_secret"]["expires_at"] == int(clock.now()) + 600


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"temperature": 0.59}, "invalid_value", "temperature"),
        ({"temperature": 1.21}, "invalid_value", "temperature"),
        ({"max_response_output_tokens": 0}, "invalid_value", "max_response_output_tokens"),
        ({"max_response_output_tokens": 5000}, "invalid_value", "max_response_output_tokens"),
        ({"speed": 0.1}, "invalid_value", "speed"),
        ({"voice": "nova"}, "invalid_value", "voice"),
        ({"input_audio_format": "wav"}, "invalid_value", "input_audio_format"),
        ({"output_audio_format": "g722"}, "invalid_value", "output_audio_format"),
        ({"tool_choice": "search"}, "invalid_value", "tool_choice"),
        (
            {"client_secret": {"expires_after": {"anchor": "created_at", "seconds": 9}}},
            "invalid_value",
            "client_secret.expires_after.seconds",
        ),
        (
            {"client_secret": {"expires_after": {"anchor": "created_at", "seconds": 7201}}},
            "invalid_value",
            "client_secret.expires_after.seconds",
        ),
        (
            {"client_secret": {"expires_after": {"anchor": "now", "seconds": 60}}},
            "invalid_value",
            "client_secret.expires_after.anchor",
        ),
        (
            {"turn_detection": {"type": "server_vad", "silence_duration_ms": "long"}},
            "invalid_type",
            "turn_detection.silence_duration_ms",
        ),
        ({"modalities": []}, "invalid_value", "modalities"),
        ({"favourite_colour": "blue"}, "unknown_parameter", "favourite_colour"),
    ],
)
async def test_bad_fields_are_400_naming_the_param(
    client: httpx.AsyncClient, body: dict[str, Any], code: str, param: str
) -> None:
    error = assert_error(await client.post("/v1/realtime/sessions", json=body), 400, code, param)
    assert error["type"] == "invalid_request_error"


async def test_every_voice_is_accepted(client: httpx.AsyncClient) -> None:
    for voice in ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"):
        assert (await client.post("/v1/realtime/sessions", json={"voice": voice})).status_code == 200


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/realtime/sessions", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_json", None)
    assert_error(await client.post("/v1/realtime/sessions", json=[1]), 400, "invalid_type", None)


async def test_unknown_routes_use_the_error_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/nothing"), 404, "not_found", None)
    assert_error(await client.get("/v1/realtime/sessions"), 405, "method_not_allowed", None)


async def test_minting_needs_a_valid_api_key_when_keys_are_configured() -> None:
    http, _ = client_for([KEY])
    async with http:
        assert_error(await http.post("/v1/realtime/sessions", json={}), 401, "missing_api_key", None)
        assert_error(
            await http.post("/v1/realtime/sessions", json={}, headers={"Authorization": "Bearer nope"}),
            401,
            "invalid_api_key",
            None,
        )
        ok = await http.post("/v1/realtime/sessions", json={}, headers={"Authorization": f"Bearer {KEY}"})
        assert ok.status_code == 200
        ephemeral = ok.json()["client_secret"]["value"]
        assert_error(
            await http.post("/v1/realtime/sessions", json={}, headers={"Authorization": f"Bearer {ephemeral}"}),
            401,
            "invalid_api_key",
            None,
        )


async def test_transcription_session_minting_has_its_own_shape() -> None:
    http, clock = client_for()
    async with http:
        response = await http.post(
            "/v1/realtime/transcription_sessions",
            json={
                "input_audio_transcription": {"model": "gpt-4o-transcribe", "language": "en"},
                "include": ["item.input_audio_transcription.logprobs"],
                "client_secret": {"expires_at": {"anchor": "created_at", "seconds": 120}},
            },
        )
    assert response.status_code == 200, response.text
    body = response.json()
    TranscriptionSession.model_validate(body, strict=True)
    assert body["object"] == "realtime.transcription_session" and body["id"].startswith("sess_")
    assert body["input_audio_transcription"] == {"model": "gpt-4o-transcribe", "language": "en", "prompt": None}
    assert body["client_secret"]["expires_at"] == int(clock.now()) + 120
    assert "create_response" not in body["turn_detection"]


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"input_audio_transcription": {"model": "whisper-2"}}, "invalid_value", "input_audio_transcription.model"),
        (
            {"turn_detection": {"type": "server_vad", "create_response": True}},
            "unknown_parameter",
            "turn_detection.create_response",
        ),
        ({"include": ["everything"]}, "invalid_value", "include[0]"),
        ({"client_secret": {"expires_after": {"seconds": 60}}}, "unknown_parameter", "client_secret.expires_after"),
    ],
)
async def test_transcription_session_fields_are_validated(
    client: httpx.AsyncClient, body: dict[str, Any], code: str, param: str
) -> None:
    assert_error(await client.post("/v1/realtime/transcription_sessions", json=body), 400, code, param)


# --- GA: POST /v1/realtime/client_secrets -----------------------------------------------------------


async def test_client_secrets_mint_a_ga_session_for_ten_minutes_by_default() -> None:
    http, clock = client_for()
    async with http:
        response = await http.post(
            "/v1/realtime/client_secrets",
            json={"session": {"type": "realtime", "instructions": "Hi.", "audio": {"output": {"voice": "sage"}}}},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    ClientSecretCreateResponse.model_validate(body, strict=True)
    assert body["value"].startswith("ek_") and body["expires_at"] == int(clock.now()) + 600
    session = body["session"]
    assert (session["type"], session["object"], session["instructions"]) == ("realtime", "realtime.session", "Hi.")
    assert session["audio"]["output"]["voice"] == "sage" and session["id"].startswith("sess_")


async def test_client_secrets_mint_transcription_sessions() -> None:
    http, _ = client_for()
    async with http:
        response = await http.post(
            "/v1/realtime/client_secrets",
            json={
                "expires_after": {"anchor": "created_at", "seconds": 30},
                "session": {"type": "transcription", "audio": {"input": {"format": {"type": "audio/pcmu"}}}},
            },
        )
    body = response.json()
    ClientSecretCreateResponse.model_validate(body, strict=True)
    assert body["session"]["object"] == "realtime.transcription_session"
    assert body["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"expires_after": {"anchor": "created_at", "seconds": 5}}, "invalid_value", "expires_after.seconds"),
        ({"session": {"instructions": "x"}}, "missing_required_parameter", "session.type"),
        ({"session": {"type": "realtime", "voice": "ash"}}, "unknown_parameter", "session.voice"),
        (
            {"session": {"type": "realtime", "tools": [{"type": "mcp", "server_label": "s"}]}},
            "unsupported_parameter",
            "session.tools[0].type",
        ),
        ({"session": {"type": "transcription", "instructions": "x"}}, "unknown_parameter", "session.instructions"),
        (
            {"session": {"type": "realtime", "max_output_tokens": 0}},
            "invalid_value",
            "session.max_output_tokens",
        ),
    ],
)
async def test_client_secret_requests_are_validated(
    client: httpx.AsyncClient, body: dict[str, Any], code: str, param: str
) -> None:
    assert_error(await client.post("/v1/realtime/client_secrets", json=body), 400, code, param)
