"""An event the session refuses leaves it exactly as it was: its configuration, its conversation and its
input buffer. Generated sequences of client events, mostly malformed and some valid, in both dialects: after
each refusal the session shows the same state as before it, a known-good event still succeeds, and no
refusal is ever a server error (`internal_error` fails the test through conftest's `no_internal_errors`)."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtalk.session.session import SessionLimits
from tests.harness import SessionHarness, config, no_vad, only, types

pytestmark = pytest.mark.dialects("ga", "beta")
SETTLE_SECONDS = 10.0
LIMITS = SessionLimits(max_conversation_items=3, max_input_buffer_seconds=0.25)  # so that refusals for size come up

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
# Names a client might get wrong, at the top of an event and inside its `session`, `item` or `response`.
FIELDS = [
    "type", "event_id", "session", "audio", "item", "item_id", "previous_item_id", "content_index",
    "audio_end_ms", "response", "response_id", "instructions", "tools", "tool_choice", "voice", "modalities",
    "output_modalities", "role", "content", "call_id", "output", "input", "conversation", "max_output_tokens",
    "temperature", "turn_detection", "input_audio_format", "id", "name", "arguments", "metadata",
]  # fmt: skip


@dataclass(frozen=True)
class Observed:
    """What a client can learn of a session without changing it, and the input buffer's own state."""

    session: dict[str, Any]  # as a no-op `session.update` shows it
    items: list[dict[str, Any]]  # each item as `conversation.item.retrieve` shows it, in order
    buffer: tuple[bytes, float, float]  # the buffered audio, where it starts, the audio clock


def no_op(harness: SessionHarness) -> dict[str, Any]:
    return {"type": "session.update", "session": {"type": "realtime"} if harness.ga else {}}


async def observe(harness: SessionHarness) -> Observed:
    updated = await harness.request(no_op(harness))
    assert types(updated) == ["session.updated"]  # the known-good event succeeds
    items = []
    for item in harness.session.conversation.items:
        retrieved = await harness.request({"type": "conversation.item.retrieve", "item_id": item.id})
        items.append(only(retrieved, "conversation.item.retrieved")["item"])
    buffer = harness.session.input.buffer
    return Observed(updated[0]["session"], items, (buffer.peek(buffer.start_ms), buffer.start_ms, buffer.received_ms))


async def settle(harness: SessionHarness) -> None:
    """Let every response and transcription an event started finish, so what follows starts from rest."""
    session = harness.session
    while tasks := session.responder.tasks() + session.input.tasks():
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), SETTLE_SECONDS)


def audio(samples: int) -> str:
    """pcm16 audio: a ramp loud enough that the scripted VAD hears speech in part of it."""
    ramp = np.arange(samples) * 97 % 20_000 - 10_000
    return base64.b64encode(ramp.astype("<i2").tobytes()).decode()


@st.composite
def valid_events(draw: st.DrawFn, harness: SessionHarness) -> dict[str, Any]:
    """An event a client could rightly send now: ids are drawn from the conversation as it stands."""
    ids = [item.id for item in harness.session.conversation.items] or ["item_missing"]
    item_id, previous = draw(st.sampled_from(ids)), draw(st.sampled_from(["root", *ids]))
    text = draw(st.text(min_size=1, max_size=12))
    modality = draw(st.sampled_from([["text"], ["audio"]] if harness.ga else [["text"], ["text", "audio"]]))
    message = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
    session = {"instructions": text, "tools": draw(st.sampled_from([[], [tool]]))}
    events = [
        {"type": "session.update", "session": {"type": "realtime", **session} if harness.ga else session},
        {"type": "conversation.item.create", "item": message},
        {"type": "conversation.item.create", "item": message, "previous_item_id": previous},
        {"type": "conversation.item.retrieve", "item_id": item_id},
        {"type": "conversation.item.delete", "item_id": item_id},
        {"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 10},
        {"type": "input_audio_buffer.append", "audio": audio(draw(st.integers(0, 4_800)))},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.clear"},
        {"type": "response.create", "response": {"output_modalities" if harness.ga else "modalities": modality}},
        {"type": "response.create", "response": {"conversation": "none", "metadata": {"k": text}}},
        {"type": "response.cancel"},
    ]  # fmt: skip
    return dict(draw(st.sampled_from(events)))


@st.composite
def client_events(draw: st.DrawFn, harness: SessionHarness) -> str:
    """A frame as a client's socket delivers it: valid, valid with one field spoiled, or anything at all."""
    event = draw(valid_events(harness))
    kind = draw(st.sampled_from(["valid", "valid", "valid", "spoiled", "spoiled", "arbitrary"]))
    if kind == "spoiled":
        inner = next((key for key in ("session", "item", "response") if isinstance(event.get(key), dict)), None)
        if inner is not None and draw(st.booleans()):
            event[inner] = spoiled(draw, event[inner])
        else:
            event = spoiled(draw, event)
    elif kind == "arbitrary":
        return draw(st.one_of(st.text(max_size=40), json_values.map(json.dumps)))
    return json.dumps(event)


def spoiled(draw: st.DrawFn, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` with one field, one it has or any other, set to any JSON value."""
    key = draw(st.sampled_from(sorted(obj)) if obj and draw(st.booleans()) else st.sampled_from(FIELDS))
    return {**obj, key: draw(json_values)}


async def prepared(data: st.DataObject) -> SessionHarness:
    """A session in a drawn state: turns by hand or by VAD, some of its items, some audio buffered."""
    harness = SessionHarness(data.draw(st.sampled_from([config(), no_vad()])), limits=LIMITS)
    await harness.start()
    for _ in range(data.draw(st.sampled_from([0, 1, LIMITS.max_conversation_items]), label="items")):
        await harness.say("Hello.")
    buffered = data.draw(st.sampled_from([0, 2_400, 6_000]), label="buffered samples")  # 0, 100 and 250 ms
    await harness.request({"type": "input_audio_buffer.append", "audio": audio(buffered)})
    return harness


@settings(
    max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_a_refused_event_leaves_the_session_as_it_was(data: st.DataObject) -> None:
    harness = await prepared(data)
    for _ in range(data.draw(st.integers(5, 40), label="events")):
        before = await observe(harness)
        frame = data.draw(client_events(harness))
        await harness.send(frame)
        answered = harness.drain()
        errors = [event["error"] for event in answered if event["type"] == "error"]
        assert all(error["type"] == "invalid_request_error" for error in errors), (frame, errors)
        if types(answered) == ["error"]:  # refused before it changed or said anything
            assert await observe(harness) == before, frame
        elif errors:  # appended audio ended a turn that the conversation had no room for: the turn happened
            assert types(answered)[-2:] == ["input_audio_buffer.speech_stopped", "error"], (frame, answered)
            assert errors[0]["code"] == "conversation_full"
        await settle(harness)
        harness.drain()
    await harness.close()
    assert harness.session.pending_tasks() == 0
