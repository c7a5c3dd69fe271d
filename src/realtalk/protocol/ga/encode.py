"""Core server events in GA's names and shapes: `conversation.item.added` / `.done`, `response.output_*`."""

from __future__ import annotations

from typing import Any

from realtalk.protocol import events as ev
from realtalk.protocol.common import Render, arguments_done, item_object, response_fields, server_encoders
from realtalk.protocol.ga.fields import format_object
from realtalk.protocol.ga.items import CONTENT_NAMES
from realtalk.protocol.ga.session import session_object


def response_object(response: ev.Response) -> dict[str, Any]:
    audio_out = {"format": format_object(response.output_format), "voice": response.voice}
    return {
        **response_fields(response, CONTENT_NAMES),
        "output_modalities": [response.modality],
        "audio": {"output": audio_out},
    }


def _item_created(e: ev.ItemCreated) -> list[dict[str, Any]]:
    """A finished item is added and done at once; one the model is still writing is only added."""
    added = {
        "type": "conversation.item.added",
        "previous_item_id": e.previous_item_id,
        "item": item_object(e.item, CONTENT_NAMES),
    }
    if e.item.status == "in_progress":
        return [added]
    return [added, {**added, "type": "conversation.item.done"}]


_STREAMS: dict[ev.StreamKind, str] = {
    "text": "response.output_text",
    "transcript": "response.output_audio_transcript",
    "audio": "response.output_audio",
}

_OWN: dict[type[Any], Render] = {
    ev.ItemCreated: _item_created,
    ev.ItemDone: lambda e: {
        "type": "conversation.item.done",
        "previous_item_id": e.previous_item_id,
        "item": item_object(e.item, CONTENT_NAMES),
    },
    ev.IdleTimeout: lambda e: {
        "type": "input_audio_buffer.timeout_triggered",
        "audio_start_ms": e.audio_start_ms,
        "audio_end_ms": e.audio_end_ms,
        "item_id": e.item_id,
    },
    ev.FunctionArgumentsDone: lambda e: {**arguments_done(e), "name": e.name},
    ev.DtmfReceived: lambda e: {
        "type": "input_audio_buffer.dtmf_event_received",
        "event": e.digit,
        "received_at": e.received_at,
    },
}


ENCODERS = server_encoders(
    content=CONTENT_NAMES,
    streams=_STREAMS,
    session=lambda info: ("session", session_object(info)),
    response_object=response_object,
    own=_OWN,
)
