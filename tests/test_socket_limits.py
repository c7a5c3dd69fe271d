"""Caps and timeouts on the socket itself, against a real uvicorn on loopback served as `realtalk serve` is.

Clients here speak raw bytes where a library would hide what the server does: a silent socket, headers
that never end, a header line over 8 KiB, a frame announcing 100 MB.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Iterator

import pytest

from realtalk.config import Settings
from realtalk.server.app import create_app
from realtalk.server.serving import WS_FRAME_MARGIN_BYTES
from tests.harness import scripted_engines
from tests.live import LiveServer
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live

HEADER_TIMEOUT = 0.5
WAIT = 10.0
UPGRADE = (
    "GET /v1/realtime HTTP/1.1\r\nHost: realtalk\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    settings = Settings(
        engines="scripted",
        max_event_mb=1.0,
        header_timeout=HEADER_TIMEOUT,
        max_header_kib=16,
        max_body_mb=10 / 1024,
        body_timeout=HEADER_TIMEOUT,
    )
    with LiveServer(create_app(settings, engines=scripted_engines())) as live:
        yield live


async def exchange(server: LiveServer, request: bytes) -> bytes:
    """Send `request` and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request)
    answer = await asyncio.wait_for(reader.read(), WAIT)
    writer.close()
    return answer


def status_and_error(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    error: dict[str, object] = json.loads(body)["error"]
    return int(head.split()[1]), error


async def test_a_socket_that_never_speaks_is_closed_without_an_answer(server: LiveServer) -> None:
    assert await exchange(server, b"") == b""


async def test_headers_that_never_end_get_408(server: LiveServer) -> None:
    status, error = status_and_error(await exchange(server, b"GET /v1/models HTTP/1.1\r\nHost: realtalk\r\n"))
    assert status == 408
    assert error == {
        "message": "The request's headers did not arrive within 0.5 s.",
        "type": "invalid_request_error",
        "param": None,
        "code": "request_timeout",
    }


async def test_new_clients_get_in_while_half_open_sockets_wait_to_be_closed(server: LiveServer) -> None:
    idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(100)]
    client = await RealtimeClient.open(server.ws_url)
    assert (await client.receive())["type"] == "session.created"
    await client.close()
    assert [await asyncio.wait_for(reader.read(), WAIT) for reader, _ in idle] == [b""] * 100
    for _, writer in idle:
        writer.close()


async def test_headers_over_the_cap_get_431(server: LiveServer) -> None:
    request = f"GET /v1/models HTTP/1.1\r\nHost: realtalk\r\nX-Padding: {'x' * 17_000}\r\n\r\n".encode()
    status, error = status_and_error(await exchange(server, request))
    assert (status, error["code"]) == (431, "request_headers_too_large")
    assert error["message"] == "The request's headers exceed 16384 bytes."


async def test_a_long_header_line_is_fine_on_rest(server: LiveServer) -> None:
    request = f"GET /healthz HTTP/1.1\r\nHost: realtalk\r\nConnection: close\r\nX-Padding: {'x' * 9000}\r\n\r\n"
    assert (await exchange(server, request.encode())).startswith(b"HTTP/1.1 200 OK")


async def test_a_websocket_handshake_with_a_header_line_over_8_kib_gets_431(server: LiveServer) -> None:
    status, error = status_and_error(await exchange(server, f"{UPGRADE}X-Padding: {'x' * 9000}\r\n\r\n".encode()))
    assert (status, error["code"]) == (431, "request_headers_too_large")
    assert error["message"] == "The WebSocket handshake was refused: line too long."


async def test_an_event_just_over_the_cap_is_refused_and_the_session_goes_on(server: LiveServer) -> None:
    client = await RealtimeClient.open(server.ws_url)
    await client.until("conversation.created")
    audio = "A" * (1024 * 1024 + WS_FRAME_MARGIN_BYTES // 2)
    frame = json.dumps({"type": "input_audio_buffer.append", "audio": audio})
    await client.send(frame)
    error = (await client.receive())["error"]
    assert (error["code"], error["message"]) == (
        "event_too_large",
        f"Event of {len(frame)} bytes exceeds the limit of {1024 * 1024} bytes.",
    )
    await client.send({"type": "input_audio_buffer.clear"})
    assert (await client.receive())["type"] == "input_audio_buffer.cleared"
    await client.close()


async def test_a_frame_far_over_the_cap_is_closed_with_1009_from_its_header_alone(server: LiveServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(f"{UPGRADE}\r\n".encode())
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    # A masked text frame announcing 100 MB, of which only 16 bytes ever come: the answer cannot wait for them.
    writer.write(struct.pack("!BBQ", 0x81, 0x80 | 127, 100_000_000) + b"mask" + b"x" * 16)
    code, reason = await asyncio.wait_for(close_frame(reader), WAIT)
    writer.close()
    limit = 1024 * 1024 + WS_FRAME_MARGIN_BYTES
    assert (code, reason) == (1009, f"frame with 100000000 bytes exceeds limit of {limit} bytes")


async def close_frame(reader: asyncio.StreamReader) -> tuple[int, str]:
    """Skip the server's events up to its close frame; its code and reason."""
    while True:
        opcode, length = struct.unpack("!BB", await reader.readexactly(2))
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await reader.readexactly(8))
        payload = await reader.readexactly(length)
        if opcode & 0x0F == 0x8:
            return struct.unpack("!H", payload[:2])[0], payload[2:].decode()


async def test_a_body_declared_over_the_cap_gets_413_before_any_of_it_is_read(server: LiveServer) -> None:
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: realtalk\r\nContent-Type: application/json\r\n"
    status, error = status_and_error(await exchange(server, f"{head}Content-Length: 50000000\r\n\r\n".encode()))
    assert (status, error) == (
        413,
        {
            "message": "The request body exceeds 10240 bytes.",
            "type": "invalid_request_error",
            "param": None,
            "code": "request_too_large",
        },
    )


async def test_a_chunked_body_is_refused_once_it_passes_the_cap_without_waiting_for_its_end(
    server: LiveServer,
) -> None:
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: realtalk\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = f"{12_000:x}\r\n{'x' * 12_000}\r\n"  # and no last chunk: the body never ends
    status, error = status_and_error(await exchange(server, (head + chunk).encode()))
    assert (status, error["code"]) == (413, "request_too_large")


async def test_a_body_that_trickles_in_gets_408_at_its_deadline(server: LiveServer) -> None:
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: realtalk\r\nContent-Length: 100\r\n\r\n"
    status, error = status_and_error(await exchange(server, f'{head}{{"mod'.encode()))
    assert (status, error["message"]) == (408, "The request body did not arrive within 0.5 s.")
    assert error["code"] == "request_timeout"


async def test_a_body_under_the_cap_is_served(server: LiveServer) -> None:
    body = '{"session": {"type": "realtime"}}'
    head = "POST /v1/realtime/client_secrets HTTP/1.1\r\nHost: realtalk\r\nConnection: close\r\n"
    answer = await exchange(server, f"{head}Content-Length: {len(body)}\r\n\r\n{body}".encode())
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["value"].startswith("ek_")
