"""OpenAI's REST error shape: `{"error": {"message", "type", "param", "code"}}` with a fitting status."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from realtalk.protocol.errors import ProtocolError


def error_response(
    status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type, "param": param, "code": code}}, status_code=status)


def protocol_error_response(exc: ProtocolError, status: int = 400) -> JSONResponse:
    return error_response(status, exc.message, type=exc.type, param=exc.param, code=exc.code)
