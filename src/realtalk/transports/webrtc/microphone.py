"""`listen`: the caller's microphone track into the session, as if the client appended it.

The browser sends Opus at 48 kHz (often stereo); each decoded frame is mixed to mono and converted to
the session's current input format, then appended through the session like `input_audio_buffer.append`
— so turn detection, noise reduction and transcription see exactly what a WebSocket client would send.
"""

from __future__ import annotations

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame
from av.audio.resampler import AudioResampler

from realtalk.audio.formats import FORMATS, Resampler
from realtalk.protocol import client_events as ce
from realtalk.session.session import RealtimeSession

RATE = 48_000


class _Converter:
    """48 kHz mono int16 → the session's input format, rebuilt when a `session.update` changes it."""

    def __init__(self) -> None:
        self._mono = AudioResampler(format="s16", layout="mono", rate=RATE)
        self._format: str | None = None
        self._resampler = Resampler(RATE, RATE)

    def convert(self, frame: AudioFrame, format_name: str) -> bytes:
        fmt = FORMATS[format_name]
        if format_name != self._format:
            self._format = format_name
            self._resampler = Resampler(RATE, fmt.sample_rate)
        chunks = [
            self._resampler.process(np.asarray(out.to_ndarray(), dtype=np.int16).reshape(-1))
            for out in self._mono.resample(frame)
        ]
        return b"".join(fmt.encode(chunk) for chunk in chunks)


async def listen(track: MediaStreamTrack, session: RealtimeSession) -> None:
    """Append every frame of `track` to the session until the track ends (the peer hung up or vanished)."""
    converter = _Converter()
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if not isinstance(frame, AudioFrame):
            continue
        audio = converter.convert(frame, session.config.input.format)
        if audio:
            await session.handle(ce.AppendInputAudio(None, audio))
