"""The latency of a phone call: a spoken question streamed as Twilio streams it, 20 ms μ-law `media` in real
time, to `/telephony/twilio/stream`; the time from the end of speech to the first answer `media` back.

The stream carries audio only, so of the latency stages only `first_audio` is seen (the others are NaN);
the session is the mode's, given to the server as the phone profile the stream names.
"""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
from websockets.asyncio.client import connect

from realtalk.audio.formats import FORMATS
from realtalk.bench import client
from realtalk.bench.modes import PHONE_PROFILE
from realtalk.bench.speech import Utterance
from realtalk.engines.base import Samples

CHUNK_MS = 20  # Twilio's frame
STREAM_SID = "MZbench"


def media(audio: Samples) -> list[str]:
    """Pre-encoded Twilio `media` messages of `audio` (24 kHz), one per 20 ms."""
    return [
        json.dumps(
            {
                "event": "media",
                "streamSid": STREAM_SID,
                "media": {"track": "inbound", "chunk": str(n + 1), "timestamp": str(n * CHUNK_MS), "payload": payload},
            }
        )
        for n, payload in enumerate(client.payloads(audio, CHUNK_MS, FORMATS["g711_ulaw"]))
    ]


def start() -> str:
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "streamSid": STREAM_SID,
                "callSid": "CAbench",
                "accountSid": "ACbench",
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {"profile": PHONE_PROFILE},
            },
            "streamSid": STREAM_SID,
        }
    )


async def one_turn(base: str, utterance: Utterance, lead_ms: int, tail_ms: int) -> tuple[dict[str, float], float]:
    """Milliseconds from the end of speech to the first answer audio on the line (`first_audio`; absent if
    none came), and when speech ended (perf_counter seconds). The question has the latency benchmark's
    silences around it: `lead_ms` before, at most `tail_ms` after."""
    audio = np.concatenate([client.silence(lead_ms), utterance.speech, client.silence(tail_ms)])
    messages = media(audio)
    url = base.replace("http://", "ws://") + "/telephony/twilio/stream"
    async with connect(url, max_size=None, compression=None) as connection:
        await connection.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await connection.send(start())

        async def first_media() -> float | None:
            """When the first answer audio arrived; None if the stream ended without any."""
            async for message in connection:
                if '"event":"media"' in str(message):
                    return time.perf_counter()
            return None

        listener = asyncio.create_task(first_media())
        timeline = client.Timeline()
        try:
            await client.stream(connection, messages, CHUNK_MS, timeline, until=listener)
            heard = await asyncio.wait_for(listener, 60)
        finally:
            listener.cancel()
    end_of_speech = timeline.started + (lead_ms / 1000 + utterance.seconds)
    seen = {"first_audio": (heard - end_of_speech) * 1000} if heard is not None else {}
    return seen, end_of_speech
