"""A WebRTC client as a browser app is one, made with aiortc: a microphone, the `oai-events` channel, a speaker.

The microphone plays what a test tells it to `say` (48 kHz int16), in real time, and silence otherwise;
the speaker records every received sample with its arrival time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import numpy as np
import orjson
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from av.audio.resampler import AudioResampler

from realtalk.bench.webrtc import RATE, Microphone
from realtalk.transports.webrtc.microphone import audio_frames

__all__ = ["RATE", "Microphone", "RtcClient", "tone"]


def tone(ms: int, freq: float = 440.0, level: float = 0.3) -> np.ndarray[Any, Any]:
    t = np.arange(RATE * ms // 1000) / RATE
    return (level * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


class RtcClient:
    """One call from the client's side; use `async with` so the peer connection always closes."""

    def __init__(self, *, data_channel: bool = True, microphone: bool = True) -> None:
        self.pc = RTCPeerConnection()
        self.microphone = Microphone()
        if microphone:
            self.pc.addTrack(self.microphone)
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
        self.channel = self.pc.createDataChannel("oai-events") if data_channel else None
        self.events: list[dict[str, Any]] = []
        self.loud: list[float] = []  # arrival times of received frames with audible sound
        self.heard: list[np.ndarray[Any, Any]] = []  # every received sample, 48 kHz mono
        self._arrived = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        if self.channel is not None:
            self.channel.on("message", self._on_message)
        self.pc.on("track", self._on_track)

    async def __aenter__(self) -> RtcClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    def send(self, event: dict[str, Any]) -> None:
        assert self.channel is not None
        self.channel.send(orjson.dumps(event).decode())

    async def next_event(self, event_type: str, within: float = 10.0, after: int = 0) -> dict[str, Any]:
        """The first event of `event_type` at index ≥ `after`, waiting for it if need be."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.events[after:] if e["type"] == event_type), None)

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: found() is not None), within)
        event = found()
        assert event is not None
        return event

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def _on_message(self, message: str | bytes) -> None:
        self.events.append(orjson.loads(message))
        self._tasks.append(asyncio.ensure_future(self._notify()))

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._listen(track)))

    async def _listen(self, track: MediaStreamTrack) -> None:
        mono = AudioResampler(format="s16", layout="mono", rate=RATE)
        async for frame in audio_frames(track):
            samples = np.concatenate([out.to_ndarray().reshape(-1) for out in mono.resample(frame)])
            self.heard.append(samples)
            if np.abs(samples).max() > 300:
                self.loud.append(time.monotonic())

    def unplug(self) -> None:
        """Vanish as a crashed tab or a dropped network does: close the sockets without a word."""
        for transceiver in self.pc.getTransceivers():
            connection = transceiver.sender.transport.transport._connection
            for protocol in list(connection._protocols):
                protocol.transport.close()

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
