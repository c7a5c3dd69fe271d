"""Beta sessions ⇄ the core: flat session fields read into a `SessionPatch`, and the session objects shown.

Beta has two session shapes: the realtime session (`session.update`, `POST /v1/realtime/sessions`) and the
transcription session (`transcription_session.update`, `POST /v1/realtime/transcription_sessions`).
"""

from __future__ import annotations

from typing import Any, get_args

from realtalk.protocol.beta import fields as f
from realtalk.protocol.common import (
    Fields,
    To,
    changes,
    expect_object,
    not_one_of,
    only_keys,
    plain,
    session_type,
    turn_detection_object,
    without_type,
)
from realtalk.protocol.config import SessionConfig, SessionPatch, TranscriptionModel
from realtalk.protocol.errors import FieldPath
from realtalk.protocol.events import SessionInfo

_VAD_KNOBS = ("type", "threshold", "prefix_padding_ms", "silence_duration_ms", "eagerness")
_TURN_KNOBS = (*_VAD_KNOBS, "create_response", "interrupt_response")  # no idle_timeout_ms: GA's alone


def _transcription_model(value: Any, at: FieldPath) -> Any:
    """A beta transcription session names one of OpenAI's three transcription models."""
    model = value.get("model", "whisper-1") if isinstance(value, dict) else "whisper-1"
    if model not in get_args(TranscriptionModel):
        raise not_one_of(model, get_args(TranscriptionModel), path=(*at, "model"))
    return value


_SHARED: Fields = {
    "modalities": To(("modality",), f.modality),
    "input_audio_format": To(("input", "format")),
    "input_audio_noise_reduction": To(("input", "noise_reduction")),
    "include": To(("include",)),
}
_REALTIME: Fields = {
    **_SHARED,
    "model": To(("model",)),
    "instructions": To(("instructions",)),
    "voice": To(("output", "voice")),
    "output_audio_format": To(("output", "format")),
    "input_audio_transcription": To(("input", "transcription")),
    "turn_detection": To(("input", "turn_detection"), only_keys(_TURN_KNOBS)),
    "tools": To(("tools",)),
    "tool_choice": To(("tool_choice",), f.tool_choice),
    "temperature": To(("temperature",)),
    "max_response_output_tokens": To(("max_output_tokens",)),
    "speed": To(("output", "speed")),
    "tracing": To(("tracing",)),
    "truncation": To(("truncation",)),
    "parallel_tool_calls": To(("parallel_tool_calls",)),
}
_TRANSCRIPTION: Fields = {
    **_SHARED,
    "input_audio_transcription": To(("input", "transcription"), _transcription_model),
    "turn_detection": To(("input", "turn_detection"), only_keys(_VAD_KNOBS)),
}


def realtime_patch(session: Any, where: FieldPath = ("session",)) -> SessionPatch:
    """A beta realtime `session` (`session.update`, or a REST body at `where=()`) as a core patch."""
    kind = session_type(expect_object(session, where), where, default="realtime")
    return SessionPatch(kind, changes(without_type(session), _REALTIME, where, ("session",)))


def transcription_patch(session: Any, where: FieldPath = ("session",)) -> SessionPatch:
    """A beta transcription `session` (`transcription_session.update`, or a REST body) as a core patch."""
    return SessionPatch("transcription", changes(session, _TRANSCRIPTION, where, ("session",)))


def session_object(info: SessionInfo) -> dict[str, Any]:
    """The beta `RealtimeSession` object (also the body of `POST /v1/realtime/sessions`)."""
    config = info.config
    return {
        "id": info.id,
        "object": "realtime.session",
        "expires_at": info.expires_at,
        "model": f.model_name(config.model),
        "modalities": f.modalities(config.modality),
        "instructions": config.instructions,
        "voice": config.output.voice,
        "input_audio_format": config.input.format,
        "output_audio_format": config.output.format,
        "input_audio_transcription": plain(config.input.transcription),
        "input_audio_noise_reduction": plain(config.input.noise_reduction),
        "turn_detection": turn_detection_object(config.input.turn_detection, idle_timeout=False),
        "tools": [tool.model_dump() for tool in config.tools],
        "tool_choice": f.tool_choice_name(config.tool_choice),
        "temperature": config.temperature,
        "max_response_output_tokens": config.max_output_tokens,
        "speed": config.output.speed,
        "tracing": plain(config.tracing),
    }


def transcription_settings(config: SessionConfig) -> dict[str, Any]:
    """Every setting of a transcription session in beta's names (the REST answer shows them all)."""
    td = config.input.turn_detection
    return {
        "modalities": f.modalities(config.modality),
        "input_audio_format": config.input.format,
        "input_audio_transcription": plain(config.input.transcription),
        "turn_detection": None if td is None else td.model_dump(include=set(_VAD_KNOBS)),
        "input_audio_noise_reduction": plain(config.input.noise_reduction),
        "include": list(config.include),
    }


def transcription_object(config: SessionConfig) -> dict[str, Any]:
    """The transcription session over a WebSocket: `client_secret` null, as OpenAI's example shows."""
    settings = transcription_settings(config)
    td = settings["turn_detection"]
    return {
        "modalities": settings["modalities"],
        "input_audio_format": settings["input_audio_format"],
        "input_audio_transcription": settings["input_audio_transcription"],
        "turn_detection": None if td is None else {k: v for k, v in td.items() if k != "eagerness"},
        "client_secret": None,
    }


def shown(info: SessionInfo) -> dict[str, Any]:
    """The session as `session.created` / `transcription_session.*` show it, by the session's type."""
    return transcription_object(info.config) if info.config.type == "transcription" else session_object(info)
