"""The registry builds each kind of engine by name, from a preset or one by one, and warms every one up."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from realtalk.cli import load_engines
from realtalk.config import Settings
from realtalk.engines.base import Samples
from realtalk.engines.embedded.smart_turn import SmartTurn
from realtalk.engines.registry import KINDS, PRESETS, EngineChoice, available, build_engines, warm_up
from realtalk.engines.scripted.turn import PitchTurn
from tests.harness import SessionHarness, no_vad, only


def test_every_preset_names_an_engine_of_each_kind() -> None:
    assert KINDS == ("vad", "stt", "llm", "tts", "turn")
    assert all(sorted(preset) == sorted(KINDS) for preset in PRESETS.values())
    assert (PRESETS["embedded"]["turn"], PRESETS["scripted"]["turn"]) == ("smart-turn-v3", "scripted")


def test_the_end_of_turn_engines_are_smart_turn_and_the_scripted_pitch() -> None:
    assert available("turn") == ["scripted", "smart-turn-v3"]
    assert isinstance(build_engines(EngineChoice()).turn, PitchTurn)
    assert isinstance(build_engines(EngineChoice(turn="smart-turn-v3")).turn, SmartTurn)


def test_an_unknown_end_of_turn_engine_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"^unknown turn engine 'guess'; available: scripted, smart-turn-v3$"):
        build_engines(EngineChoice(turn="guess"))


@dataclasses.dataclass
class RecordingTurn:
    sample_rate: int = 8_000
    heard: list[Samples] = dataclasses.field(default_factory=list)

    async def probability(self, audio: Samples) -> float:
        self.heard.append(audio)
        return 1.0


async def test_warm_up_asks_the_end_of_turn_engine_once_about_half_a_second_of_silence() -> None:
    turn = RecordingTurn()
    await warm_up(dataclasses.replace(build_engines(EngineChoice()), turn=turn))
    assert len(turn.heard) == 1 and np.array_equal(turn.heard[0], np.zeros(4_000, dtype=np.int16))


async def test_warming_up_a_scripted_server_leaves_its_script_whole(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    call = {"name": "get_weather", "arguments": {"city": "Paris"}}
    script.write_text(json.dumps([{"tool_calls": [call]}, {"text": "It is sunny in Paris."}]))
    # as `realtalk serve --script` does it, before its event loop starts
    engines = await asyncio.to_thread(load_engines, Settings(engines="scripted", script=script))
    weather = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    harness = SessionHarness(no_vad(modality="text", tools=[weather]), engines)
    await harness.start()
    await harness.say("What's the weather in Paris?")
    first = only(await harness.response(), "response.done")["response"]
    assert [(o["type"], o.get("name")) for o in first["output"]] == [("function_call", "get_weather")]
    assert json.loads(first["output"][0]["arguments"]) == {"city": "Paris"}
    second = only(await harness.response(), "response.done")["response"]
    assert second["output"][0]["content"][0]["text"] == "It is sunny in Paris."
