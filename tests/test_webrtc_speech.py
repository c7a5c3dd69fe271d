"""A spoken call over WebRTC with the real offline models: Opus both ways, understood and answered aloud."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import numpy as np
import pytest

from realtalk.audio.formats import Resampler
from realtalk.config import Settings
from realtalk.engines.registry import Engines
from realtalk.server.app import create_app
from tests.live import LiveServer
from tests.rtc_client import RATE, RtcClient
from tests.test_end_to_end import QUESTION, hear
from tests.wer import word_error_rate

pytestmark = [pytest.mark.models, pytest.mark.live]


@pytest.fixture
def server(embedded: Engines) -> Iterator[LiveServer]:
    settings = Settings(engines="scripted", webrtc_host_ip=["127.0.0.1"])
    with LiveServer(create_app(settings, engines=embedded)) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        yield client


async def test_a_spoken_question_over_webrtc_gets_an_answer_heard_on_the_track(
    http: httpx.AsyncClient, embedded: Engines
) -> None:
    session = {
        "type": "realtime",
        "max_output_tokens": 60,
        "audio": {"input": {"transcription": {"model": "whisper-1"}}, "output": {"voice": "marin"}},
    }
    secret = (await http.post("/v1/realtime/client_secrets", json={"session": session})).json()["value"]
    speech = np.concatenate([c async for c in embedded.tts.synthesize(QUESTION, voice="marin", speed=1.0)])
    async with RtcClient() as client:
        answer = await http.post(
            "/v1/realtime/calls",
            content=await client.offer(),
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {secret}"},
        )
        assert answer.status_code == 201
        await client.accept(answer.text)
        await client.next_event("session.created")
        client.microphone.say(Resampler(24_000, RATE).process(speech, last=True))
        heard = await client.next_event("conversation.item.input_audio_transcription.completed", within=30)
        said = await client.next_event("response.output_audio_transcript.done", within=60)
        await client.next_event("output_audio_buffer.stopped", within=60)
        played = np.concatenate(client.heard)
    assert word_error_rate(QUESTION, heard["transcript"]) <= 0.20, heard["transcript"]
    assert said["transcript"].strip()
    answer_audio = Resampler(RATE, 24_000).process(played, last=True).astype("<i2").tobytes()
    spoken = await hear(embedded, answer_audio)
    assert word_error_rate(said["transcript"], spoken) <= 0.35, (said["transcript"], spoken)
