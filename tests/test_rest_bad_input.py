"""Bad input to any REST endpoint is a 4xx in OpenAI's error shape; a server failure is a 500 in that shape.

Neither drops the keep-alive connection: the client's next request on it is answered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtalk.config import Settings
from realtalk.engines.base import LLMEvent, LLMRequest
from realtalk.protocol.config import MAX_JSON_DEPTH
from realtalk.server.app import create_app
from tests.harness import scripted_engines
from tests.live import LiveServer, uvicorn_log

HI = [{"role": "user", "content": "hi"}]


def nested(levels: int) -> str:
    """A JSON object nested `levels` deep: `{"a": {"a": … {} … }}`."""
    return '{"a":' * (levels - 1) + "{}" + "}" * (levels - 1)


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """OpenAI's error shape, exactly: one `error` object with these four fields."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return dict(body["error"])


class BrokenLLM:
    """An LLM whose every request fails, as a crashed model runtime does."""

    context_window = 8192

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        raise RuntimeError("llama.cpp: internal state 0xdeadbeef")
        yield  # an async generator that never yields


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(engines="scripted"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://realtalk") as http:
        yield http


def deep_tool(session_key: str | None) -> bytes:
    tool = f'{{"type": "function", "name": "f", "parameters": {nested(300)}}}'
    tools = f'{{"tools": [{tool}]}}'
    return (f'{{"{session_key}": {{"type": "realtime", "tools": [{tool}]}}}}' if session_key else tools).encode()


@pytest.mark.parametrize(
    ("path", "body", "code", "param"),
    [
        ("/v1/chat/completions", b'{"model": "m", "messages": [{"role": "user", "content": "\xff"}]}',
         "invalid_json", None),
        ("/v1/chat/completions", b"[" * 100_000, "invalid_json", None),
        ("/v1/audio/speech", b"[" * 100_000, "invalid_json", None),
        ("/v1/realtime/client_secrets", b"[" * 100_000, "invalid_json", None),
        ("/v1/chat/completions", json.dumps({"model": "m", "messages": HI,
         "tool_choice": {"type": "function", "function": "f"}}).encode(), "invalid_value", "tool_choice"),
        ("/v1/chat/completions", json.dumps({"model": "m", "messages": HI, "tools": [{"type": "function",
         "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}}).encode(),
         "invalid_value", "tool_choice.function.name"),
        ("/v1/realtime/client_secrets", deep_tool("session"), "invalid_value", "session.tools[0].parameters"),
        ("/v1/realtime/sessions", deep_tool(None), "invalid_value", "tools[0].parameters"),
        ("/v1/realtime/client_secrets", b'{"session": {"type": "realtime", "tracing": {"metadata": %s}}}'
         % nested(MAX_JSON_DEPTH + 1).encode(), "invalid_value", "session.tracing.metadata"),
    ],
)  # fmt: skip
async def test_bad_bodies_are_400_naming_the_field(
    client: httpx.AsyncClient, path: str, body: bytes, code: str, param: str | None
) -> None:
    response = await client.post(path, content=body, headers={"content-type": "application/json"})
    error = assert_error(response, 400)
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tool_schema_that_is_not_json_schema_is_refused_before_any_stream_starts(
    client: httpx.AsyncClient, stream: bool
) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": []}}}
    response = await client.post(
        "/v1/chat/completions", json={"model": "m", "messages": HI, "tools": [tool], "stream": stream}
    )
    error = assert_error(response, 400)
    assert error == {
        "message": "Invalid schema for 'tools[0].function.parameters': [] is not of type 'object' (at ['properties']).",
        "type": "invalid_request_error",
        "param": "tools[0].function.parameters",
        "code": "invalid_function_parameters",
    }


async def test_a_streamed_engine_failure_is_reported_without_its_internals(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(engines="scripted"), engines=scripted_engines(llm=BrokenLLM()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://realtalk") as http:
        response = await http.post("/v1/chat/completions", json={"model": "m", "messages": HI, "stream": True})
    assert response.status_code == 200
    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2]) == {
        "error": {
            "message": "The model failed while answering; the details are in the server's log.",
            "type": "server_error",
            "code": "engine_error",
            "param": None,
        }
    }
    assert "deadbeef" not in response.text
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None and "deadbeef" in str(record.exc_info[1])


@pytest.fixture
def failing_server() -> Iterator[LiveServer]:
    with LiveServer(create_app(Settings(engines="scripted"), engines=scripted_engines(llm=BrokenLLM()))) as live:
        yield live


@pytest.mark.live
def test_an_unexpected_failure_is_a_500_in_the_error_shape_logged_once_and_the_connection_lives_on(
    failing_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    with uvicorn_log() as uvicorn_records, httpx.Client(base_url=failing_server.http_url) as http:
        failed = http.post("/v1/chat/completions", json={"model": "m", "messages": HI})
        after = http.get("/v1/models")
        assert connection_of(after) == connection_of(failed)
    assert assert_error(failed, 500) == {
        "message": "The server had an error while processing your request; the details are in the server's log.",
        "type": "server_error",
        "param": None,
        "code": "internal_error",
    }
    assert "connection" not in failed.headers  # no `Connection: close`: the connection stays open
    assert after.status_code == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [(r.name, r.getMessage()) for r in errors] == [
        ("realtalk.server.errors", "POST /v1/chat/completions failed")
    ]
    assert errors[0].exc_info is not None and "deadbeef" in str(errors[0].exc_info[1])
    assert uvicorn_records == []  # not logged a second time by the server


async def test_a_client_that_abandons_its_body_is_noted_quietly(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(engines="scripted"))
    caplog.set_level(logging.DEBUG, logger="realtalk.server.errors")
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    assert sent == []  # nobody is listening for an answer
    assert [(r.levelname, r.name, r.getMessage()) for r in caplog.records] == [
        (
            "DEBUG",
            "realtalk.server.errors",
            "POST /v1/chat/completions: the client went away before its request body arrived",
        )
    ]


# --- any bytes, at every endpoint, over one keep-alive connection ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16,
)
FIELDS = [
    "model", "messages", "tools", "tool_choice", "stream", "stream_options", "temperature", "max_tokens", "n",
    "input", "voice", "response_format", "speed", "session", "expires_after", "client_secret", "type",
    "instructions", "modalities", "turn_detection", "input_audio_format", "tracing", "include", "audio",
]  # fmt: skip
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "developer", "user", "assistant", "tool", "robot"])},
        optional={"content": json_values, "tool_calls": json_values, "tool_call_id": json_values},
    ),
    max_size=3,
)
chat_tools = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.just("function"),
            "function": st.fixed_dictionaries({"name": st.text(max_size=8)}, optional={"parameters": json_values}),
        }
    ),
    max_size=2,
)
session_tools = st.lists(
    st.fixed_dictionaries({"type": st.just("function"), "name": st.just("f"), "parameters": json_values}),
    max_size=2,
)
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5) | st.fixed_dictionaries(
    {"model": st.just("m"), "messages": messages},
    optional={"tools": chat_tools, "tool_choice": json_values, "stream": st.booleans(), "input": json_values},
)
sessions = st.fixed_dictionaries(
    {"session": st.fixed_dictionaries({"type": st.sampled_from(["realtime", "transcription", "x"])},
                                      optional={"tools": session_tools, "tracing": json_values})},
) | st.fixed_dictionaries({"tools": session_tools, "tool_choice": json_values})  # fmt: skip


