"""What the packaged SmolLM2 is shown and how it samples: pieces that need no model loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtalk.engines.base import ChatMessage, ToolCall
from realtalk.engines.embedded import smollm
from realtalk.engines.embedded.packages import ModelMissingError
from realtalk.engines.embedded.smollm import (
    GGUF,
    PRIMING,
    TOOL_RESULT_PRIMING,
    _ends,
    _is_packaged,
    _message,
    sampling_temperature,
)


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


def test_the_packaged_model_is_the_default_and_its_own_file_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(smollm, "package_dir", lambda module: tmp_path)
    assert [_is_packaged(None), _is_packaged(tmp_path / GGUF), _is_packaged(tmp_path / "own.gguf")] == [
        True,
        True,
        False,
    ]


def test_a_gguf_of_the_users_own_needs_no_packaged_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def missing(module: str) -> Path:
        raise ModelMissingError(f"the package providing '{module}' is not installed")

    monkeypatch.setattr(smollm, "package_dir", missing)
    assert _is_packaged(tmp_path / "own.gguf") is False


def test_the_token_count_probe_keeps_the_users_last_message_that_routes_a_tool_result() -> None:
    call = ToolCall("call_1", "get_time", '{"city": "Tokyo"}')
    conversation = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Hello."),
        ChatMessage("assistant", "Hi."),
        ChatMessage("user", "What time is it in Tokyo?"),
        ChatMessage("assistant", "", (call,)),
        ChatMessage("tool", '{"time": "14:05"}', tool_call_id="call_1"),
    ]
    assert _ends(conversation) == [0, 3, 5]


def test_the_token_count_probe_keeps_the_users_last_message_before_a_trailing_system_message() -> None:
    conversation = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Hello."),
        ChatMessage("assistant", "Hi."),
        ChatMessage("user", "Turn on the lights."),
        ChatMessage("system", "The user is in the kitchen."),
    ]
    assert _ends(conversation) == [0, 3, 4]


def test_the_token_count_probe_keeps_the_end_from_the_last_message_not_the_assistants() -> None:
    conversation = [
        ChatMessage("user", "Hello."),
        ChatMessage("assistant", "Hi."),
        ChatMessage("user", "Tell me a story."),
        ChatMessage("assistant", "Once"),
        ChatMessage("assistant", "upon a time"),
    ]
    assert _ends(conversation) == [0, 2, 3, 4]
