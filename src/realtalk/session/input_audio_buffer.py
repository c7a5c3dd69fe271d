"""Audio the client has appended but not yet committed, in the session's input format.

The buffer knows where it starts on the session's audio clock (milliseconds of audio received), so
turn detection can cut a turn out of it by time: from the onset less the prefix padding to the stop.
"""

from __future__ import annotations

from realtalk.audio.formats import AudioFormat, Resampler
from realtalk.protocol.errors import PARAM, ProtocolError

MIN_COMMIT_MS = 100


class InputAudioBuffer:
    def __init__(self, fmt: AudioFormat, max_seconds: float) -> None:
        self.format = fmt
        self._data = bytearray()
        self._max_seconds = max_seconds
        self.start_ms = 0.0  # audio-clock time of the first buffered sample
        self.received_ms = 0.0  # the session's audio clock: everything ever appended

    def has_room(self, nbytes: int) -> bool:
        return len(self._data) + nbytes <= self.format.bytes_for_ms(self._max_seconds * 1000)

    def append(self, audio: bytes) -> None:
        """Take a chunk of whole samples: half a pcm16 sample would shift every sample after it."""
        if len(audio) % self.format.bytes_per_sample:
            raise ProtocolError(
                f"Invalid value for {PARAM}: pcm16 audio is whole 16-bit samples, 2 bytes each, "
                f"but this chunk is {len(audio)} bytes.",
                code="invalid_value",
                path=("audio",),
            )
        if not self.has_room(len(audio)):
            raise ProtocolError(
                f"The input audio buffer holds at most {self._max_seconds:g} s of audio; commit or clear it.",
                code="input_audio_buffer_full",
                path=("audio",),
            )
        self._data += audio
        self.received_ms += self.format.duration_ms(len(audio))

    @property
    def size(self) -> int:
        """Bytes buffered, in the input format."""
        return len(self._data)

    @property
    def duration_ms(self) -> float:
        return self.format.duration_ms(len(self._data))

    def take(self, until_ms: float | None = None, minimum_ms: float = MIN_COMMIT_MS) -> bytes:
        """The buffered audio up to `until_ms` (default: all), leaving the rest; refuses less than 100 ms."""
        end = len(self._data) if until_ms is None else self._offset(until_ms)
        end -= end % self.format.bytes_per_sample
        duration = self.format.duration_ms(end)
        if duration < minimum_ms:
            raise ProtocolError(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {duration:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        data = bytes(self._data[:end])
        del self._data[:end]
        self.start_ms += duration
        return data

    def peek(self, from_ms: float) -> bytes:
        """The audio from `from_ms` to now, leaving the buffer as it is."""
        return bytes(self._data[self._offset(from_ms) :])

    def drop_before(self, ms: float) -> None:
        """Forget audio older than `ms` (what precedes a turn's prefix padding is never committed)."""
        cut = self._offset(ms)
        cut -= cut % self.format.bytes_per_sample
        del self._data[:cut]
        self.start_ms += self.format.duration_ms(cut)

    def clear(self) -> None:
        self.start_ms = self.received_ms
        self._data.clear()

    def set_format(self, fmt: AudioFormat) -> None:
        """Audio that follows is in `fmt`; what is buffered is converted, so none of it is lost."""
        if fmt == self.format:
            return
        samples = self.format.decode(bytes(self._data))
        self._data = bytearray(fmt.encode(Resampler(self.format.sample_rate, fmt.sample_rate).process(samples, True)))
        self.format = fmt

    def _offset(self, ms: float) -> int:
        return max(0, min(len(self._data), self.format.bytes_for_ms(ms - self.start_ms)))
