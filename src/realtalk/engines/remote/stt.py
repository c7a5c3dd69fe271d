"""Speech to text behind `/v1/audio/transcriptions`: the turn is uploaded as a 16 kHz WAV."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from realtalk.audio.files import wav_header
from realtalk.engines.base import Samples, TranscriptDelta, TranscriptEvent, TranscriptFinal
from realtalk.engines.remote.http import RemoteClient, RemoteEndpoint, RemoteEngineError

SAMPLE_RATE = 16_000


class RemoteSTT:
    sample_rate = SAMPLE_RATE

    def __init__(self, endpoint: RemoteEndpoint) -> None:
        self.client = RemoteClient(endpoint, "STT")

    async def transcribe(
        self, audio: Samples, *, language: str | None, prompt: str | None
    ) -> AsyncIterator[TranscriptEvent]:
        pcm = audio.astype("<i2").tobytes()
        wav = wav_header(SAMPLE_RATE, len(pcm)) + pcm
        form = {"model": self.client.endpoint.model, "response_format": "json"}
        if language:
            form["language"] = language
        if prompt:
            form["prompt"] = prompt
        async with self.client.stream(
            "audio/transcriptions", data=form, files={"file": ("turn.wav", wav, "audio/wav")}
        ) as response:
            body = await response.aread()
        try:
            text = str(json.loads(body)["text"]).strip()
        except (ValueError, KeyError, TypeError):
            raise RemoteEngineError(f"STT backend sent an unexpected answer: {body[:120]!r}") from None
        yield TranscriptDelta(text)
        yield TranscriptFinal(text)
