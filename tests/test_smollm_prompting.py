"""What the packaged SmolLM2 is shown and how it samples: pieces that need no model loaded."""

from __future__ import annotations

import json

import pytest

from realtalk.engines.base import ChatMessage, ToolCall
from realtalk.engines.embedded.smollm import PRIMING, TOOL_RESULT_PRIMING, _message, sampling_temperature


@pytest.mark.parametrize(("session", "sampled"), [(0.8, 0.0), (0.6, 0.0), (1.0, 0.2), (1.2, 0.4), (2.0, 1.2)])
def test_the_default_temperature_decodes_greedily_and_only_what_is_above_it_samples(
    session: float, sampled: float
) -> None:
    assert sampling_temperature(session) == sampled


def test_the_worked_exchanges_alternate_and_end_on_the_assistants_answer() -> None:
    roles = [m["role"] for m in PRIMING]
    assert roles == ["user", "assistant"] * 5
    assert [m["role"] for m in TOOL_RESULT_PRIMING] == ["user", "assistant", "tool", "assistant"] * 2


def test_the_worked_tool_calls_look_as_the_engine_renders_a_call() -> None:
    shown = TOOL_RESULT_PRIMING[1]
    arguments = json.loads(shown["content"])["arguments"]
    call = ToolCall("call_1", "get_time", json.dumps(arguments))
    assert _message(ChatMessage("assistant", "", (call,))) == shown
