"""`listen`: the caller's microphone track into the session, as if the client appended it.

The browser sends Opus at 48 kHz (decoded as stereo); each frame is mixed to mono and converted to the
session's current input format, then appended through the session like `input_audio_buffer.append` (`InputFeed`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame
from av.audio.resampler import AudioResampler

from realtalk.audio.formats import FORMATS
from realtalk.session.session import RealtimeSession
from realtalk.transports.input_feed import InputFeed


class _Converter:
    """Decoded frames → the session's input format, in one resampling step with under a millisecond of delay.

    Rebuilt when a `session.update` changes the format (libswresample's filter holds back a few samples
    where soxr's high-quality one would hold back ~25 ms of the caller's voice).
    """

    def __init__(self) -> None:
        self._format: str | None = None
        self._resampler: AudioResampler | None = None

    def convert(self, frame: AudioFrame, format_name: str) -> bytes:
        fmt = FORMATS[format_name]
        if format_name != self._format or self._resampler is None:
            self._format = format_name
            self._resampler = AudioResampler(format="s16", layout="mono", rate=fmt.sample_rate)
        return b"".join(
            fmt.encode(np.asarray(out.to_ndarray(), dtype=np.int16).reshape(-1))
            for out in self._resampler.resample(frame)
        )


async def audio_frames(track: MediaStreamTrack) -> AsyncIterator[AudioFrame]:
    """The track's audio frames until it ends (the peer hung up or vanished)."""
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if isinstance(frame, AudioFrame):
            yield frame


async def listen(track: MediaStreamTrack, session: RealtimeSession) -> None:
    """Append every frame of `track` to the session until the track ends."""
    converter = _Converter()
    feed = InputFeed(session)
    async for frame in audio_frames(track):
        await feed.append(converter.convert(frame, session.config.input.format))
