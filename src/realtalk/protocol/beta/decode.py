"""Beta client events into the core's: the shared envelopes, and beta's sessions, items and response overrides."""

from __future__ import annotations

from realtalk.protocol.beta import fields as f
from realtalk.protocol.beta.items import item
from realtalk.protocol.beta.session import realtime_patch, transcription_patch
from realtalk.protocol.common import Fields, To, client_decoders, input_items, session_update

# GA's names (`output_modalities`, `audio`, `max_output_tokens`, `prompt`, `reasoning`) are not here, so a
# beta client that sends them hears that they are unknown.
_RESPONSE: Fields = {
    "modalities": To(("modality",), f.modality),
    "instructions": To(("instructions",)),
    "voice": To(("voice",)),
    "output_audio_format": To(("output_format",)),
    "tools": To(("tools",)),
    "tool_choice": To(("tool_choice",), f.tool_choice),
    "temperature": To(("temperature",)),
    "max_response_output_tokens": To(("max_output_tokens",)),
    "conversation": To(("conversation",)),
    "metadata": To(("metadata",)),
    "input": To(("input",), input_items(item)),
    "parallel_tool_calls": To(("parallel_tool_calls",)),
}

DECODERS = {
    **client_decoders(realtime_patch, item, _RESPONSE),
    "transcription_session.update": session_update(transcription_patch),
}
