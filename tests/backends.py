"""Backends for the remote-engine tests: a second realtalk process, and a backend that fails on demand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from realtalk.bench.server import free_port, serve
from tests.live import LiveServer

__all__ = ["FaultyBackend", "HeldChat", "free_port", "realtalk_process"]


@contextmanager
def realtalk_process(*args: str) -> Iterator[str]:
    """`realtalk serve` in its own process on a free loopback port; yields its base URL (…/v1)."""
    with serve(*args) as server:
        yield server.base + "/v1"


def chat_chunk(word: str) -> bytes:
    """One streamed chat completion chunk (server-sent event) carrying `word`."""
    return f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': word}}]})}\n\n".encode()


CHAT_END = b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n'


class HeldChat:
    """A chat backend whose answer to a user asking for something `long` stops after its first word until
    the test releases it (`release`); anything else (a warm-up) is answered at once."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._chat)
        self._released = asyncio.Event()
        self.live: LiveServer | None = None

    def release(self) -> None:
        assert self.live is not None
        self.live.call(self._released.set)

    async def _chat(self, request: Request) -> Response:
        held = "long" in json.dumps((await request.json())["messages"])

        async def events() -> AsyncIterator[bytes]:
            yield chat_chunk("Once")
            if held:
                await self._released.wait()
            yield chat_chunk(" upon a time.")
            yield CHAT_END

        return StreamingResponse(events(), media_type="text/event-stream")

    @contextmanager
    def running(self) -> Iterator[str]:
        with LiveServer(self.app) as self.live:
            try:
                yield f"{self.live.http_url}/v1"
            finally:
                self.release()  # a stream still held would keep the backend from stopping
        self.live = None


class FaultyBackend:
    """OpenAI-compatible routes that misbehave as `mode` says: ok, http500, http400, hang, break. When ok, a
    transcription answers `transcription`."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.transcription: dict[str, Any] = {"text": "Heard fine."}
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._chat)
        self.app.post("/v1/audio/speech")(self._speech)
        self.app.post("/v1/audio/transcriptions")(self._transcriptions)

    async def _misbehave(self) -> Response | None:
        if self.mode == "http500":
            return JSONResponse({"error": {"message": "the GPU caught fire"}}, status_code=500)
        if self.mode == "http400":
            return JSONResponse({"error": {"message": "model 'x' does not exist"}}, status_code=400)
        if self.mode == "hang":
            await asyncio.sleep(2)  # far past the client's read timeout
        return None

    async def _chat(self, request: Request) -> Response:
        if (failure := await self._misbehave()) is not None:
            return failure

        async def events() -> AsyncIterator[bytes]:
            for word in ["Fine", " words", " here."]:
                yield chat_chunk(word)
                if self.mode == "break":
                    raise ConnectionResetError("backend crashed mid-stream")
            yield CHAT_END

        return StreamingResponse(events(), media_type="text/event-stream")

    async def _speech(self, request: Request) -> Response:
        if (failure := await self._misbehave()) is not None:
            return failure

        async def audio() -> AsyncIterator[bytes]:
            yield b"\x10\x00" * 2400
            if self.mode == "break":
                raise ConnectionResetError("backend crashed mid-stream")
            yield b"\x10\x00" * 2400

        return StreamingResponse(audio(), media_type="audio/pcm")

    async def _transcriptions(self, request: Request) -> Response:
        if (failure := await self._misbehave()) is not None:
            return failure
        await request.form()
        return JSONResponse(self.transcription)

    @contextmanager
    def running(self) -> Iterator[str]:
        with LiveServer(self.app) as live:
            yield f"{live.http_url}/v1"
