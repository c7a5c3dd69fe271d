"""Speech to text behind `/v1/audio/transcriptions`: the turn is uploaded as a 16 kHz WAV.

The `json` response format is asked for, the one every OpenAI model and compatible server gives (OpenAI's
`gpt-4o-transcribe` has no `verbose_json`). The language heard is read where the answer carries one anyway:
a `language`, by code (as speaches and faster-whisper servers write it) or by name (as OpenAI's
`verbose_json` does), or `languages[0].code` (OpenAI's `gpt-transcribe`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from realtalk.audio.files import wav_header
from realtalk.engines.base import Samples, TranscriptDelta, TranscriptEvent, TranscriptFinal
from realtalk.engines.remote.http import RemoteClient, RemoteEndpoint, RemoteEngineError
from realtalk.text.language_names import language_code

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
            answer = json.loads(body)
            text = str(answer["text"]).strip()
        except (ValueError, KeyError, TypeError):
            raise RemoteEngineError(f"STT backend sent an unexpected answer: {body[:120]!r}") from None
        yield TranscriptDelta(text)
        yield TranscriptFinal(text, language=_language_heard(answer))


def _language_heard(answer: dict[str, Any]) -> str | None:
    """The code of the language the answer reports, or None where it reports none that is known."""
    reported = answer.get("language")
    languages = answer.get("languages")
    if not isinstance(reported, str) and isinstance(languages, list) and languages:
        first = languages[0]
        reported = first.get("code") if isinstance(first, dict) else None
    return language_code(reported) if isinstance(reported, str) else None