def spoiled(text: bytes, cut: int, junk: bytes) -> bytes:
    """JSON with bytes spliced in: broken syntax, invalid UTF-8, lone surrogates."""
    return text[:cut] + junk + text[cut:]


json_bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda v: json.dumps(v).encode()),
    objects.map(lambda v: json.dumps(v).encode()),
    sessions.map(lambda v: json.dumps(v).encode()),
    st.builds(spoiled, objects.map(lambda v: json.dumps(v).encode()), st.integers(0, 40),
              st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\x00", b"\\ud800", b"]"])),
    st.integers(1, 3000).map(lambda n: b"[" * n),
    st.integers(1, 1100).map(lambda n: nested(n).encode()),
)  # fmt: skip
JSON_PATHS = [
    "/v1/chat/completions",
    "/v1/audio/speech",
    "/v1/realtime/client_secrets",
    "/v1/realtime/sessions",
    "/v1/realtime/transcription_sessions",
]
OTHER_PATHS = [
    "/v1/audio/transcriptions",
    "/v1/realtime/calls",
    "/v1/realtime/calls/rtc_nope/hangup",
    "/v1/realtime/calls/rtc_nope/accept",
    "/v1/models",
    "/v1/nothing",
]


def multipart(parts: dict[str, bytes]) -> bytes:
    """A well-formed `multipart/form-data` body (boundary `b`) whose parts hold anything."""
    return (
        b"".join(
            b'--b\r\nContent-Disposition: form-data; name="%s"; filename="x"\r\n\r\n%s\r\n' % (name.encode(), data)
            for name, data in parts.items()
        )
        + b"--b--\r\n"
    )


forms = st.dictionaries(
    st.sampled_from(["file", "sdp", "session", "response_format", "language", "prompt", "model", "other"]),
    st.binary(max_size=64) | json_bodies,
    max_size=4,
).map(multipart)
requests = st.one_of(
    st.tuples(st.sampled_from(JSON_PATHS), st.just("application/json"), json_bodies),
    st.tuples(st.sampled_from(OTHER_PATHS[:2]), st.just("multipart/form-data; boundary=b"), forms),
    st.tuples(
        st.sampled_from(JSON_PATHS + OTHER_PATHS),
        st.sampled_from(["application/json", "application/sdp", "multipart/form-data; boundary=x",
                         "multipart/form-data", "application/x-www-form-urlencoded", "text/plain"]),
        st.binary(max_size=128) | json_bodies,
    ),
)  # fmt: skip


def connection_of(response: httpx.Response) -> Any:
    """The client's end of the TCP connection the response came on."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


@pytest.fixture(scope="module")
def live_http() -> Iterator[httpx.Client]:
    with (
        LiveServer(create_app(Settings(engines="scripted"))) as live,
        httpx.Client(base_url=live.http_url, limits=httpx.Limits(max_connections=1)) as http,
    ):
        yield http


@pytest.mark.live
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_any_request_to_any_endpoint_is_answered_and_the_connection_lives_on(
    live_http: httpx.Client, request: tuple[str, str, bytes]
) -> None:
    path, content_type, body = request
    response = live_http.post(path, content=body, headers={"content-type": content_type})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_error(response, response.status_code)
    after = live_http.get("/healthz")
    assert after.status_code == 200
    assert connection_of(after) == connection_of(response)
