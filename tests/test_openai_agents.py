"""openai-agents (GA, `RealtimeRunner`) holds a text turn and a tool call with a live realtalk."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from agents import function_tool
from agents.realtime import RealtimeAgent, RealtimeRunner

from realtalk.config import Settings
from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedToolCall, ScriptedTurn
from realtalk.server.app import create_app
from tests.harness import scripted_engines
from tests.live import LiveServer

pytestmark = pytest.mark.live


@pytest.fixture
def server() -> Iterator[LiveServer]:
    llm = ScriptedLLM(
        [
            ScriptedTurn("Hello from realtalk."),
            ScriptedTurn(tool_calls=(ScriptedToolCall("get_weather", {"city": "Paris"}),)),
            ScriptedTurn("It is sunny in Paris."),
        ]
    )
    with LiveServer(
        create_app(Settings(engines="scripted", api_key=["sk-agents"]), engines=scripted_engines(llm=llm))
    ) as live:
        yield live


@function_tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"sunny in {city}"


async def events_until(session: Any, kind: str, limit: int = 200) -> list[Any]:
    seen = []
    async with asyncio.timeout(20):
        async for event in session:
            seen.append(event)
            if event.type == kind or len(seen) >= limit:
                return seen
    return seen


def assistant_texts(events: list[Any]) -> list[str]:
    """What the assistant said, as the SDK's own latest `history_updated` event records it."""
    history = next(e.history for e in reversed(events) if e.type == "history_updated")
    texts = []
    for item in history:
        if getattr(item, "role", None) == "assistant":
            texts += [getattr(part, "transcript", None) or getattr(part, "text", None) or "" for part in item.content]
    return texts


async def test_a_text_turn_and_a_tool_call_through_the_agents_sdk(server: LiveServer) -> None:
    agent = RealtimeAgent(name="Assistant", instructions="Help briefly.", tools=[get_weather])
    session = await RealtimeRunner(agent).run(
        model_config={"url": server.ws_url + "?model=gpt-realtime", "api_key": "sk-agents"}
    )
    async with session:
        await session.send_message("Hello")
        first = await events_until(session, "agent_end")
        assert not [e for e in first if e.type == "error"], [e.error for e in first if e.type == "error"]
        assert "Hello from realtalk." in assistant_texts(first)
        await session.send_message("What's the weather in Paris?")
        second = await events_until(session, "tool_end")
        tool_end = second[-1]
        assert tool_end.type == "tool_end" and tool_end.output == "sunny in Paris"
        heard = second + await events_until(session, "agent_end")
        while "It is sunny in Paris." not in assistant_texts(heard):  # the transcript lands in history last
            heard += await events_until(session, "history_updated")
