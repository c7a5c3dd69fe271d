"""Every embedded model realtalk knows, for `realtalk models`."""

from __future__ import annotations

from pathlib import Path

from realtalk.engines.embedded import kokoro, piper, smart_turn, smollm, whisper
from realtalk.engines.embedded.packages import ModelInfo
from realtalk.engines.embedded.silero_vad import model_infos as silero_infos


def model_infos(data_dir: Path) -> list[ModelInfo]:
    return [
        *silero_infos(),
        *whisper.model_infos(data_dir),
        *smollm.model_infos(),
        *kokoro.model_infos(data_dir),
        *piper.model_infos(),
        *smart_turn.model_infos(),
    ]
