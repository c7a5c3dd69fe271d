"""No key reaches a log: keys put in a URL's query string are redacted from uvicorn's request lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.sync.client import connect

from realtalk.config import Settings
from realtalk.server.app import create_app
from realtalk.server.log_redaction import REDACTED, SecretRedactor, redact
from tests.live import LiveServer, uvicorn_log

KEY = "sk-live-server-key-0123456789"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/v1/realtime?api_key=sk-abc&model=gpt", "/v1/realtime?api_key=[REDACTED]&model=gpt"),
        ("/v1/realtime?client_secret=ek_0123456789abcdef", "/v1/realtime?client_secret=[REDACTED]"),
        ("/v1/realtime?model=gpt&Authorization=Bearer%20x", "/v1/realtime?model=gpt&Authorization=[REDACTED]"),
        ("/v1/realtime?x=sk%2Dencoded", "/v1/realtime?x=[REDACTED]"),
        ("/v1/realtime?sk-bare-value-here", "/v1/realtime?[REDACTED]"),
        ("/v1/realtime?k=local", "/v1/realtime?k=[REDACTED]"),  # one of the server's own keys
        ("/v1/realtime?model=gpt-realtime&call_id=rtc_1", "/v1/realtime?model=gpt-realtime&call_id=rtc_1"),
        ('"GET /v1/models?token=abc HTTP/1.1" 401', '"GET /v1/models?token=[REDACTED] HTTP/1.1" 401'),
        ("a key sk-proj-0123456789 in prose", "a key [REDACTED] in prose"),
    ],
)  # fmt: skip
def test_secret_query_values_and_key_shaped_words_are_redacted(line: str, expected: str) -> None:
    assert redact(line, frozenset({"local"})) == expected


def test_the_filter_rewrites_arguments_and_keeps_every_record() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s"', ("1.2.3.4", "GET", "/?key=x"), None
    )
    assert SecretRedactor().filter(record) is True
    assert record.getMessage() == f'1.2.3.4 - "GET /?key={REDACTED}"'


@pytest.fixture
def live() -> Iterator[LiveServer]:
    with LiveServer(create_app(Settings(engines="scripted", api_key=[KEY])), log_level="info") as server:
        yield server


@pytest.mark.live
def test_keys_in_query_strings_never_reach_the_servers_log(live: LiveServer) -> None:
    ephemeral = httpx.post(
        f"{live.http_url}/v1/realtime/client_secrets", headers={"Authorization": f"Bearer {KEY}"}, json={}
    ).json()["value"]
    with uvicorn_log() as records:
        assert httpx.get(f"{live.http_url}/v1/models?api_key={KEY}").status_code == 401
        assert httpx.get(f"{live.http_url}/v1/models?client_secret={ephemeral}").status_code == 401
        for query in (f"api_key={KEY}", f"client_secret={ephemeral}", f"model=gpt-realtime&key={KEY}"):
            with pytest.raises(InvalidStatus), connect(f"{live.ws_url}?{query}"):
                pass
    lines = [record.getMessage() for record in records]
    assert not [line for line in lines if KEY in line or ephemeral in line]
    requests = [line.split(" - ", 1)[1] for line in lines if "/v1/" in line]
    assert requests == [  # each request was logged, with its secret replaced
        '"GET /v1/models?api_key=[REDACTED] HTTP/1.1" 401',
        '"GET /v1/models?client_secret=[REDACTED] HTTP/1.1" 401',
        '"WebSocket /v1/realtime?api_key=[REDACTED]" 401',
        '"WebSocket /v1/realtime?client_secret=[REDACTED]" 401',
        '"WebSocket /v1/realtime?model=gpt-realtime&key=[REDACTED]" 401',
    ]


@pytest.mark.parametrize("header", ["authorization", "Sec-WebSocket-Protocol", "x-twilio-signature"])
def test_credential_headers_logged_at_handshake_lose_their_value(header: str) -> None:
    record = logging.LogRecord("uvicorn.error", logging.DEBUG, "", 0, "< %s: %s", (header, "openai-insecure.x"), None)
    SecretRedactor().filter(record)
    assert record.getMessage() == f"< {header}: {REDACTED}"


def test_websocket_frame_lines_keep_only_their_kind_and_size() -> None:
    frame = Frame(Opcode.TEXT, b'{"type":"response.output_audio.delta","delta":"UklGRiQAAABXQVZF"}')
    record = logging.LogRecord("uvicorn.error", logging.DEBUG, "", 0, "> %s", (frame,), None)
    SecretRedactor().filter(record)
    assert record.getMessage() == f"> TEXT [{len(frame.data)} bytes]" and "UklG" not in record.getMessage()
