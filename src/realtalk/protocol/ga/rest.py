"""GA's REST body: `POST /v1/realtime/client_secrets` (a GA session, realtime or transcription)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from realtalk.protocol.common import SecretLifetime, minted, wire_validated
from realtalk.protocol.config import SessionConfig, StrictModel
from realtalk.protocol.events import SessionInfo
from realtalk.protocol.ga.params import param
from realtalk.protocol.ga.session import session_object, session_patch

__all__ = ["call_session", "client_secret_request", "client_secret_response", "param"]


class _Lifetime(SecretLifetime):
    """GA secrets live ten minutes unless asked otherwise."""

    seconds: int = Field(600, ge=10, le=7200)


class _Request(StrictModel):
    expires_after: _Lifetime = Field(default_factory=_Lifetime)
    session: Any = Field(default_factory=lambda: {"type": "realtime"})


def client_secret_request(body: dict[str, Any], defaults: SessionConfig) -> tuple[SessionConfig, int]:
    """The session a secret opens (the server's defaults, the request over them) and its lifetime in seconds.

    Errors name core paths under `session`, as `param` names them.
    """
    request = wire_validated(_Request, body)
    return minted(defaults, session_patch(request.session)), request.expires_after.seconds


def call_session(session: Any, defaults: SessionConfig) -> SessionConfig:
    """The `session` part of a `/v1/realtime/calls` form: a GA session over the server's defaults."""
    return minted(defaults, session_patch(session))


def client_secret_response(info: SessionInfo, secret: str) -> dict[str, Any]:
    return {"value": secret, "expires_at": info.expires_at, "session": session_object(info)}
