"""Beta's names for core field paths: audio settings are flat fields of the session."""

from __future__ import annotations

from realtalk.protocol.common import renamed
from realtalk.protocol.errors import FieldPath, path_name

_RENAMES: dict[FieldPath, FieldPath] = {
    ("session", "modality"): ("session", "modalities"),
    ("session", "input", "format"): ("session", "input_audio_format"),
    ("session", "input", "transcription"): ("session", "input_audio_transcription"),
    ("session", "input", "noise_reduction"): ("session", "input_audio_noise_reduction"),
    ("session", "input", "turn_detection"): ("session", "turn_detection"),
    ("session", "output", "format"): ("session", "output_audio_format"),
    ("session", "output", "voice"): ("session", "voice"),
    ("session", "output", "speed"): ("session", "speed"),
    ("session", "max_output_tokens"): ("session", "max_response_output_tokens"),
    ("response", "modality"): ("response", "modalities"),
    ("response", "output_format"): ("response", "output_audio_format"),
    ("response", "max_output_tokens"): ("response", "max_response_output_tokens"),
}


def param(path: FieldPath) -> str:
    """`("session", "input", "turn_detection", "threshold")` → `session.turn_detection.threshold`."""
    return path_name(renamed(path, _RENAMES))


def body_param(path: FieldPath) -> str:
    """The same name in a REST body, which *is* the session: `turn_detection.threshold`."""
    wire = renamed(path, _RENAMES)
    return path_name(wire[1:] if wire[:1] == ("session",) else wire)
