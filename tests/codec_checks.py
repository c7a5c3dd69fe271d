"""Checks the codec tests of both dialects share: what a dialect sends, decodes to, or refuses."""

from __future__ import annotations

from typing import Any

import pytest

from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol.config import SessionConfig, SessionPatch
from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.wire import Dialect


def bodies(dialect: Dialect, event: ev.ServerEvent) -> list[dict[str, Any]]:
    """What `dialect` sends for `event`, each object's fresh `event_id` checked and set aside."""
    encoded = dialect.encode(event)
    assert all(data["event_id"].startswith("event_") for data in encoded)
    return [{k: v for k, v in data.items() if k != "event_id"} for data in encoded]


def decoded_patch(dialect: Dialect, data: dict[str, Any]) -> SessionPatch:
    """The patch a session-update event decodes to."""
    event = dialect.decode(data)
    assert isinstance(event, ce.UpdateSession)
    return event.patch


def overrides_of(dialect: Dialect, response: dict[str, Any]) -> ce.ResponseOverrides:
    """The overrides a `response.create` carrying `response` decodes to."""
    event = dialect.decode({"type": "response.create", "response": response})
    assert isinstance(event, ce.CreateResponse)
    return event.overrides


def refusal(dialect: Dialect, data: dict[str, Any]) -> tuple[str, str | None]:
    """(code, param) of the error decoding `data` raises, its parameter named by the dialect."""
    with pytest.raises(ProtocolError) as caught:
        dialect.decode(data)
    return caught.value.code, caught.value.rendered(dialect.param)[1]


def invalid(config: SessionConfig, patch: SessionPatch, dialect: Dialect) -> str | None:
    """The dialect's name for the field a patch gets wrong, as the core judges it."""
    with pytest.raises(ProtocolError) as caught:
        config.patched(patch)
    return caught.value.rendered(dialect.param)[1]
