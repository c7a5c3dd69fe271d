"""`SessionRefusals`: session requests refused before a session began, counted by transport and reason.

Read off the answers themselves (an ASGI middleware), so every refusal counts, whichever check made it:
a WebSocket denied before its upgrade (`/v1/realtime`, the phone streams) or a WebRTC offer answered
with an error (`POST /v1/realtime/calls`, beta's `POST /v1/realtime`). The reason is the status's,
and for a 429 the error code's (a per-key cap or a rate limit).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realtalk.observability.metrics import Metrics

PER_KEY_CODE = "too_many_sessions"
_REASONS = {401: "auth", 403: "auth", 503: "capacity"}


def session_transport(scope: Scope) -> str | None:
    """The transport a request would open a session on; None for any other request (a sideband, REST)."""
    path: str = scope.get("path", "")
    if scope["type"] == "websocket":
        if path == "/v1/realtime" and b"call_id=" not in scope.get("query_string", b""):
            return "websocket"
        return "phone" if path.startswith("/telephony/") else None
    if scope["type"] == "http" and scope.get("method") == "POST" and path in ("/v1/realtime/calls", "/v1/realtime"):
        return "webrtc"
    return None


def refusal_reason(status: int, body: bytes) -> str:
    if status == 429:
        return "per_key" if _error_code(body) == PER_KEY_CODE else "rate_limit"
    return _REASONS.get(status, "bad_request" if status < 500 else "other")


def _error_code(body: bytes) -> Any:
    try:
        error = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return error.get("code") if isinstance(error, dict) else None


class SessionRefusals:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = session_transport(scope)
        if transport is None:
            await self.app(scope, receive, send)
            return
        refused: int | None = None  # the status of a refusal, until its body has been seen
        accepted = False  # an accepted WebSocket's frames can be no refusal: passed straight on

        async def watching(message: Message) -> None:
            nonlocal refused, accepted
            if accepted:
                await send(message)
                return
            kind = message["type"]
            if kind == "websocket.accept":
                accepted = True
            elif kind in ("http.response.start", "websocket.http.response.start") and message["status"] >= 400:
                refused = message["status"]
            elif kind in ("http.response.body", "websocket.http.response.body") and refused is not None:
                self.metrics.refused(transport, refusal_reason(refused, message.get("body", b"")))
                refused = None
            await send(message)

        await self.app(scope, receive, watching)
