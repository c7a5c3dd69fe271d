"""`realtalk bench` runs end to end and writes its results (tiny settings: this checks the harness, not speed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from realtalk.bench import capacity, latency, micro, speech

pytestmark = [pytest.mark.models, pytest.mark.live]


@pytest.fixture(scope="module")
def utterances(tmp_path_factory: pytest.TempPathFactory) -> list[speech.Utterance]:
    return speech.synthesize(2, data_dir=tmp_path_factory.mktemp("data"))


def outputs(out: Path, name: str) -> dict[str, Any]:
    for suffix in (".json", ".md", ".png"):
        assert (out / f"{name}{suffix}").stat().st_size > 0
    data: dict[str, Any] = json.loads((out / f"{name}.json").read_text())
    assert data["benchmark"] == name and "cores" in data["machine"]
    return data


def test_questions_are_trimmed_to_their_speech(utterances: list[speech.Utterance]) -> None:
    assert [u.text for u in utterances] == list(speech.QUESTIONS[:2])
    assert all(0.5 < u.seconds < 4 and abs(int(u.speech[0])) > 300 for u in utterances)


def test_micro_benchmarks_write_their_results(tmp_path: Path) -> None:
    micro.run(tmp_path)
    data = outputs(tmp_path, "micro")
    codecs = data["codecs"]
    assert isinstance(codecs, list) and all(row["x_realtime"] > 0 for row in codecs)


@pytest.mark.timeout(900)  # the embedded server loads and warms up every model first
def test_latency_benchmark_measures_every_stage_per_mode(tmp_path: Path, utterances: list[speech.Utterance]) -> None:
    modes = ["scripted-server_vad", "embedded-server_vad"]
    latency.run(modes, utterances, tmp_path)
    runs = outputs(tmp_path, "latency")["modes"]
    assert list(runs) == modes
    markdown = (tmp_path / "latency.md").read_text()
    for mode, measured in runs.items():
        stages = measured["latency_ms"]
        assert set(stages) == set(latency.STAGES)
        assert all(stats["n"] == 2 for stats in stages.values())
        assert stages["speech_stopped"]["p50"] <= stages["first_audio"]["p50"] <= stages["response_done"]["p50"]
        spec = measured["speculation"]
        assert spec["used"] == 2 and spec["used"] + spec["discarded"] <= spec["started"]  # each turn ends at a pause
        assert measured["server_cpu_seconds"] > 0
        assert f"| {mode} | first_audio |" in markdown and f"| {mode} | {spec['started']} | 2 |" in markdown
    assert (tmp_path / "latency_waterfall.png").stat().st_size > 0


def test_capacity_benchmark_measures_lag_cpu_and_memory_for_each_worker_count(
    tmp_path: Path, utterances: list[speech.Utterance]
) -> None:
    capacity.run(utterances, tmp_path, levels=[1, 3], turns=2, workers=[1, 2])
    data = outputs(tmp_path, "capacity")
    assert list(data["workers"]) == ["1", "2"]
    for found in data["workers"].values():
        levels = found["levels"]
        assert [level["sessions"] for level in levels] == [1, 3]
        assert all(level["stops"] == level["stops_expected"] for level in levels)
        assert all(level["cpu_cores"] > 0 and level["load_generator_cpu_cores"] > 0 for level in levels)
