"""Beta's REST bodies: `POST /v1/realtime/sessions` and `POST /v1/realtime/transcription_sessions`.

Each body is the session itself plus `client_secret`; errors are named from the body's root (`body_param`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from realtalk.protocol.beta.params import body_param
from realtalk.protocol.beta.session import realtime_patch, session_object, transcription_patch, transcription_settings
from realtalk.protocol.common import SecretLifetime, minted, wire_validated
from realtalk.protocol.config import SessionConfig, StrictModel
from realtalk.protocol.events import SessionInfo

__all__ = ["body_param", "session_request", "session_response", "transcription_request", "transcription_response"]


class _ExpiresAfter(StrictModel):
    expires_after: SecretLifetime = Field(default_factory=SecretLifetime)


class _ExpiresAt(StrictModel):
    """Beta transcription sessions call the lifetime `client_secret.expires_at` (sic; `expires_after` elsewhere)."""

    expires_at: SecretLifetime = Field(default_factory=SecretLifetime)


def session_request(body: dict[str, Any], defaults: SessionConfig) -> tuple[SessionConfig, int]:
    """The session a secret opens (the server's defaults, the body over them) and its lifetime in seconds."""
    secret = wire_validated(_ExpiresAfter, body.get("client_secret", {}), ("client_secret",))
    patch = realtime_patch(_settings(body), where=())
    return minted(defaults, patch), secret.expires_after.seconds


def transcription_request(body: dict[str, Any], defaults: SessionConfig) -> tuple[SessionConfig, int]:
    secret = wire_validated(_ExpiresAt, body.get("client_secret", {}), ("client_secret",))
    patch = transcription_patch(_settings(body), where=())
    return minted(defaults, patch), secret.expires_at.seconds


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "client_secret"}


def _client_secret(info: SessionInfo, secret: str) -> dict[str, Any]:
    return {"client_secret": {"value": secret, "expires_at": info.expires_at}}


def session_response(info: SessionInfo, secret: str) -> dict[str, Any]:
    return {**session_object(info), **_client_secret(info, secret)}


def transcription_response(info: SessionInfo, secret: str) -> dict[str, Any]:
    shown = {"id": info.id, "object": "realtime.transcription_session", "expires_at": info.expires_at}
    return {**shown, **transcription_settings(info.config), **_client_secret(info, secret)}
