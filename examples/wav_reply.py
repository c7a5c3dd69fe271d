"""Send a WAV file to realtalk and save the spoken reply as a WAV file.

    make serve                                            # in one terminal
    .venv/bin/python examples/wav_reply.py question.wav reply.wav

Any WAV works (mono or stereo, 16-bit, any rate): it is converted to the protocol's 24 kHz pcm16, sent in
100 ms chunks, committed, and answered. The reply's transcript is printed as it streams.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import wave

import numpy as np
import soxr
from openai import AsyncOpenAI

BASE = os.environ.get("REALTALK_ADDRESS", "127.0.0.1:8000")  # host:port of the server
RATE = 24_000


def read_wav(path: str) -> bytes:
    with wave.open(path) as reader:
        if reader.getsampwidth() != 2:
            raise SystemExit(f"{path}: only 16-bit WAV files are supported")
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
        samples = samples.reshape(-1, reader.getnchannels()).mean(axis=1)
        resampled = soxr.resample(samples.astype(np.float32), reader.getframerate(), RATE)
    return np.clip(resampled, -32768, 32767).astype("<i2").tobytes()


def write_wav(path: str, pcm: bytes) -> None:
    with wave.open(path, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(pcm)


async def main(question: str, answer: str) -> None:
    client = AsyncOpenAI(api_key="local", base_url=f"http://{BASE}/v1", websocket_base_url=f"ws://{BASE}/v1")
    audio = read_wav(question)
    async with client.beta.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(session={"turn_detection": None, "input_audio_transcription": {"model": "whisper-1"}})
        for start in range(0, len(audio), RATE // 10 * 2):
            await conn.input_audio_buffer.append(audio=base64.b64encode(audio[start : start + RATE // 10 * 2]).decode())
        await conn.input_audio_buffer.commit()
        await conn.response.create()
        reply = bytearray()
        async for event in conn:
            if event.type == "conversation.item.input_audio_transcription.completed":
                print(f"you said: {event.transcript}")
            elif event.type == "response.audio_transcript.delta":
                print(event.delta, end="", flush=True)
            elif event.type == "response.audio.delta":
                reply += base64.b64decode(event.delta)
            elif event.type == "error":
                print(f"\nerror: {event.error.message}", file=sys.stderr)
            elif event.type == "response.done":
                print()
                break
    write_wav(answer, bytes(reply))
    print(f"saved {len(reply) / 2 / RATE:.1f} s of audio to {answer}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: wav_reply.py QUESTION.wav REPLY.wav")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
