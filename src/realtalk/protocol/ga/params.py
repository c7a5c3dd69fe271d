"""GA's names for core field paths: audio settings nest under `audio.input` / `audio.output`."""

from __future__ import annotations

from realtalk.protocol.common import renamed
from realtalk.protocol.errors import FieldPath, path_name

_RENAMES: dict[FieldPath, FieldPath] = {
    ("session", "modality"): ("session", "output_modalities"),
    ("session", "input"): ("session", "audio", "input"),
    ("session", "output"): ("session", "audio", "output"),
    ("response", "modality"): ("response", "output_modalities"),
    ("response", "voice"): ("response", "audio", "output", "voice"),
    ("response", "output_format"): ("response", "audio", "output", "format"),
}


def param(path: FieldPath) -> str:
    """`("session", "input", "turn_detection", "threshold")` → `session.audio.input.turn_detection.threshold`."""
    return path_name(renamed(path, _RENAMES))
