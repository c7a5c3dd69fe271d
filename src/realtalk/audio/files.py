"""Audio files in and out (wav, mp3, flac, ogg/opus, webm, …) through PyAV's bundled FFmpeg.

Decoding turns any container a client uploads into int16 mono at the rate an engine wants. Encoding is
streaming: samples go in as the TTS produces them and encoded bytes come out as soon as the codec has
them, so `/v1/audio/speech` starts sending before the whole answer is spoken.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from realtalk.audio.formats import Resampler
from realtalk.audio.g711 import Int16Array


class AudioFileError(ValueError):
    """The upload is not audio FFmpeg can read."""


def decode(data: bytes, rate: int) -> Int16Array:
    """Any supported audio file → int16 mono at `rate`."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = next((s for s in container.streams.audio), None)
            if stream is None:
                raise AudioFileError("the file has no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            chunks = [
                out.to_ndarray().reshape(-1) for frame in container.decode(stream) for out in resampler.resample(frame)
            ]
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    except av.error.FFmpegError as exc:
        raise AudioFileError(f"could not decode the audio: {exc}") from None
    return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, dtype=np.int16)


@dataclass(frozen=True)
class OutputFormat:
    name: str
    media_type: str
    container: str | None  # None: written by hand (raw pcm, streamed wav)
    codec: str | None
    rate: int


OUTPUT_FORMATS = {
    "pcm": OutputFormat("pcm", "audio/pcm", None, None, 24_000),
    "wav": OutputFormat("wav", "audio/wav", None, None, 24_000),
    "mp3": OutputFormat("mp3", "audio/mpeg", "mp3", "libmp3lame", 24_000),
    "opus": OutputFormat("opus", "audio/ogg", "ogg", "libopus", 48_000),
    "flac": OutputFormat("flac", "audio/flac", "flac", "flac", 24_000),
    "aac": OutputFormat("aac", "audio/aac", "adts", "aac", 24_000),
}


class _Sink(io.RawIOBase):
    """A write-only file that hands over what was written since the last `take`."""

    def __init__(self) -> None:
        self._data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._data += bytes(data)
        return len(data)

    def take(self) -> bytes:
        out, self._data = bytes(self._data), bytearray()
        return out


class StreamingEncoder:
    """int16 mono at `source_rate` in, encoded bytes of `fmt` out, chunk by chunk."""

    def __init__(self, fmt: OutputFormat, source_rate: int) -> None:
        self.format = fmt
        self._resampler = Resampler(source_rate, fmt.rate)
        self._header_sent = False
        self._container: Any = None
        if fmt.container is not None:
            self._sink = _Sink()
            self._container = av.open(self._sink, mode="w", format=fmt.container)
            self._stream = self._container.add_stream(fmt.codec, rate=fmt.rate, layout="mono")
            self._pts = 0

    def encode(self, samples: Int16Array, last: bool = False) -> bytes:
        audio = self._resampler.process(samples, last=last)
        if self._container is None:
            return self._raw(audio)
        out = bytearray()
        if len(audio):
            frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = self.format.rate
            frame.pts = self._pts
            self._pts += len(audio)
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        if last:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        out += self._sink.take()
        return bytes(out)

    def _raw(self, audio: Int16Array) -> bytes:
        data = audio.astype("<i2").tobytes()
        if self.format.name == "wav" and not self._header_sent:
            self._header_sent = True
            return wav_header(self.format.rate, streaming=True) + data
        return data


def wav_header(rate: int, data_bytes: int | None = None, streaming: bool = False) -> bytes:
    """A 16-bit mono WAV header; a streamed one declares the largest size, as streaming servers do."""
    size = 0xFFFFFFFF - 36 if streaming or data_bytes is None else data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", min(size + 36, 0xFFFFFFFF))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", size)
    )
