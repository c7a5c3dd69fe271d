"""The conformance oracle: every server event must validate against the official `openai` types.

Validation is strict (no type coercion) and rejects fields the types do not declare, except the few listed
below that OpenAI's own servers send (documented in the OpenAPI spec and in real captures).
"""

from __future__ import annotations

from typing import Any

from openai import BaseModel as OpenAIModel
from openai.types.beta.realtime.realtime_server_event import RealtimeServerEvent as BetaServerEvent
from openai.types.realtime.realtime_server_event import RealtimeServerEvent as GAServerEvent
from pydantic import TypeAdapter

_BETA = TypeAdapter(BetaServerEvent)
_GA = TypeAdapter(GAServerEvent)

# class name → fields OpenAI sends beyond the SDK type. Beta `RealtimeSession`: `object`, `expires_at`
# (spec and capture). GA `session.created` carries the session *request* type, yet the spec's example
# shows the response's `id`, `object` and `expires_at` on it.
ALLOWED_EXTRAS: dict[str, set[str]] = {
    "Session": {"object", "expires_at"},
    "RealtimeSessionCreateRequest": {"id", "object", "expires_at"},
    "RealtimeTranscriptionSessionCreateRequest": {"id", "object", "expires_at"},
}


def validate_beta_server_event(event: dict[str, Any]) -> None:
    checked = event
    if event["type"].startswith("transcription_session."):
        # Over a WebSocket OpenAI's own example sends `client_secret: null`, which the SDK type (written for
        # the REST response) does not allow; `transcription_session.created` (spec) is not in its union.
        assert event["session"]["client_secret"] is None
        session = {**event["session"], "client_secret": {"value": "", "expires_at": 0}}
        checked = {**event, "type": "transcription_session.updated", "session": session}
    model = _BETA.validate_python(checked, strict=True)
    assert model.type == checked["type"], f"validated as {model.type}, sent as {checked['type']}"
    _check_no_extras(model, event["type"])


def validate_ga_server_event(event: dict[str, Any]) -> None:
    model = _GA.validate_python(event, strict=True)
    assert model.type == event["type"], f"validated as {model.type}, sent as {event['type']}"
    _check_no_extras(model, event["type"])


def _check_no_extras(value: Any, path: str) -> None:
    if isinstance(value, OpenAIModel):
        extras = set(value.model_extra or {}) - ALLOWED_EXTRAS.get(type(value).__name__, set())
        assert not extras, f"{path}: fields not in {type(value).__name__}: {sorted(extras)}"
        for name in type(value).model_fields:
            _check_no_extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for index, element in enumerate(value):
            _check_no_extras(element, f"{path}[{index}]")
