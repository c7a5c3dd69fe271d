"""The WebRTC microphone: every frame into the session, in its input format; a full buffer said once."""

from __future__ import annotations

import fractions

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from realtalk.protocol.config import SessionConfig
from realtalk.session.session import SessionLimits
from realtalk.transports.webrtc.microphone import listen
from tests.harness import SessionHarness, no_vad

RATE = 48_000


class Recording(MediaStreamTrack):
    """A track that plays `frames` 20 ms stereo frames of a tone (as a browser's Opus decodes), then ends."""

    kind = "audio"

    def __init__(self, frames: int) -> None:
        super().__init__()
        self._left = frames
        self._pts = 0

    async def recv(self) -> AudioFrame:
        if self._left == 0:
            raise MediaStreamError
        self._left -= 1
        t = (self._pts + np.arange(960)) / RATE
        mono = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        frame = AudioFrame.from_ndarray(np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += 960
        return frame


async def started(session_config: SessionConfig, limits: SessionLimits | None = None) -> SessionHarness:
    harness = SessionHarness(session_config, limits=limits)
    await harness.start()
    return harness


async def test_each_frame_reaches_the_buffer_in_the_sessions_format() -> None:
    harness = await started(no_vad())
    await listen(Recording(25), harness.session)  # 500 ms
    assert 499 <= harness.session.input.buffer.duration_ms <= 500  # less under a millisecond held back


async def test_a_g711_session_gets_g711_at_8khz() -> None:
    harness = await started(no_vad(input={"format": "g711_ulaw"}))
    await listen(Recording(10), harness.session)
    buffer = harness.session.input.buffer
    assert buffer.format.name == "g711_ulaw" and 198 <= buffer.duration_ms <= 200  # 16 samples held back


async def test_a_full_buffer_is_reported_once_and_the_sound_dropped() -> None:
    harness = await started(no_vad(), SessionLimits(max_input_buffer_seconds=0.2))
    await listen(Recording(50), harness.session)  # 1 s into a 200 ms buffer
    errors = [e for e in harness.drain() if e["type"] == "error"]
    assert [e["error"]["code"] for e in errors] == ["input_audio_buffer_full"]
    assert 199 <= harness.session.input.buffer.duration_ms <= 200
