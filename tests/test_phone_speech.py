"""A spoken phone call with the real offline models: a question in narrowband μ-law, a spoken answer back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pytest
import websockets

from realtalk.audio.formats import FORMATS, Resampler
from realtalk.config import Settings
from realtalk.engines.registry import Engines
from realtalk.server.app import create_app
from tests.live import LiveServer
from tests.phone_client import Notices, TwilioCaller, ulaw
from tests.test_end_to_end import QUESTION, hear
from tests.wer import word_error_rate

pytestmark = [pytest.mark.models, pytest.mark.live]
KEY = "sk-phone-speech"


@pytest.fixture
def server(embedded: Engines, notices: Notices) -> Iterator[LiveServer]:
    webhook = f"{notices.server.http_url}/calls"
    settings = Settings(engines="scripted", api_key=[KEY], allow_unsigned_phone_streams=True, call_webhook=webhook)
    with LiveServer(create_app(settings, engines=embedded)) as live:
        yield live


async def test_a_spoken_question_on_the_phone_gets_a_spoken_answer(
    server: LiveServer, embedded: Engines, notices: Notices
) -> None:
    speech = np.concatenate([c async for c in embedded.tts.synthesize(QUESTION, voice="marin", speed=1.0)])
    async with TwilioCaller(f"ws://127.0.0.1:{server.port}/telephony/twilio/stream") as phone:
        call_id = (await notices.next())["data"]["call_id"]
        url = f"{server.ws_url}?call_id={call_id}"
        async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {KEY}"}) as app:
            update = {
                "type": "realtime",
                "max_output_tokens": 60,
                "audio": {"input": {"transcription": {"model": "whisper-1"}}},
            }
            await app.send(orjson.dumps({"type": "session.update", "session": update}).decode())
            await phone.say(ulaw(speech))
            talking = asyncio.create_task(phone.silence(20_000))
            events: dict[str, dict[str, Any]] = {}
            while "output_audio_buffer.stopped" not in events:
                event = orjson.loads(await asyncio.wait_for(app.recv(), 90))
                events.setdefault(event["type"], event)
            talking.cancel()
    heard = events["conversation.item.input_audio_transcription.completed"]["transcript"]
    said = events["response.output_audio_transcript.done"]["transcript"]
    assert word_error_rate(QUESTION, heard) <= 0.20, heard
    assert said.strip()
    answer = Resampler(8000, 24_000).process(FORMATS["g711_ulaw"].decode(bytes(phone.played)), last=True)
    spoken = await hear(embedded, answer.astype("<i2").tobytes())
    assert word_error_rate(said, spoken) <= 0.35, (said, spoken)
