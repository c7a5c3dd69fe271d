"""The latency of a WebRTC call, as a browser has it: a spoken question sent as an Opus microphone track in
real time, the events on the `oai-events` data channel, and the answer *heard*: the first audible frame
that arrives on the call's audio track (after Opus, the jitter buffer and the server's real-time pacing).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import defaultdict
from typing import Any

import httpx
import numpy as np
import orjson
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame
from av.audio.resampler import AudioResampler

from realtalk.audio.formats import Resampler
from realtalk.bench import client
from realtalk.engines.base import Samples
from realtalk.transports.webrtc.microphone import audio_frames

RATE = 48_000
FRAME = 960  # 20 ms
AUDIBLE = 300  # a received sample this loud is the answer, not Opus's comfort noise


class Microphone(MediaStreamTrack):
    """Plays what it is told to `say` (48 kHz int16) in real time, and silence otherwise, as a browser's mic."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pending = np.zeros(0, dtype=np.int16)
        self._sent = 0
        self._start: float | None = None
        self.started_at: float | None = None  # perf_counter when the first sample of the last `say` went out

    def say(self, samples: Samples) -> None:
        self._pending = np.concatenate([self._pending, samples.astype(np.int16)])
        self.started_at = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.perf_counter()
        if self._start is None:
            self._start = now
        wait = self._start + self._sent / RATE - now
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = np.zeros(FRAME, dtype=np.int16)
        take = min(FRAME, len(self._pending))
        if take and self.started_at is None:
            self.started_at = time.perf_counter()
        chunk[:take] = self._pending[:take]
        self._pending = self._pending[take:]
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(chunk.tobytes())
        frame.sample_rate = RATE
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, RATE)
        self._sent += FRAME
        return frame


async def one_turn(
    base_url: str, speech: Samples, lead_ms: int, session: dict[str, Any], stages: dict[str, str]
) -> tuple[dict[str, float], float]:
    """Milliseconds from the end of speech (24 kHz `speech`, after `lead_ms` of silence) to each of `stages`
    (stage → event type; `first_audio` is the first audible frame received), and when speech ended."""
    pc = RTCPeerConnection()
    microphone = Microphone()
    pc.addTrack(microphone)
    channel = pc.createDataChannel("oai-events")
    first: dict[str, float] = {}
    arrived: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
    heard: list[float] = []
    listeners: list[asyncio.Task[None]] = []

    def on_message(message: str | bytes) -> None:
        kind = str(orjson.loads(message).get("type", ""))
        first.setdefault(kind, time.perf_counter())
        arrived[kind].set()

    async def listen(track: MediaStreamTrack) -> None:
        mono = AudioResampler(format="s16", layout="mono", rate=RATE)
        async for frame in audio_frames(track):
            if any(np.abs(out.to_ndarray()).max() > AUDIBLE for out in mono.resample(frame)):
                heard.append(time.perf_counter())
                return

    channel.on("message", on_message)
    pc.on("track", lambda track: listeners.append(asyncio.ensure_future(listen(track))))
    try:
        await pc.setLocalDescription(await pc.createOffer())
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            answer = await http.post(
                "/v1/realtime/calls", content=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}
            )
            answer.raise_for_status()
            await pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
            await asyncio.wait_for(arrived["session.created"].wait(), 30)
            channel.send(orjson.dumps({"type": "session.update", "session": {"type": "realtime", **session}}).decode())
            await asyncio.wait_for(arrived["session.updated"].wait(), 30)
            audio = np.concatenate([client.silence(lead_ms), speech])
            microphone.say(Resampler(client.RATE, RATE).process(audio, last=True))
            await asyncio.wait_for(arrived["output_audio_buffer.stopped"].wait(), 60)
            call = answer.headers["location"]
            await http.post(f"{call}/hangup")
    finally:
        await pc.close()
        for task in listeners:
            task.cancel()
    assert microphone.started_at is not None
    end_of_speech = microphone.started_at + (lead_ms + len(speech) * 1000 / client.RATE) / 1000
    arrivals = {stage: first.get(event) for stage, event in stages.items()}
    arrivals["first_audio"] = heard[0] if heard else None
    return {
        s: (t - end_of_speech) * 1000 if t is not None else float("nan") for s, t in arrivals.items()
    }, end_of_speech
