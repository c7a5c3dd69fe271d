"""GA sessions ⇄ the core: a `session` object read into a `SessionPatch`, and the session object shown.

A GA session says its `type`; a transcription session has only `audio.input` and `include`.
"""

from __future__ import annotations

from typing import Any

from realtalk.protocol.common import (
    Fields,
    Refused,
    To,
    changes,
    expect_object,
    plain,
    session_type,
    turn_detection_object,
    without_type,
)
from realtalk.protocol.config import SessionConfig, SessionPatch
from realtalk.protocol.errors import FieldPath
from realtalk.protocol.events import SessionInfo
from realtalk.protocol.ga import fields as f

_AUDIO_INPUT: Fields = {
    "format": To(("input", "format"), f.format_name),
    "transcription": To(("input", "transcription"), f.transcription),
    "noise_reduction": To(("input", "noise_reduction"), f.noise_reduction),
    "turn_detection": To(("input", "turn_detection")),
}
_AUDIO_OUTPUT: Fields = {
    "format": To(("output", "format"), f.format_name),
    "voice": To(("output", "voice"), f.voice),
    "speed": To(("output", "speed")),
}
_REALTIME: Fields = {
    "model": To(("model",)),
    "instructions": To(("instructions",)),
    "output_modalities": To(("modality",), f.modality),
    "max_output_tokens": To(("max_output_tokens",)),
    "tools": To(("tools",), f.tools),
    "tool_choice": To(("tool_choice",), f.tool_choice),
    "tracing": To(("tracing",)),
    "include": To(("include",)),
    "truncation": To(("truncation",)),
    "parallel_tool_calls": To(("parallel_tool_calls",)),
    "audio": {"input": _AUDIO_INPUT, "output": _AUDIO_OUTPUT},
    "prompt": Refused(f.WHY["prompt"]),
    "reasoning": Refused(f.WHY["reasoning"]),
}
_TRANSCRIPTION: Fields = {"audio": {"input": _AUDIO_INPUT}, "include": To(("include",))}


def session_patch(session: Any, where: FieldPath = ("session",)) -> SessionPatch:
    """A GA `session` object (in `session.update` or a client secret request) as a patch of the core config."""
    kind = session_type(expect_object(session, where), where)
    table = _REALTIME if kind == "realtime" else _TRANSCRIPTION
    return SessionPatch(kind, changes(without_type(session), table, where, ("session",)))


def session_object(info: SessionInfo) -> dict[str, Any]:
    """A GA session object (`realtime.session` or `realtime.transcription_session`)."""
    config = info.config
    shown = {"id": info.id, "expires_at": info.expires_at, "include": list(config.include) or None}
    if config.type == "transcription":
        audio_in = {"input": _audio_input(config)}
        return {"type": "transcription", "object": "realtime.transcription_session", **shown, "audio": audio_in}
    return {
        "type": "realtime",
        "object": "realtime.session",
        **shown,
        "model": config.model,
        "output_modalities": [config.modality],
        "instructions": config.instructions,
        "tools": [tool.model_dump() for tool in config.tools],
        "tool_choice": plain(config.tool_choice),
        "max_output_tokens": config.max_output_tokens,
        "tracing": plain(config.tracing),
        "truncation": plain(config.truncation),
        "prompt": None,
        "audio": {
            "input": _audio_input(config),
            "output": {
                "format": f.format_object(config.output.format),
                "voice": config.output.voice,
                "speed": config.output.speed,
            },
        },
    }


def _audio_input(config: SessionConfig) -> dict[str, Any]:
    audio_in = config.input
    return {
        "format": f.format_object(audio_in.format),
        "transcription": plain(audio_in.transcription),
        "noise_reduction": plain(audio_in.noise_reduction),
        "turn_detection": turn_detection_object(audio_in.turn_detection, idle_timeout=True),
    }
