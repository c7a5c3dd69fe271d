"""The scripted engines behave deterministically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from realtalk.engines.base import (
    ChatMessage,
    Completion,
    FunctionSpec,
    LLMRequest,
    TextDelta,
    TokenCount,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStart,
    ToolChoiceSpec,
)
from realtalk.engines.scripted.llm import ScriptedLLM, example_arguments
from realtalk.engines.scripted.tts import ToneTTS
from realtalk.engines.scripted.turn import PitchTurn
from realtalk.engines.scripted.vad import EnergyVAD
from tests.signals import silence, tone


async def collect(llm: ScriptedLLM, request: LLMRequest) -> list[object]:
    return [event async for event in llm.stream(request)]


SAY_HI = LLMRequest([ChatMessage("system", "Be nice."), ChatMessage("user", "hi there")])


async def test_scripted_llm_echoes_without_a_script() -> None:
    events = await collect(ScriptedLLM(), SAY_HI)
    assert events[:-1] == [TextDelta("You"), TextDelta(" said:"), TextDelta(" hi"), TextDelta(" there")]
    assert events[-1] == Completion("stop", 4, 4)


async def test_scripted_llm_plays_a_script_file(tmp_path: Path) -> None:
    script = tmp_path / "turns.json"
    script.write_text(json.dumps([{"text": "First."}, {"tool_calls": [{"name": "f", "arguments": {"x": 1}}]}]))
    llm = ScriptedLLM.from_file(script)
    assert (await collect(llm, SAY_HI))[0] == TextDelta("First.")
    events = await collect(llm, SAY_HI)
    assert events[0] == ToolCallStart(None, "f")  # no id of its own: the caller assigns one
    args = "".join(e.delta for e in events if isinstance(e, ToolCallArgumentsDelta))
    assert json.loads(args) == {"x": 1}
    assert events[-1].finish_reason == "tool_calls"  # type: ignore[attr-defined]


async def test_scripted_llm_honours_a_forced_tool_with_schema_valid_arguments() -> None:
    tool = FunctionSpec(
        "book",
        "",
        {
            "type": "object",
            "required": ["city", "nights", "plan"],
            "properties": {
                "city": {"type": "string"},
                "nights": {"type": "integer"},
                "plan": {"type": "string", "enum": ["basic", "full"]},
            },
        },
    )
    events = await collect(ScriptedLLM(), LLMRequest(SAY_HI.messages, [tool], ToolChoiceSpec("function", "book")))
    args = json.loads("".join(e.delta for e in events if isinstance(e, ToolCallArgumentsDelta)))
    assert args == example_arguments(tool) == {"city": "example", "nights": 1, "plan": "basic"}


def test_example_arguments_take_the_first_non_null_type_and_fill_boolean_schemas() -> None:
    schema = {
        "type": "object",
        "properties": {"when": {"type": ["null", "integer"]}, "anything": True, "nothing": {"type": "null"}},
        "required": ["when", "anything", "nothing"],
    }
    assert example_arguments(FunctionSpec("f", "", schema)) == {"when": 1, "anything": "example", "nothing": None}


async def test_scripted_llm_counts_words_per_message_as_its_usage_does() -> None:
    call = ChatMessage("assistant", "Let me check.", (ToolCall("c1", "lookup", '{"city": "Paris"}'),))
    request = LLMRequest([*SAY_HI.messages, call, ChatMessage("tool", "sunny", tool_call_id="c1")])
    llm = ScriptedLLM(context_window=64)
    counted = await llm.count_tokens(request)
    assert counted == TokenCount((2, 2, 5, 1), 0)
    assert (await collect(llm, request))[-1].input_tokens == counted.total == 10  # type: ignore[attr-defined]
    assert llm.context_window == 64 and ScriptedLLM().context_window == 4096


async def test_tone_tts_lasts_twenty_ms_a_character_and_follows_speed() -> None:
    tts = ToneTTS()
    chunks = [c async for c in tts.synthesize("Hello.", voice="alloy", speed=1.0)]
    assert sum(len(c) for c in chunks) == 6 * 20 * 24
    faster = [c async for c in tts.synthesize("Hello.", voice="alloy", speed=1.5)]
    assert sum(len(c) for c in faster) == int(6 * 20 / 1.5 * 24)


async def test_energy_vad_hears_tones_not_silence() -> None:
    stream = EnergyVAD().open_stream()
    tone = (8000 * np.sin(np.arange(512) / 5)).astype(np.int16)
    assert await stream.process(np.concatenate([tone, np.zeros(512, dtype=np.int16)])) == [1.0, 0.0]


def at_16k(*parts: tuple[int, float]) -> np.ndarray:
    """A turn at 16 kHz: (ms, Hz) tones, Hz 0 for silence, then the pause that prompts the decision."""
    audio = [tone(ms, 16_000, freq) if freq else silence(ms, 16_000) for ms, freq in parts]
    return np.concatenate([*audio, silence(500, 16_000)])


async def test_pitch_turn_hears_a_low_last_tone_as_finished_and_a_high_one_as_not() -> None:
    turn = PitchTurn()
    assert await turn.probability(at_16k((300, 0), (600, 300))) == 1.0
    assert await turn.probability(at_16k((300, 0), (600, 600))) == 0.0
    assert await turn.probability(at_16k((600, 600), (200, 0), (600, 250))) == 1.0
    assert await turn.probability(at_16k((600, 250), (200, 0), (600, 550))) == 0.0


async def test_pitch_turn_counts_a_turn_without_sound_as_finished() -> None:
    assert await PitchTurn().probability(silence(1000, 16_000)) == 1.0
    assert await PitchTurn().probability(silence(0, 16_000)) == 1.0
