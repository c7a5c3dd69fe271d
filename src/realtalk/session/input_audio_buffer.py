"""Audio the client has appended but not yet committed, in the session's input format."""

from __future__ import annotations

from realtalk.audio.formats import AudioFormat
from realtalk.protocol.errors import ProtocolError

MIN_COMMIT_MS = 100


class InputAudioBuffer:
    def __init__(self, fmt: AudioFormat, max_seconds: float) -> None:
        self.format = fmt
        self._data = bytearray()
        self._max_seconds = max_seconds

    def append(self, audio: bytes) -> None:
        limit = self.format.bytes_for_ms(self._max_seconds * 1000)
        if len(self._data) + len(audio) > limit:
            raise ProtocolError(
                f"The input audio buffer holds at most {self._max_seconds:g} s of audio; commit or clear it.",
                code="input_audio_buffer_full",
                param="audio",
            )
        self._data += audio

    @property
    def duration_ms(self) -> float:
        return self.format.duration_ms(len(self._data))

    def take(self) -> bytes:
        """The buffered audio (whole samples only), leaving the buffer empty; refuses less than 100 ms."""
        if self.duration_ms < MIN_COMMIT_MS:
            raise ProtocolError(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {self.duration_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        usable = len(self._data) - len(self._data) % self.format.bytes_per_sample
        data = bytes(self._data[:usable])
        self._data.clear()
        return data

    def clear(self) -> None:
        self._data.clear()

    def set_format(self, fmt: AudioFormat) -> None:
        """A format change applies to audio appended afterwards; what is buffered cannot be reinterpreted."""
        if fmt != self.format:
            self._data.clear()
            self.format = fmt
