"""Fuzzing over a real socket: thousands of seeded, mixed valid and invalid events, pipelined into one session
of a live server, in each dialect. Every invalid event gets its `error`, no valid one does, nothing is a
server error (conftest's `no_internal_errors`), and afterwards the session still answers a text turn and
commits spoken audio."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from realtalk.config import Settings
from realtalk.server.app import create_app
from tests.harness import event_name, scripted_engines
from tests.live import LiveServer
from tests.wsclient import RealtimeClient

pytestmark = [pytest.mark.live, pytest.mark.dialects("ga", "beta")]
EVENTS_PER_DIALECT = 10_000
SEED = 13
END = "fuzz-end"

Frame = str | bytes
Make = Callable[[random.Random, str, bool], Frame]  # (rng, event_id, ga) → a frame


@pytest.fixture
def server() -> Iterator[LiveServer]:
    settings = Settings(engines="scripted", max_events_per_second=1_000_000, event_burst=1_000_000)  # no rate cap here
    with LiveServer(create_app(settings, engines=scripted_engines())) as live:
        yield live


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def session_update(ga: bool, event_id: str, **session: Any) -> str:
    body = {"type": "realtime", **session} if ga else session
    return json.dumps({"type": "session.update", "session": body, "event_id": event_id})


def deep_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"child": schema}}
    return schema


def message(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


# Events that succeed in any state a fuzzed session reaches (no response ever runs during the fuzz).
VALID: list[Make] = [
    lambda rng, eid, ga: session_update(ga, eid, instructions=f"Be brief {rng.random()}"),
    lambda rng, eid, ga: json.dumps(
        {"type": "input_audio_buffer.append", "audio": b64(bytes(2 * rng.randrange(1, 2_400))), "event_id": eid}
    ),
    lambda rng, eid, ga: json.dumps({"type": "input_audio_buffer.clear", "event_id": eid}),
    lambda rng, eid, ga: json.dumps({"type": "conversation.item.create", "item": message("hi"), "event_id": eid}),
]
# Events refused in any state, each with one `error` that names its event_id.
INVALID: list[Make] = [
    lambda rng, eid, ga: json.dumps({"type": f"no.such.event.{rng.randrange(99)}", "event_id": eid}),
    lambda rng, eid, ga: json.dumps({"type": "input_audio_buffer.append", "audio": rng.randrange(99), "event_id": eid}),
    lambda rng, eid, ga: json.dumps(
        {"type": "input_audio_buffer.append", "audio": b64(bytes(2 * rng.randrange(1, 500) + 1)), "event_id": eid}
    ),
    lambda rng, eid, ga: json.dumps({"type": "input_audio_buffer.commit", "surprise": True, "event_id": eid}),
    lambda rng, eid, ga: json.dumps({"type": "conversation.item.retrieve", "item_id": "item_none", "event_id": eid}),
    lambda rng, eid, ga: json.dumps({"type": "conversation.item.delete", "item_id": "item_none", "event_id": eid}),
    lambda rng, eid, ga: json.dumps(
        {"type": "conversation.item.truncate", "item_id": "i", "content_index": 0, "audio_end_ms": -1, "event_id": eid}
    ),
    lambda rng, eid, ga: json.dumps({"type": "conversation.item.create", "item": {"type": "message"}, "event_id": eid}),
    lambda rng, eid, ga: json.dumps({"type": "response.create", "response": {"conversation": "x"}, "event_id": eid}),
    lambda rng, eid, ga: json.dumps({"type": "response.cancel", "event_id": eid}),
    lambda rng, eid, ga: session_update(ga, eid, tools=[{"type": "function", "name": "f", "parameters": deep_schema(
        rng.randrange(20, 120))}]),
    lambda rng, eid, ga: session_update(ga, eid, instructions=rng.randrange(99)),
    lambda rng, eid, ga: session_update(ga, eid, tool_choice={"type": "function", "name": "absent"}),
]  # fmt: skip
# Frames no event_id can be read from: each gets one `error` without one.
UNREADABLE: list[Callable[[random.Random], Frame]] = [
    lambda rng: "{not json" + "x" * rng.randrange(20),
    lambda rng: rng.randbytes(rng.randrange(1, 40)),
    lambda rng: json.dumps([rng.random() for _ in range(rng.randrange(5))]),
    lambda rng: json.dumps({"no_type": rng.random()}),
    lambda rng: "",
]


def fuzzed(rng: random.Random, ga: bool, count: int) -> tuple[list[Frame], set[str], int]:
    """`count` frames, about half valid; also the event_ids of the invalid ones and how many are unreadable."""
    frames: list[Frame] = []
    invalid: set[str] = set()
    unreadable = 0
    for n in range(count):
        roll = rng.random()
        if roll < 0.5:
            frames.append(rng.choice(VALID)(rng, f"ok-{n}", ga))
        elif roll < 0.9:
            frames.append(rng.choice(INVALID)(rng, f"bad-{n}", ga))
            invalid.add(f"bad-{n}")
        else:
            frames.append(rng.choice(UNREADABLE)(rng))
            unreadable += 1
    return frames, invalid, unreadable


async def send_all(client: RealtimeClient, frames: list[Frame]) -> None:
    for frame in frames:
        await client.connection.send(frame)
    await client.send({"type": "conversation.item.retrieve", "item_id": "item_none", "event_id": END})


async def test_thousands_of_fuzzed_events_get_one_error_each_and_the_session_works_after(
    server: LiveServer, session_dialect: str
) -> None:
    ga = session_dialect == "ga"
    frames, invalid, unreadable = fuzzed(random.Random(f"{SEED}-{session_dialect}"), ga, EVENTS_PER_DIALECT)
    client = await RealtimeClient.open(server.ws_url + "?model=gpt-realtime", ga=ga)
    await client.until("conversation.created")
    sender = asyncio.create_task(send_all(client, frames))
    errors: list[dict[str, Any]] = []
    while not errors or errors[-1]["event_id"] != END:
        event = await client.receive()
        if event["type"] == "error":
            errors.append(event["error"])
    await sender
    assert all(error["type"] == "invalid_request_error" for error in errors)
    named = [error["event_id"] for error in errors[:-1] if error["event_id"] is not None]
    assert sorted(named) == sorted(invalid)  # one error for each invalid event, none for a valid one
    assert len(errors) - 1 - len(named) == unreadable
    await still_answers(client, ga)
    await client.close()


async def still_answers(client: RealtimeClient, ga: bool) -> None:
    """A text turn completes with an answer, and appended audio commits into a user item."""
    dialect = "ga" if ga else "beta"
    await client.send({"type": "conversation.item.create", "item": message("Still there?")})
    text_only = {"output_modalities": ["text"]} if ga else {"modalities": ["text"]}
    await client.send({"type": "response.create", "response": text_only})
    events = await client.until("response.done")
    done = events[-1]["response"]
    assert done["status"] == "completed" and done["output"][0]["role"] == "assistant"
    assert next(e for e in events if e["type"] == event_name(dialect, "response.output_text.done"))["text"]
    await client.send({"type": "input_audio_buffer.append", "audio": b64(bytes(2 * 24 * 200))})
    await client.send({"type": "input_audio_buffer.commit"})
    committed = await client.until("input_audio_buffer.committed")
    added = await client.until(event_name(dialect, "conversation.item.added"))
    assert added[-1]["item"]["id"] == committed[-1]["item_id"]
    assert added[-1]["item"]["content"][0]["type"] == "input_audio"
