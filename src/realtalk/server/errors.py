"""OpenAI's REST error shape: `{"error": {"message", "type", "param", "code"}}` with a fitting status."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import WebSocket
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realtalk.protocol.errors import FieldPath, ProtocolError
from realtalk.server.auth import AuthError

log = logging.getLogger(__name__)


def error_response(
    status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type, "param": param, "code": code}}, status_code=status)


def protocol_error_response(
    exc: ProtocolError, status: int = 400, name: Callable[[FieldPath], str] | None = None
) -> JSONResponse:
    """The error as a REST answer; `name` spells a core field path as the request's dialect does."""
    message, param = exc.rendered(name)
    return error_response(status, message, type=exc.type, param=param, code=exc.code)


async def deny_websocket(websocket: WebSocket, exc: ProtocolError, status: int) -> None:
    """Refuse before the upgrade with an HTTP status and OpenAI's error body (or a close, if unsupported)."""
    try:
        await websocket.send_denial_response(protocol_error_response(exc, status))
    except RuntimeError:
        await websocket.close(code=1008, reason=exc.message[:120])


class NotFound(ProtocolError):
    """A REST path names something that does not exist (a call that ended): answered 404."""


class TooManyRequests(ProtocolError):
    """A key past one of its caps (concurrent sessions, starts a minute): answered 429."""


class SharedStateUnavailable(ProtocolError):
    """The store the workers share (Redis) did not answer: 503, and the client may simply retry."""

    def __init__(self) -> None:
        super().__init__(
            "The shared state store (Redis) is unreachable, so this request cannot be served now; try again shortly.",
            code="shared_state_unavailable",
            type="server_error",
        )


class ServerBusy(ProtocolError):
    """Every session this server may hold is taken (`--max-connections`): 503, and the client may retry later."""

    def __init__(self) -> None:
        super().__init__(
            "The server is at its session capacity; try again later.", code="server_busy", type="server_error"
        )


def refusal_status(exc: ProtocolError, default: int = 400) -> int:
    """The HTTP status a refusal gets when it is not an ordinary bad request."""
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, TooManyRequests):
        return 429
    if isinstance(exc, SharedStateUnavailable | ServerBusy):
        return 503
    return default


class InternalErrors:
    """The last resort: a failure no handler expected becomes a 500 in OpenAI's shape, logged once.

    Starlette's own handler answers in plain text and re-raises, and uvicorn then logs the traceback a
    second time and drops the keep-alive connection without saying so; the client's next request on it
    fails. Answered here, the response completes and the connection stays usable. A client that hangs up
    before its body arrived is no server error: it is noted at debug level and answered with nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except ClientDisconnect:
            log.debug("%s %s: the client went away before its request body arrived", scope["method"], scope["path"])
        except Exception:
            if started:  # part of the answer is out: only closing the connection can tell the client
                raise
            log.exception("%s %s failed", scope["method"], scope["path"])
            answer = error_response(
                500,
                "The server had an error while processing your request; the details are in the server's log.",
                type="server_error",
                code="internal_error",
            )
            await answer(scope, receive, send)
