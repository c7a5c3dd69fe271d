"""OpenAI's REST error shape: `{"error": {"message", "type", "param", "code"}}` with a fitting status."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse

from realtalk.protocol.errors import FieldPath, ProtocolError


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


class NotFound(ProtocolError):
    """A REST path names something that does not exist (a call that ended): answered 404."""
