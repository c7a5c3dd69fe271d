"""GA client events into the core's: the shared envelopes, and GA's session, items and response overrides."""

from __future__ import annotations

from typing import Any

from realtalk.protocol.common import Fields, Refused, To, client_decoders, input_items
from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.ga import fields as f
from realtalk.protocol.ga.items import item
from realtalk.protocol.ga.session import session_patch

# Beta's names (`modalities`, `voice`, `output_audio_format`, `max_response_output_tokens`, `temperature`)
# are not here, so a GA client that sends them hears that they are unknown.
_RESPONSE: Fields = {
    "output_modalities": To(("modality",), f.modality),
    "instructions": To(("instructions",)),
    "audio": {"output": {"format": To(("output_format",), f.format_name), "voice": To(("voice",), f.voice)}},
    "tools": To(("tools",), f.tools),
    "tool_choice": To(("tool_choice",), f.tool_choice),
    "max_output_tokens": To(("max_output_tokens",)),
    "conversation": To(("conversation",)),
    "metadata": To(("metadata",)),
    "input": To(("input",), input_items(item)),
    "parallel_tool_calls": To(("parallel_tool_calls",)),
    "prompt": Refused(f.WHY["prompt"]),
    "reasoning": Refused(f.WHY["reasoning"]),
}

DECODERS = client_decoders(session_patch, item, _RESPONSE)


def refuse_beta_events(data: dict[str, Any]) -> None:
    """Beta's `transcription_session.update` is answered with what GA does instead."""
    if data.get("type") == "transcription_session.update":
        raise ProtocolError(
            "Invalid value: 'transcription_session.update'. In the GA API, use session.update "
            "with session.type 'transcription'.",
            code="invalid_value",
            param="type",
        )
