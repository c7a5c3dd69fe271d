"""`realtalk bench quality`: its dataset, how it judges answers, and its runner through a real server."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft7Validator

from realtalk.bench.quality import runner
from realtalk.bench.quality.conditions import NOISE, PAD_MS, with_noise
from realtalk.bench.quality.dataset import Dataset, load
from realtalk.bench.quality.scoring import argument_problems, judge, normalize, word_error_rate
from realtalk.cli import build_parser, quality_voice_and_ear, settings_from
from realtalk.config import Settings
from realtalk.engines.embedded import smollm
from realtalk.engines.scripted.stt import ScriptedSTT
from realtalk.engines.scripted.tts import ToneTTS
from tests.signals import tone

DATASET = load()
DEV = load("dev_set.json")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("What is two plus two?", ["what", "is", "2", "plus", "2"]),
        ("Twenty-five", ["25"]),
        ("one hundred and five", ["105"]),
        ("a thousand meters", ["1000", "meters"]),
        ("1,000 grams", ["1000", "grams"]),
        ("one thousand two hundred", ["1200"]),
        ("five five", ["5", "5"]),
        ("nineteen ninety", ["19", "90"]),
        ("It's THE capital, Paris.", ["its", "capital", "paris"]),
        ("10 - 4 = 6", ["10", "minus", "4", "equals", "6"]),
    ],
)
def test_normalization_writes_numbers_as_digits_and_drops_case_punctuation_and_articles(
    text: str, words: list[str]
) -> None:
    assert normalize(text) == words


def test_a_number_matches_whether_written_in_words_or_digits() -> None:
    assert judge("There are sixty minutes in an hour.", ["60"])
    assert judge("It has 4 legs.", ["four"])
    assert judge("One hundred centimeters.", ["100"])


def test_an_answer_is_right_when_an_accepted_answer_appears_in_it() -> None:
    assert judge("The capital of France is Paris.", ["paris"])
    assert not judge("The capital of France is Lyon.", ["paris"])


def test_a_listed_wrong_answer_makes_an_answer_wrong_even_beside_the_right_one() -> None:
    assert not judge("It is Sydney, or maybe Canberra.", ["canberra"], ["sydney"])


def test_a_number_the_question_did_not_say_makes_a_numeric_answer_wrong() -> None:
    question = "What is two plus two?"
    assert not judge("Two plus two equals five.", ["4"], context=question)
    assert judge("Two plus two is four.", ["4"], context=question)
    assert not judge("Four, or maybe five.", ["4"], context=question)


def test_one_and_the_numbers_listed_as_also_true_may_stand_beside_a_numeric_answer() -> None:
    freezing = next(q for q in DATASET.questions if q.id == "science-05")
    assert judge("Water freezes at 0 °C, that is 32 °F.", freezing.accepted, freezing.wrong, freezing.context)
    assert not judge("Water freezes at 0 °C, or 10.", freezing.accepted, freezing.wrong, freezing.context)
    assert judge("That's an easy one: sixty.", ["60"], context="How many minutes are in an hour?")


def test_word_error_rate_counts_errors_over_all_reference_words_with_numbers_alike() -> None:
    pairs = [("What is two plus two?", "what is 2 plus 2"), ("How many days are in a week?", "how many days in week")]
    assert word_error_rate(pairs) == pytest.approx(1 / 11)  # "are" left out; "a" is an article
    assert word_error_rate([("What is two plus two?", "")]) == 1.0
    assert word_error_rate([("", "anything")]) is None


WEATHER = DATASET.tool("get_weather")["parameters"]
CURRENCY = DATASET.tool("convert_currency")["parameters"]


def test_arguments_that_match_the_schema_and_the_expected_values_have_no_problems() -> None:
    assert argument_problems('{"city": "Paris, France"}', WEATHER, {"city": ["paris"]}) == []
    expected = {"amount": [100], "from": ["usd", "dollars"], "to": ["eur"]}
    assert argument_problems('{"amount": 100.0, "from": "Dollars", "to": "EUR"}', CURRENCY, expected) == []


def test_arguments_that_are_not_a_json_object_are_invalid() -> None:
    assert argument_problems('{"city": "Paris"', WEATHER, {}) == ["not JSON"]
    assert argument_problems('["Paris"]', WEATHER, {}) == ["not a JSON object"]


def test_arguments_against_the_schema_or_with_another_value_are_invalid() -> None:
    assert argument_problems('{"town": "Paris"}', WEATHER, {"city": ["paris"]}) == [
        "schema: 'city' is a required property",
        "schema: Additional properties are not allowed ('town' was unexpected)",
    ]
    assert argument_problems('{"city": "Lyon"}', WEATHER, {"city": ["paris"]}) == ["city: 'Lyon' is none of ['paris']"]


def test_the_dataset_is_versioned_and_large_enough() -> None:
    assert DATASET.version == 1
    assert len(DATASET.questions) >= 60 and len(DATASET.tool_cases) >= 30 and len(DATASET.summaries) >= 5
    assert sum(case.expected_tool is None for case in DATASET.tool_cases) >= 5


def test_every_item_of_the_dataset_has_its_own_id() -> None:
    ids = [item.id for item in chain(DATASET.questions, DATASET.tool_cases, DATASET.summaries)]
    assert len(ids) == len(set(ids))


def test_every_tool_case_expects_arguments_its_tool_schema_accepts() -> None:
    for case in DATASET.tool_cases:
        if case.expected_tool is None:
            assert case.expected_arguments == {}, case.id
            continue
        schema = DATASET.tool(case.expected_tool)["parameters"]
        for alternative in range(max(len(values) for values in case.expected_arguments.values())):
            arguments = {
                name: values[min(alternative, len(values) - 1)] for name, values in case.expected_arguments.items()
            }
            assert list(Draft7Validator(schema).iter_errors(arguments)) == [], case.id
    for summary in DATASET.summaries:
        assert (
            list(Draft7Validator(DATASET.tool(summary.call_name)["parameters"]).iter_errors(summary.call_arguments))
            == []
        )


def test_the_development_set_shares_no_question_request_or_tool_with_the_measured_dataset() -> None:
    def asked(data: Dataset) -> set[str]:
        texts = chain(
            (q.question for q in data.questions),
            (c.request for c in data.tool_cases),
            (s.request for s in data.summaries),
        )
        return {" ".join(normalize(text)) for text in texts}

    assert (len(DEV.questions), len(DEV.tool_cases)) >= (30, 15)
    assert asked(DEV) & asked(DATASET) == set()
    assert {t["name"] for t in DEV.tools} & {t["name"] for t in DATASET.tools} == set()


def test_the_embedded_models_worked_examples_share_no_question_or_tool_with_either_dataset() -> None:
    shown = [m["content"] for m in (*smollm.PRIMING, *smollm.TOOL_RESULT_PRIMING) if m["role"] == "user"]
    asked = {" ".join(normalize(q.question)) for q in chain(DATASET.questions, DEV.questions)}
    asked |= {" ".join(normalize(c.request)) for c in chain(DATASET.tool_cases, DEV.tool_cases)}
    assert {" ".join(normalize(text)) for text in shown} & asked == set()
    called = {json.loads(m["content"])["name"] for m in smollm.TOOL_RESULT_PRIMING if m["content"].startswith('{"name')}
    assert called == {"get_time", "book_table"}
    assert called & {t["name"] for t in chain(DATASET.tools, DEV.tools)} == set()


def test_every_answer_in_the_dataset_is_judged_right_when_said_alone() -> None:
    for question in DATASET.questions:
        assert all(judge(a, question.accepted, question.wrong, question.context) for a in question.accepted), (
            question.id
        )
    for summary in DATASET.summaries:
        assert all(judge(a, summary.accepted, context=json.dumps(summary.output)) for a in summary.accepted), summary.id


def test_noise_is_mixed_ten_decibels_below_the_speech_the_same_each_time() -> None:
    speech = tone(1000)
    noisy = NOISE.audio(speech, seed=3)
    pad = len(speech) * PAD_MS // 1000
    noise = noisy[pad:-pad].astype(np.float64) - speech
    snr = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(noise**2))
    assert snr == pytest.approx(10.0, abs=0.2)
    assert np.array_equal(noisy, NOISE.audio(speech, seed=3))
    assert not np.array_equal(noisy, with_noise(noisy, speech, 10.0, seed=4))


def test_bench_quality_takes_its_stacks_and_limit_and_leaves_the_server_settings_alone() -> None:
    args = build_parser().parse_args(["bench", "quality", "--stacks", "embedded", "--limit", "3"])
    assert (args.which, args.stacks, args.limit) == ("quality", ["embedded"], 3)
    assert settings_from(args) == settings_from(build_parser().parse_args(["bench", "quality"]))


SCRIPT = [  # the scripted LLM's answers, in the order the runner asks: 2 questions, 2 tool cases, 2 results
    {"text": "Two plus two is four."},
    {"text": "Three plus five is nine."},
    {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
    {"tool_calls": [{"name": "get_weather", "arguments": {"town": "London"}}]},
    {"text": "It is 18 degrees and sunny in Paris."},
    {"text": "It is 20 degrees in Oslo."},
]


@pytest.mark.live
def test_the_runner_scores_the_scripted_stack_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripted server hears every question as the first one and plays SCRIPT; the benchmark's ear
    hears every answer as "two plus two is for"."""
    script = tmp_path / "script.json"
    script.write_text(json.dumps(SCRIPT))
    monkeypatch.setenv("REALTALK_SCRIPT", str(script))
    monkeypatch.setenv("REALTALK_TRANSCRIPT", "What is two plus two?")
    runner.run(["scripted"], tmp_path, ToneTTS(), ScriptedSTT("Two plus two is for."), limit=2)
    results: dict[str, Any] = json.loads((tmp_path / "quality.json").read_text())
    assert results["dataset_version"] == 1 and results["items"] == {"qa": 2, "tool_cases": 2, "summaries": 2}
    scripted = results["stacks"]["scripted"]
    assert scripted["scores"] == {
        "qa_accuracy": 0.5,  # "nine" is wrong
        "tool_selection": 1.0,
        "argument_validity": 0.5,  # "town" is not an argument of get_weather
        "summary_accuracy": 0.5,  # neither 5 (degrees) nor snow
        "wer_clean": 0.2,  # "three plus five" heard as "two plus two": 2 errors in 10 words
        "wer_ulaw": 0.2,
        "wer_noise": 0.2,
        "intelligibility_wer": 0.4,  # "for" for "four", and "two plus two is for" for "three plus five is nine"
    }
    assert scripted["qa_by_topic"] == {"math": 0.5} and scripted["failed_exchanges"] == 0
    qa = scripted["items"]["qa"]
    assert [item["answer"] for item in qa] == ["Two plus two is four.", "Three plus five is nine."]
    assert qa[1]["transcript_ulaw"] == "What is two plus two?" and qa[1]["answer_heard"] == "Two plus two is for."
    assert scripted["items"]["tool_cases"][1]["called"] == [{"name": "get_weather", "arguments": '{"town": "London"}'}]
    table = (tmp_path / "quality.md").read_text()
    assert "| scripted | 50.0 % | 100.0 % | 50.0 % | 50.0 % | 20.0 % | 20.0 % | 20.0 % | 40.0 % | 0 |" in table
    assert "| scripted | math | 50.0 % |" in table
    assert (tmp_path / "quality.png").stat().st_size > 0


