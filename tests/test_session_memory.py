"""A closed session leaves nothing behind: it is freed the moment it is let go, by reference counting alone.

Anything of a session that only Python's cyclic garbage collector can free waits for a full collection,
which under sustained load comes hundreds of megabytes later; so these tests run with that collector off.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import orjson

from realtalk.engines.base import Samples
from realtalk.engines.scripted.tts import ToneTTS
from realtalk.protocol.config import SessionConfig
from realtalk.protocol.events import ServerEvent
from realtalk.protocol.ga import GADialect
from realtalk.session.session import RealtimeSession
from realtalk.session.speculation import SpeculationStats
from realtalk.transports.frames import deliver
from tests.harness import config, scripted_engines
from tests.signals import chunks, encode, silence, tone

TURN = np.concatenate([silence(300), tone(800), silence(900)])  # ends at its pause: the speculation is used


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def settled() -> None:
    """Let the event loop run the callbacks that finished tasks left it (they hold those tasks until then)."""
    for _ in range(3):
        await asyncio.sleep(0)


class Client:
    """A session driven as a WebSocket client would, with no transport: GA frames in, events out."""

    def __init__(self, session_config: SessionConfig) -> None:
        dialect = self.dialect = GADialect()
        events = self.events = asyncio.Queue[dict[str, Any]]()

        async def emit(event: ServerEvent) -> None:  # holds the queue, not the client: no cycle of the test's own
            for data in dialect.encode(event):
                events.put_nowait(data)

        self.session = RealtimeSession(
            config=session_config,
            engines=scripted_engines(tts=UnhurriedTTS()),
            clock=_Clock(),
            emit=emit,
            speculation=SpeculationStats(),
        )

    async def send(self, event: dict[str, Any]) -> None:
        await deliver(self.session, self.dialect, orjson.dumps(event).decode(), 1 << 24)

    async def until(self, event_type: str) -> dict[str, Any]:
        while (event := await asyncio.wait_for(self.events.get(), 10))["type"] != event_type:
            pass
        return event

    async def say(self, text: str) -> None:
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        await self.send({"type": "conversation.item.create", "item": item})
        await self.send({"type": "response.create"})

    async def speak(self) -> None:
        for piece in chunks(encode(TURN, "pcm16"), "pcm16", 100):
            await self.send({"type": "input_audio_buffer.append", "audio": piece})
            await asyncio.sleep(0.01)


class UnhurriedTTS(ToneTTS):
    """Tones that take 20 ms of wall time a chunk: an answer is still being spoken when the voice cuts in."""

    async def synthesize(self, text: str, *, voice: str, speed: float) -> AsyncIterator[Samples]:
        async for chunk in super().synthesize(text, voice=voice, speed=speed):
            await asyncio.sleep(0.02)
            yield chunk


class _Clock:
    """The system's time, without the virtual clock's registry of sleepers (it would hold the session)."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def talked(client: Client) -> None:
    """A text turn, a spoken turn (transcribed, speculated), and a barge-in on a spoken answer."""
    await client.session.start()
    await client.say("Hello there.")
    await client.until("response.done")
    await client.speak()
    await client.until("response.done")
    await client.say("Tell me everything you know about the sea and the wind.")
    await client.speak()  # the voice cuts the answer off, then is answered itself
    assert (await client.until("response.done"))["response"]["status"] == "cancelled"
    assert (await client.until("response.done"))["response"]["status"] == "completed"


async def test_a_closed_session_is_freed_without_the_cyclic_garbage_collector() -> None:
    audio_in = {"transcription": {"model": "whisper-1"}}
    with without_cyclic_gc():
        client = Client(config(modality="audio", input=audio_in))
        await talked(client)
        await client.session.close()
        session = weakref.ref(client.session)
        del client
        await settled()
        assert session() is None


async def test_a_session_closed_mid_answer_is_freed_without_the_cyclic_garbage_collector() -> None:
    with without_cyclic_gc():
        client = Client(config(modality="audio"))
        await client.session.start()
        await client.say("Tell me everything you know about the sea and the wind.")
        await client.until("response.output_audio.delta")
        await client.session.close()  # the client vanished while the answer streamed
        session = weakref.ref(client.session)
        del client
        await settled()
        assert session() is None
