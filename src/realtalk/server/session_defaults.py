"""The configuration a new session starts with: a minted secret's, else the server's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from realtalk.config import Settings
from realtalk.protocol.config import SessionConfig, SessionPatch
from realtalk.protocol.errors import ProtocolError, validated
from realtalk.server.auth import Principal


def session_defaults(settings: Settings, model: str | None = None) -> SessionConfig:
    """The server's configured model (or the one a URL names) and instructions, for what the client leaves out."""
    defaults: dict[str, Any] = {"model": model or settings.default_model}
    if settings.instructions is not None:
        defaults["instructions"] = settings.instructions
    return validated(SessionConfig, defaults)


def initial_config(principal: Principal, query: Mapping[str, str], settings: Settings) -> SessionConfig:
    """A minted secret's configuration, else the server defaults for the kind of session the URL asks for."""
    if principal.secret is not None:
        return SessionConfig.model_validate(principal.secret.config)
    intent = query.get("intent")
    if intent == "transcription":
        return session_defaults(settings).patched(SessionPatch("transcription", {("type",): "transcription"}))
    if intent is not None:
        raise ProtocolError(
            f"Invalid value: '{intent[:40]}'. The only intent is 'transcription'.", code="invalid_value", param="intent"
        )
    return session_defaults(settings, query.get("model"))
