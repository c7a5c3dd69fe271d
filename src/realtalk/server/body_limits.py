"""REST request bodies: at most `max_bytes`, all of it within `timeout` seconds, checked as it streams in.

A body that declares too large a `Content-Length` is refused before one byte of it is read; a chunked
one as soon as the bytes received pass the cap; a body that trickles in is cut off at its deadline. Each
refusal is OpenAI's error shape (413 `request_too_large`, 408 `request_timeout`) and closes the
connection, so the rest of the body is never read. Routes with smaller caps of their own (a WebRTC
offer, 64 KiB) keep them.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realtalk.server.errors import error_response


class BodyLimits:
    """ASGI middleware; WebSocket scopes pass through (their frames have their own cap)."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(scope, receive, send, 413, self.too_large, "request_too_large")
            return
        await _GuardedRequest(self, scope, receive, send).run()

    @property
    def too_large(self) -> str:
        return f"The request body exceeds {self.max_bytes} bytes."


class _GuardedRequest:
    """One request: its body counted and timed on the way to the app, which sees a disconnect once refused."""

    def __init__(self, limits: BodyLimits, scope: Scope, receive: Receive, send: Send) -> None:
        self._limits = limits
        self._scope = scope
        self._receive = receive
        self._send = send
        self._deadline = asyncio.get_running_loop().time() + limits.timeout
        self._received = 0
        self._body_done = False
        self._responding = False
        self._refused = False

    async def run(self) -> None:
        try:
            await self._limits.app(self._scope, self.receive, self.send)
        except Exception:
            if not self._refused:  # the app failed on its own
                raise
            # else: it failed reading a body that was cut off (Starlette's ClientDisconnect): answered already

    async def receive(self) -> Message:
        if self._refused:
            return {"type": "http.disconnect"}
        if self._body_done:
            return await self._receive()
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            seconds = self._limits.timeout
            await self._refuse(408, f"The request body did not arrive within {seconds:g} s.", "request_timeout")
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            self._body_done = not message.get("more_body", False)
            if self._received > self._limits.max_bytes:
                await self._refuse(413, self._limits.too_large, "request_too_large")
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self._refused:
            return  # the client has its answer; the app's is dropped
        self._responding = True
        await self._send(message)

    async def _refuse(self, status: int, message: str, code: str) -> None:
        self._refused = True
        if not self._responding:  # too late for a status once the app has begun its answer: the close says it
            await _refuse(self._scope, self._receive, self._send, status, message, code)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str, code: str) -> None:
    response = error_response(status, message, code=code)
    response.headers["connection"] = "close"  # the rest of the body is never read
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length, if any (a malformed one is left to the HTTP parser, which refuses it)."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
