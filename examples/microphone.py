"""Hold a live voice conversation with realtalk from the microphone (needs a sound device).

    make serve                                            # in one terminal
    .venv/bin/pip install sounddevice                     # once: PortAudio bindings
    .venv/bin/python examples/microphone.py

Server-side turn detection decides when you have finished; speaking over the reply interrupts it
(barge-in): playback stops and the server truncates the reply to what you heard.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import queue
import sys

import numpy as np
from openai import AsyncOpenAI

BASE = os.environ.get("REALTALK_ADDRESS", "127.0.0.1:8000")  # host:port of the server
RATE = 24_000
CHUNK = RATE // 20  # 50 ms


class Speaker:
    """Plays reply audio as it arrives and knows how much of each reply was actually heard."""

    def __init__(self, sounddevice: object) -> None:
        self.pending: queue.Queue[bytes] = queue.Queue()
        self.buffer = b""
        self.played_samples = 0
        self.stream = sounddevice.OutputStream(
            samplerate=RATE,
            channels=1,
            dtype="int16",  # type: ignore[attr-defined]
            callback=self._fill,
        )
        self.stream.start()

    def _fill(self, out: np.ndarray, frames: int, *_: object) -> None:
        while len(self.buffer) < frames * 2 and not self.pending.empty():
            self.buffer += self.pending.get_nowait()
        chunk, self.buffer = self.buffer[: frames * 2], self.buffer[frames * 2 :]
        self.played_samples += len(chunk) // 2
        out[:] = np.frombuffer(chunk.ljust(frames * 2, b"\0"), dtype="<i2").reshape(-1, 1)

    def stop(self) -> int:
        """Drop what is not yet played; return the milliseconds that were."""
        while not self.pending.empty():
            self.pending.get_nowait()
        self.buffer = b""
        played, self.played_samples = self.played_samples, 0
        return played * 1000 // RATE


async def main() -> None:
    try:
        import sounddevice
    except (ImportError, OSError):
        raise SystemExit("this example needs a sound device and `pip install sounddevice`") from None
    client = AsyncOpenAI(api_key="local", base_url=f"http://{BASE}/v1", websocket_base_url=f"ws://{BASE}/v1")
    speaker = Speaker(sounddevice)
    microphone: asyncio.Queue[bytes] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    recorder = sounddevice.InputStream(
        samplerate=RATE,
        channels=1,
        dtype="int16",
        blocksize=CHUNK,
        callback=lambda data, *_: loop.call_soon_threadsafe(microphone.put_nowait, bytes(data)),
    )
    async with client.beta.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(
            session={"turn_detection": {"type": "server_vad"}, "input_audio_transcription": {"model": "whisper-1"}}
        )

        async def send_microphone() -> None:
            while True:
                await conn.input_audio_buffer.append(audio=base64.b64encode(await microphone.get()).decode())

        sender = asyncio.create_task(send_microphone())
        reply_item = None
        with recorder:
            print("listening… (Ctrl+C to stop)")
            async for event in conn:
                if event.type == "input_audio_buffer.speech_started" and reply_item is not None:
                    await conn.conversation.item.truncate(
                        item_id=reply_item, content_index=0, audio_end_ms=speaker.stop()
                    )
                    reply_item = None
                elif event.type == "conversation.item.input_audio_transcription.completed":
                    print(f"\nyou: {event.transcript}")
                elif event.type == "response.audio.delta":
                    reply_item = event.item_id
                    speaker.pending.put(base64.b64decode(event.delta))
                elif event.type == "response.audio_transcript.delta":
                    print(event.delta, end="", flush=True)
                elif event.type == "error":
                    print(f"\nerror: {event.error.message}", file=sys.stderr)
        sender.cancel()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
