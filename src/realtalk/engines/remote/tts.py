"""Text to speech behind `/v1/audio/speech`, asking for raw pcm and streaming it as it arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from realtalk.engines.base import Samples
from realtalk.engines.remote.http import RemoteClient, RemoteEndpoint

CHUNK_BYTES = 9600  # 200 ms at 24 kHz


class RemoteTTS:
    def __init__(self, endpoint: RemoteEndpoint) -> None:
        self.client = RemoteClient(endpoint, "TTS")
        self.sample_rate = endpoint.sample_rate  # OpenAI's pcm is 24 kHz; other backends say theirs

    async def synthesize(self, text: str, *, voice: str, speed: float) -> AsyncIterator[Samples]:
        endpoint = self.client.endpoint
        body = {
            "model": endpoint.model,
            "input": text,
            "voice": endpoint.voices.get(voice, voice),
            "response_format": "pcm",
            "speed": speed,
        }
        pending = b""
        async with self.client.stream("audio/speech", json=body) as response:
            async for data in response.aiter_bytes(CHUNK_BYTES):
                pending += data
                whole = len(pending) - len(pending) % 2
                if whole:
                    yield np.frombuffer(pending[:whole], dtype="<i2").astype(np.int16)
                    pending = pending[whole:]