@pytest.mark.live
def test_an_exchange_the_server_refuses_is_scored_wrong_with_its_error_and_the_run_goes_on(tmp_path: Path) -> None:
    broken = {"name": "get_weather", "parameters": {"type": "nonsense"}}  # the session.update is refused
    data = replace(DATASET.limited(1), tools=(broken, *DATASET.tools[1:]))
    runner.run(["scripted"], tmp_path, ToneTTS(), ScriptedSTT(), data=data)
    scripted = json.loads((tmp_path / "quality.json").read_text())["stacks"]["scripted"]
    case, summary = scripted["items"]["tool_cases"][0], scripted["items"]["summaries"][0]
    assert case["error"].startswith("Invalid schema for 'session.tools[0].parameters'") and not case["selected"]
    assert summary["error"] == case["error"] and not summary["correct"]
    assert scripted["failed_exchanges"] == 2 and scripted["items"]["qa"][0]["transcript_clean"] == "Hello."


@pytest.mark.live
def test_exchanges_whose_websocket_is_refused_are_scored_wrong_with_the_refusal_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALTALK_API_KEY", "sk-realtalk-bench-0123456789")  # the benchmark sends no key
    runner.run(["scripted"], tmp_path, ToneTTS(), ScriptedSTT(), data=DATASET.limited(1))
    scripted = json.loads((tmp_path / "quality.json").read_text())["stacks"]["scripted"]
    refused = "server rejected WebSocket connection: HTTP 401"
    qa, case = scripted["items"]["qa"][0], scripted["items"]["tool_cases"][0]
    assert (qa["error"], qa["error_ulaw"], qa["error_noise"], case["error"]) == (refused,) * 4
    assert scripted["items"]["summaries"][0]["error"] == refused and scripted["failed_exchanges"] == 5
    assert scripted["scores"]["qa_accuracy"] == 0.0 and scripted["scores"]["tool_selection"] == 0.0


@pytest.mark.models
@pytest.mark.live
@pytest.mark.timeout(600)  # the embedded server loads and warms up every model first
def test_the_runner_scores_three_items_of_each_part_on_the_embedded_stack(tmp_path: Path) -> None:
    voice, ear = quality_voice_and_ear(Settings(data_dir=tmp_path / "data"))
    runner.run(["embedded"], tmp_path, voice, ear, limit=3)
    embedded = json.loads((tmp_path / "quality.json").read_text())["stacks"]["embedded"]
    scores, qa = embedded["scores"], embedded["items"]["qa"]
    assert [item["id"] for item in qa] == ["math-01", "math-02", "math-03"]
    assert scores["wer_clean"] == 0.0  # Kokoro's "what is two plus two" is heard exactly
    assert scores["wer_ulaw"] <= 0.2 and scores["wer_noise"] <= 0.2
    assert all(item["answer"] and item["answer_heard"] for item in qa)  # every answer spoken, and heard back
    assert scores["intelligibility_wer"] <= 0.3
    assert all(0.0 <= scores[s] <= 1.0 for s in ("qa_accuracy", "tool_selection", "summary_accuracy"))
    assert len(embedded["items"]["tool_cases"]) == 3 and len(embedded["items"]["summaries"]) == 3
