"""Twilio's side of a Media Stream, as Twilio behaves (a stand-in carrier), and a stand-in application (`Notices`).

It connects (signing the upgrade as Twilio does, when given the auth token), sends `connected` and
`start`, streams the caller's voice as real-time 20 ms μ-law `media` (with `track`, `chunk`,
`timestamp`), and plays what comes back in real time: 20 ms of the queued answer per 20 ms of wall
time, each `mark` echoed once the audio before it has played, and on `clear` the queue dropped and the
pending marks echoed at once. What was played (and when) is kept for the test to judge.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import queue
from collections import deque
from typing import Any

import numpy as np
import orjson
import websockets
from fastapi import FastAPI, Request

from realtalk.audio.formats import FORMATS, Resampler
from realtalk.engines.base import Samples
from realtalk.server.carrier_auth import twilio_signature
from tests.live import LiveServer

FRAME_MS = 20
FRAME_BYTES = 160  # 20 ms of μ-law at 8 kHz
ULAW = FORMATS["g711_ulaw"]
STREAM_SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL_SID = "CA1a2b3c4d5e6f708192a3b4c5d6e7f809"


def ulaw(samples: Samples, rate: int = 24_000) -> bytes:
    """Speech or a tone at `rate` as the phone network carries it."""
    return ULAW.encode(Resampler(rate, 8000).process(samples, last=True))


class TwilioCaller:
    def __init__(
        self,
        url: str,
        *,
        parameters: dict[str, str] | None = None,
        auth_token: str | None = None,
        signed_url: str | None = None,
        track: str = "inbound",
    ) -> None:
        self.url = url
        self.parameters = parameters or {}
        self.headers = {}
        if auth_token is not None:
            self.headers["X-Twilio-Signature"] = twilio_signature(auth_token, signed_url or url)
        self.track = track
        self.received: list[dict[str, Any]] = []  # every message from realtalk, in order
        self.arrived: list[float] = []  # when each arrived (loop time)
        self.played = bytearray()  # the answer audio as the caller heard it
        self.echoed: list[str] = []
        self.cleared_at: list[float] = []
        self.closed = asyncio.Event()
        self._queue: deque[tuple[str, Any]] = deque()  # ("audio", bytes) and ("mark", name), in order
        self._sequence = 0
        self._chunk = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._socket: Any = None

    async def __aenter__(self) -> TwilioCaller:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self._socket = await websockets.connect(self.url, additional_headers=self.headers)
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self.send(
            {
                "event": "start",
                "sequenceNumber": self._next(),
                "start": {
                    "accountSid": "AC00000000000000000000000000000000",
                    "streamSid": STREAM_SID,
                    "callSid": CALL_SID,
                    "tracks": [self.track],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": self.parameters,
                },
                "streamSid": STREAM_SID,
            }
        )
        self._tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._play())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._socket is not None:
            await self._socket.close()

    def _next(self) -> str:
        self._sequence += 1
        return str(self._sequence)

    async def send(self, message: dict[str, Any]) -> None:
        await self._socket.send(orjson.dumps(message).decode())

    async def send_raw(self, text: str) -> None:
        await self._socket.send(text)

    # --- the caller speaks ---------------------------------------------------------------------------

    async def say(self, audio: bytes) -> None:
        """Stream μ-law as Twilio does: one 20 ms `media` message per 20 ms of wall time."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n, at in enumerate(range(0, len(audio), FRAME_BYTES)):
            await asyncio.sleep(max(0.0, start + n * FRAME_MS / 1000 - loop.time()))
            self._chunk += 1
            await self.send(
                {
                    "event": "media",
                    "sequenceNumber": self._next(),
                    "media": {
                        "track": "inbound",
                        "chunk": str(self._chunk),
                        "timestamp": str(self._chunk * FRAME_MS),
                        "payload": base64.b64encode(audio[at : at + FRAME_BYTES]).decode(),
                    },
                    "streamSid": STREAM_SID,
                }
            )

    async def silence(self, ms: int) -> None:
        await self.say(bytes([0xFF]) * (8 * ms))  # μ-law silence

    async def press(self, digit: str) -> None:
        await self.send(
            {
                "event": "dtmf",
                "streamSid": STREAM_SID,
                "sequenceNumber": self._next(),
                "dtmf": {"track": "inbound_track", "digit": digit},
            }
        )

    async def hang_up(self) -> None:
        await self.send(
            {
                "event": "stop",
                "sequenceNumber": self._next(),
                "streamSid": STREAM_SID,
                "stop": {"accountSid": "AC00000000000000000000000000000000", "callSid": CALL_SID},
            }
        )

    # --- what realtalk sends -------------------------------------------------------------------------

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("event") == kind]

    async def next(self, kind: str, after: int = 0, within: float = 10.0) -> tuple[int, dict[str, Any]]:
        """The first message of `kind` at index `after` or later, and its index."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            for index in range(after, len(self.received)):
                if self.received[index].get("event") == kind:
                    return index, self.received[index]
            await asyncio.sleep(0.005)
        raise TimeoutError(f"no {kind!r} within {within} s; got {[m.get('event') for m in self.received][-20:]}")

    def loud_ms(self) -> int:
        """How much of what was played was sound (not silence)."""
        samples = ULAW.decode(bytes(self.played)).astype(np.int32)
        frames = samples[: len(samples) // 80 * 80].reshape(-1, 80)  # 10 ms
        return int(np.count_nonzero(np.abs(frames).max(axis=1) > 1000) * 10)

    async def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for text in self._socket:
                message = orjson.loads(text)
                self.received.append(message)
                self.arrived.append(loop.time())
                match message.get("event"):
                    case "media":
                        self._queue.append(("audio", base64.b64decode(message["media"]["payload"])))
                    case "mark":
                        self._queue.append(("mark", message["mark"]["name"]))
                    case "clear":
                        self.cleared_at.append(loop.time())
                        pending = [value for kind, value in self._queue if kind == "mark"]
                        self._queue.clear()
                        for name in pending:
                            await self._echo(name)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def _play(self) -> None:
        """20 ms of the queue per 20 ms of wall time; a mark is echoed when the audio before it has played."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        while True:
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * FRAME_MS / 1000 - loop.time()))
            while self._queue and self._queue[0][0] == "mark":
                await self._echo(self._queue.popleft()[1])
            need = FRAME_BYTES
            while need and self._queue and self._queue[0][0] == "audio":
                audio: bytes = self._queue[0][1]
                self.played.extend(audio[:need])
                if len(audio) > need:
                    self._queue[0] = ("audio", audio[need:])
                    need = 0
                else:
                    self._queue.popleft()
                    need -= len(audio)

    async def _echo(self, name: str) -> None:
        self.echoed.append(name)
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.send(
                {"event": "mark", "sequenceNumber": self._next(), "streamSid": STREAM_SID, "mark": {"name": name}}
            )


class Notices:
    """A stand-in application: receives the call webhook's notices."""

    def __init__(self) -> None:
        self.posted: queue.Queue[dict[str, Any]] = queue.Queue()
        app = FastAPI()

        @app.post("/calls")
        async def incoming(request: Request) -> dict[str, str]:
            self.posted.put(await request.json())
            return {}

        self.server = LiveServer(app)

    async def next(self, within: float = 5.0) -> dict[str, Any]:
        return await asyncio.to_thread(self.posted.get, True, within)
