"""The latency benchmark's modes: which engines answer, how the turn ends, what goes over the wire, and
whether the server speculates. Kept free of the bench extra's imports, so the CLI can list and check them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from realtalk.protocol.config import AudioFormatName
from realtalk.protocol.ga.fields import format_object

Transport = Literal["websocket", "webrtc", "phone"]
SEED = 7  # the embedded LLM samples the same answers in every mode, so later stages compare like with like


@dataclass(frozen=True)
class Mode:
    stack: str  # the engine preset (`serve --engines`)
    turn_detection: dict[str, Any]
    audio_format: AudioFormatName = "pcm16"  # in and out
    speculate: bool = True
    transport: Transport = "websocket"  # or a WebRTC call (Opus), or a Twilio media stream (μ-law)

    def server_args(self, workdir: Path) -> list[str]:
        args = ["--engines", self.stack, "--seed", str(SEED), "--speculate" if self.speculate else "--no-speculate"]
        if self.transport == "phone":  # the call's session is this mode's, as a profile; the bench's stream is unsigned
            profiles = workdir / "phone_profiles.json"
            profiles.write_bytes(orjson.dumps({PHONE_PROFILE: {"type": "realtime", **self.session()}}))
            args += ["--phone-profiles", str(profiles), "--allow-unsigned-phone-streams"]
        return args

    def session(self) -> dict[str, Any]:
        """The GA session of this mode; transcription is on, since its completion is one of the stages."""
        fmt = format_object(self.audio_format)
        return {
            "audio": {
                "input": {
                    "format": fmt,
                    "turn_detection": self.turn_detection,
                    "transcription": {"model": "whisper-1"},
                },
                "output": {"format": fmt},
            },
            "max_output_tokens": 60,
        }


SERVER_VAD = {"type": "server_vad", "silence_duration_ms": 500}
PHONE_PROFILE = "bench"
MODES = {
    "embedded-server_vad": Mode("embedded", SERVER_VAD),
    "embedded-semantic_auto": Mode("embedded", {"type": "semantic_vad", "eagerness": "auto"}),
    "embedded-semantic_high": Mode("embedded", {"type": "semantic_vad", "eagerness": "high"}),
    "embedded-pcmu": Mode("embedded", SERVER_VAD, "g711_ulaw"),
    "scripted-server_vad": Mode("scripted", SERVER_VAD),
    "embedded-webrtc": Mode("embedded", SERVER_VAD, transport="webrtc"),
    "embedded-phone": Mode("embedded", SERVER_VAD, "g711_ulaw", transport="phone"),
    "embedded-nospec": Mode("embedded", SERVER_VAD, speculate=False),  # the same as embedded-server_vad, unhelped
}
DEFAULT_MODES = [name for name, mode in MODES.items() if mode.speculate]
STACKS = sorted({mode.stack for mode in MODES.values()})


def select(modes: Sequence[str], stacks: Sequence[str]) -> list[str]:
    """The modes asked for whose engines are among `stacks`, in the order asked."""
    chosen = [name for name in modes if MODES[name].stack in stacks]
    if not chosen:
        raise ValueError(f"none of the modes {', '.join(modes)} runs on the stacks {', '.join(stacks)}")
    return chosen
