"""How uvicorn serves realtalk: the caps and timeouts that belong to the socket, in one place.

`uvicorn_options` is what `realtalk serve` and the live tests both hand to uvicorn, so a test server
refuses exactly what a deployed one does. uvicorn leaves three holes that only its protocol classes
can close, so realtalk runs small subclasses of them:

- a connection that sends no request, or sends its headers a byte at a time, would be held forever
  (uvicorn's keep-alive timeout only starts after a first response): the headers must now arrive
  within `header_timeout` seconds, or the socket gets a 408 (or, if it sent nothing, is just closed);
- the request line and headers would be buffered without bound: over `max_header_bytes` → 431;
- a WebSocket handshake with a header line over 8 KiB (the `websockets` parser's limit, though the
  HTTP parser took it) was never answered: it now gets a 431 (400 for any other malformed handshake).

A WebSocket frame is read up to `ws_max_size`: the event cap plus a small margin. An event between
the two is refused with an `error` event and the session goes on; a frame over it is refused from its
header, before its payload is read, with close code 1009 and a reason naming the limit.
"""

from __future__ import annotations

import asyncio
import copyreg
from http import HTTPStatus
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import SecurityError

from realtalk.config import Settings

WS_FRAME_MARGIN_BYTES = 1024 * 1024
WS_PING_SECONDS = 20.0


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's `Config` keywords for these settings (everything but the app, host and port)."""
    return {
        "http": guarded_http(settings.header_timeout, settings.max_header_bytes),
        "ws": GuardedWebSockets,
        "ws_max_size": settings.max_event_bytes + WS_FRAME_MARGIN_BYTES,
        "ws_ping_interval": WS_PING_SECONDS,
        "ws_ping_timeout": WS_PING_SECONDS,
        "timeout_keep_alive": settings.keep_alive_timeout,
    }


def refusal(status: int, message: str, code: str) -> bytes:
    """A whole HTTP/1.1 response in OpenAI's error shape that closes the connection."""
    body = orjson.dumps({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}})
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _HeadersTooLarge(Exception):
    """Raised from a parser callback: httptools stops parsing, and the answer is a 431."""


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size cap on each request's headers."""

    header_timeout: float = 10.0
    max_header_bytes: int = 64 * 1024

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_bytes = 0
        self._began = False
        self._header_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.header_timeout, self._headers_too_slow
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._began = True
        if self._header_timer is None:  # a later request on a kept-alive connection: its own deadline
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if self._header_bytes > self.max_header_bytes:
            self._refuse(
                431, f"The request's headers exceed {self.max_header_bytes} bytes.", "request_headers_too_large"
            )
            return
        super().send_400_response(msg)

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes:
            raise _HeadersTooLarge

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if not self._began:  # connected and said nothing: nothing to answer
            self.transport.close()
            return
        self._refuse(408, f"The request's headers did not arrive within {self.header_timeout:g} s.", "request_timeout")

    def _refuse(self, status: int, message: str, code: str) -> None:
        self.transport.write(refusal(status, message, code))
        self.transport.close()

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None


class _Limited(type):
    """The metaclass of `guarded_http`'s classes, so that one pickles as the call that makes it: uvicorn
    hands its config, protocol class included, to each worker process it spawns."""


def guarded_http(header_timeout: float, max_header_bytes: int) -> type[GuardedHttp]:
    """`GuardedHttp` with these limits (uvicorn builds one protocol object per connection from a class)."""
    limits = {"header_timeout": header_timeout, "max_header_bytes": max_header_bytes}
    return _Limited("GuardedHttp", (GuardedHttp,), limits)  # type: ignore[return-value]


def _remade(cls: Any) -> Any:
    return guarded_http, (cls.header_timeout, cls.max_header_bytes)


copyreg.pickle(_Limited, _remade)


class GuardedWebSockets(WebSocketsSansIOProtocol):
    """uvicorn's `websockets` protocol, answering a handshake its parser refuses instead of hanging."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        failure = self.conn.handshake_exc
        if failure is None or self.handshake_initiated or self.transport.is_closing():
            return
        self.handshake_complete = self.close_sent = True
        if isinstance(failure.__cause__, SecurityError | RuntimeError):  # a line or header count over the limit
            answer = refusal(
                431, f"The WebSocket handshake was refused: {failure.__cause__}.", "request_headers_too_large"
            )
        else:
            answer = refusal(400, f"The WebSocket handshake is malformed: {failure}.", "invalid_handshake")
        self.transport.write(answer)
        self.transport.close()
