"""The benchmark's side of each exchange, over the GA WebSocket: every item in a session of its own, so no
answer depends on the items before it.

Spoken questions go in whole and are committed by hand (no turn detection): the benchmark judges what was
heard and answered, not when the turn ended, and a manual commit takes no VAD's timing into the scores.
Tool requests are typed (`input_text`): tool use is judged apart from speech recognition, which the
spoken questions measure."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from websockets.asyncio.client import connect

from realtalk.bench import client
from realtalk.engines.base import Samples

TRANSCRIBED = "conversation.item.input_audio_transcription.completed"
NOT_TRANSCRIBED = "conversation.item.input_audio_transcription.failed"
DONE = "response.done"
TIMEOUT_SECONDS = 120.0  # one item on a busy machine; a stuck server fails the item, not the run


class ExchangeError(Exception):
    """The server answered an item with an `error` event, or never finished it."""


@dataclass(frozen=True)
class FunctionCall:
    name: str
    arguments: str  # as the model wrote it: whether it parses is part of the score


@dataclass
class Answer:
    transcript: str = ""  # what the input audio was heard as ("" for typed input, or when it failed)
    text: str = ""  # the answer's transcript (audio) or text
    calls: list[FunctionCall] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray)  # pcm16, 24 kHz

    def samples(self) -> Samples:
        return np.frombuffer(bytes(self.audio), dtype=np.int16)


async def exchange(url: str, session: dict[str, Any], sends: Sequence[str], until: Collection[str]) -> Answer:
    """Open a session with `session`, send `sends` (JSON events) after it, and read until every event type
    of `until` came (a failed transcription counts as a transcription, heard as nothing). The first
    `error`, the session's own included, fails the exchange."""
    answer, waiting = Answer(), set(until)
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), connect(url, max_size=None, compression=None) as connection:
            for event in [_event("session.update", session={"type": "realtime", **session}), *sends]:
                await connection.send(event)
            async for message in connection:
                event = json.loads(message)
                kind = _read(event, answer)
                waiting.discard(TRANSCRIBED if kind == NOT_TRANSCRIBED else kind)
                if not waiting:
                    return answer
    except TimeoutError:
        raise ExchangeError(f"no {', '.join(sorted(waiting))} within {TIMEOUT_SECONDS:.0f} s") from None
    raise ExchangeError("the server closed the session")


def _read(event: dict[str, Any], answer: Answer) -> str:
    """Keep what the event tells about the answer; its type."""
    kind = str(event["type"])
    if kind == "error":
        raise ExchangeError(event["error"].get("message", "error"))
    if kind == "response.output_audio.delta":
        answer.audio += base64.b64decode(event["delta"])
    elif kind == TRANSCRIBED:
        answer.transcript = event["transcript"]
    elif kind == DONE:
        for item in event["response"]["output"]:
            if item["type"] == "function_call":
                answer.calls.append(FunctionCall(item["name"], item["arguments"]))
            for part in item.get("content", []) if item["type"] == "message" else []:
                answer.text += part.get("transcript") or part.get("text") or ""
    return kind


def audio_session(input_format: dict[str, Any], max_output_tokens: int) -> dict[str, Any]:
    return {
        "audio": {
            "input": {"format": input_format, "turn_detection": None, "transcription": {"model": "whisper-1"}},
            "output": {"format": {"type": "audio/pcm", "rate": client.RATE}},
        },
        "max_output_tokens": max_output_tokens,
    }


def tool_session(tools: Sequence[dict[str, Any]], modality: str, max_output_tokens: int) -> dict[str, Any]:
    return {
        "output_modalities": [modality],
        "tools": [{"type": "function", **tool} for tool in tools],
        "tool_choice": "auto",
        "max_output_tokens": max_output_tokens,
    }


def spoken(events: list[str], respond: bool) -> tuple[list[str], set[str]]:
    """The events that commit a spoken question (already encoded appends), and what to wait for: its
    transcript, and the answer when `respond`."""
    commit = [*events, _event("input_audio_buffer.commit")]
    if respond:
        return [*commit, _event("response.create")], {TRANSCRIBED, DONE}
    return commit, {TRANSCRIBED}


def typed(request: str) -> list[str]:
    return [_event("conversation.item.create", item=_user(request)), _event("response.create")]


def with_result(request: str, name: str, arguments: dict[str, Any], output: dict[str, Any]) -> list[str]:
    """A request, the call the model would have made, the tool's result, and a request for the answer."""
    call = {"type": "function_call", "call_id": "call_bench", "name": name, "arguments": json.dumps(arguments)}
    result = {"type": "function_call_output", "call_id": "call_bench", "output": json.dumps(output)}
    return [
        _event("conversation.item.create", item=_user(request)),
        _event("conversation.item.create", item=call),
        _event("conversation.item.create", item=result),
        _event("response.create"),
    ]


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})
