"""Core server events in beta's names and shapes: `conversation.item.created`, `response.text` / `.audio*`,
and `transcription_session.*` for a transcription session."""

from __future__ import annotations

from typing import Any

from realtalk.protocol import events as ev
from realtalk.protocol.beta.fields import modalities
from realtalk.protocol.beta.items import CONTENT_NAMES
from realtalk.protocol.beta.session import shown
from realtalk.protocol.common import Render, arguments_done, item_object, response_fields, server_encoders


def response_object(response: ev.Response) -> dict[str, Any]:
    return {
        **response_fields(response, CONTENT_NAMES),
        "modalities": modalities(response.modality),
        "voice": response.voice,
        "output_audio_format": response.output_format,
        "temperature": response.temperature,
    }


def _session(info: ev.SessionInfo) -> tuple[str, dict[str, Any]]:
    """A transcription session has its own events, `transcription_session.*`."""
    prefix = "transcription_session" if info.config.type == "transcription" else "session"
    return prefix, shown(info)


_STREAMS: dict[ev.StreamKind, str] = {
    "text": "response.text",
    "transcript": "response.audio_transcript",
    "audio": "response.audio",
}

_OWN: dict[type[Any], Render] = {
    ev.ItemCreated: lambda e: {
        "type": "conversation.item.created",
        "previous_item_id": e.previous_item_id,
        "item": item_object(e.item, CONTENT_NAMES),
    },
    ev.ItemDone: lambda e: None,  # beta has no such event: `conversation.item.created` said it all
    ev.IdleTimeout: lambda e: None,  # beta has no idle timeout
    ev.DtmfReceived: lambda e: None,  # beta's types have no DTMF event: a beta sideband is not told
    ev.FunctionArgumentsDone: arguments_done,
}


ENCODERS = server_encoders(
    content=CONTENT_NAMES, streams=_STREAMS, session=_session, response_object=response_object, own=_OWN
)
