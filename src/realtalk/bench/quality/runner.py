"""`realtalk bench quality`: the versioned dataset through a real server per stack, scored end to end.

Per stack, on a fresh server with the benchmark's fixed seed: each spoken question is sent clean and
answered (accuracy, transcript WER, and the answer's audio heard back by the benchmark's own ear against
its transcript: intelligibility), then sent again as μ-law and under noise and only transcribed (WER);
each tool request is typed with the tools declared (the right tool or none, valid arguments); each tool
result is handed over and the spoken answer judged. Items run one after another, each in its own session.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress
from websockets.exceptions import WebSocketException

from realtalk.audio.formats import Resampler
from realtalk.bench.modes import SEED
from realtalk.bench.quality import conversation, scoring
from realtalk.bench.quality.conditions import CLEAN, CONDITIONS, NOISE, Condition
from realtalk.bench.quality.conversation import Answer, ExchangeError
from realtalk.bench.quality.dataset import Dataset, Question, Summary, ToolCase, load
from realtalk.bench.report import Report, Table, plot_grouped_bars
from realtalk.bench.server import serve
from realtalk.bench.speech import RATE, Utterance, speak
from realtalk.engines.base import Samples, STTEngine, TranscriptFinal, TTSEngine
from realtalk.protocol.ga.fields import format_object

MAX_OUTPUT_TOKENS = 60  # short answers are asked for; a rambling one is cut, not waited for
SCORES = {  # score → its column in the table
    "qa_accuracy": "spoken QA",
    "tool_selection": "tool selection",
    "argument_validity": "tool arguments",
    "summary_accuracy": "tool result summaries",
    "wer_clean": "WER clean",
    "wer_ulaw": "WER μ-law",
    "wer_noise": "WER noise 10 dB",
    "intelligibility_wer": "answer intelligibility WER",
}


@dataclass(frozen=True)
class Bench:
    """What one run holds fixed across stacks: the items, the questions' speech, and the ear that hears
    the answers back."""

    data: Dataset
    speech: list[Utterance]
    ear: STTEngine


def run(
    stacks: Sequence[str],
    out: Path,
    voice: TTSEngine,
    ear: STTEngine,
    limit: int | None = None,
    data: Dataset | None = None,
) -> Report:
    chosen = (data or load()).limited(limit)
    bench = Bench(chosen, speak([q.question for q in chosen.questions], voice), ear)
    results = {stack: measure(stack, bench) for stack in stacks}
    report = Report(
        "quality",
        out,
        {
            "dataset_version": chosen.version,
            "seed": SEED,
            "max_output_tokens": MAX_OUTPUT_TOKENS,
            "noise_snr_db": NOISE.snr_db,
            "items": {
                "qa": len(chosen.questions),
                "tool_cases": len(chosen.tool_cases),
                "summaries": len(chosen.summaries),
            },
            "stacks": results,
        },
        [score_table(results), topic_table(results)],
    )
    report.write()
    plot_grouped_bars(
        list(SCORES.values()),
        {stack: [_percent(result["scores"][score]) for score in SCORES] for stack, result in results.items()},
        f"realtalk bench quality (dataset v{chosen.version})",
        "% (accuracies: higher is better; WER: lower is better)",
        out / "quality.png",
    )
    return report


def measure(stack: str, bench: Bench) -> dict[str, Any]:
    started = time.perf_counter()
    with serve("--engines", stack, "--seed", str(SEED)) as server, Progress() as progress:
        items = asyncio.run(_items(server.url, bench, progress, stack))
    for item in items["qa"]:
        item["answer_heard"] = heard_back(item.pop("audio"), bench.ear)
    return {
        "scores": scores(items),
        "qa_by_topic": by_topic(items["qa"]),
        "failed_exchanges": failed(items),
        "run_seconds": round(time.perf_counter() - started, 1),
        "items": items,
    }


async def _items(url: str, bench: Bench, progress: Progress, stack: str) -> dict[str, list[dict[str, Any]]]:
    data = bench.data
    task = progress.add_task(
        f"quality, {stack}", total=len(data.questions) * len(CONDITIONS) + len(data.tool_cases) + len(data.summaries)
    )

    async def each(jobs: Iterable[Awaitable[dict[str, Any]]]) -> list[dict[str, Any]]:
        """One item at a time (the generator makes the next only when asked)."""
        done = []
        for job in jobs:
            done.append(await job)
            progress.advance(task)
        return done

    speech = [utterance.speech for utterance in bench.speech]
    qa = await each(spoken_question(url, q, speech[i], i) for i, q in enumerate(data.questions))
    for condition in CONDITIONS[1:]:
        heard = await each(transcribed(url, condition, speech[i], i) for i in range(len(speech)))
        for item, transcript in zip(qa, heard, strict=True):
            item[f"transcript_{condition.name}"] = transcript["transcript"]
            item.update({f"error_{condition.name}": transcript["error"]} if "error" in transcript else {})
    return {
        "qa": qa,
        "tool_cases": await each(tool_case(url, data, case) for case in data.tool_cases),
        "summaries": await each(summary_case(url, data, summary) for summary in data.summaries),
    }


async def spoken_question(url: str, question: Question, speech: Samples, seed: int) -> dict[str, Any]:
    sends, until = conversation.spoken(CLEAN.events(speech, seed), respond=True)
    answer, error = await _attempt(conversation.exchange(url, _audio_session(CLEAN), sends, until))
    correct = scoring.judge(answer.text, question.accepted, question.wrong, context=question.context)
    return {
        "id": question.id,
        "question": question.question,
        "transcript_clean": answer.transcript,
        "answer": answer.text,
        "correct": correct and error is None,
        "audio": answer.samples(),
        **({"error": error} if error else {}),
    }


async def transcribed(url: str, condition: Condition, speech: Samples, seed: int) -> dict[str, Any]:
    sends, until = conversation.spoken(condition.events(speech, seed), respond=False)
    answer, error = await _attempt(conversation.exchange(url, _audio_session(condition), sends, until))
    return {"transcript": answer.transcript, **({"error": error} if error else {})}


async def tool_case(url: str, data: Dataset, case: ToolCase) -> dict[str, Any]:
    session = conversation.tool_session(data.tools, "text", MAX_OUTPUT_TOKENS)
    answer, error = await _attempt(
        conversation.exchange(url, session, conversation.typed(case.request), {conversation.DONE})
    )
    called = answer.calls[0] if answer.calls else None
    selected = (called.name if called else None) == case.expected_tool and error is None
    problems = (
        scoring.argument_problems(called.arguments, data.tool(called.name)["parameters"], case.expected_arguments)
        if called is not None and selected
        else []
    )
    return {
        "id": case.id,
        "request": case.request,
        "expected_tool": case.expected_tool,
        "called": [{"name": call.name, "arguments": call.arguments} for call in answer.calls],
        "answer": answer.text,
        "selected": selected,
        "arguments_valid": selected and case.expected_tool is not None and not problems,
        "argument_problems": problems,
        **({"error": error} if error else {}),
    }


async def summary_case(url: str, data: Dataset, summary: Summary) -> dict[str, Any]:
    session = conversation.tool_session(data.tools, "audio", MAX_OUTPUT_TOKENS)
    sends = conversation.with_result(summary.request, summary.call_name, summary.call_arguments, summary.output)
    answer, error = await _attempt(conversation.exchange(url, session, sends, {conversation.DONE}))
    context = f"{summary.request} {json.dumps(summary.output)}"
    return {
        "id": summary.id,
        "request": summary.request,
        "output": summary.output,
        "answer": answer.text,
        "called": [call.name for call in answer.calls],
        "correct": error is None and scoring.judge(answer.text, summary.accepted, context=context),
        **({"error": error} if error else {}),
    }


async def _attempt(exchange: Awaitable[Answer]) -> tuple[Answer, str | None]:
    """The answer, or an empty one and why: a failed item scores as wrong, and the run goes on."""
    try:
        return await exchange, None
    except (ExchangeError, OSError, WebSocketException) as exc:
        return Answer(), str(exc) or type(exc).__name__


def _audio_session(condition: Condition) -> dict[str, Any]:
    return conversation.audio_session(format_object(condition.audio_format), MAX_OUTPUT_TOKENS)


def heard_back(audio: Samples, ear: STTEngine) -> str | None:
    """What the benchmark's ear hears in an answer's audio (24 kHz); None when there was no audio."""
    if not len(audio):
        return None
    wave = Resampler(RATE, ear.sample_rate).process(audio, last=True)

    async def final() -> str:
        events = [event async for event in ear.transcribe(wave, language="en", prompt=None)]
        return next(event.text for event in reversed(events) if isinstance(event, TranscriptFinal))

    return asyncio.run(final())


def scores(items: dict[str, list[dict[str, Any]]]) -> dict[str, float | None]:
    """Shares of items right (accuracies) and corpus word error rates; None where no item counts."""
    qa, cases, summaries = items["qa"], items["tool_cases"], items["summaries"]
    needing = [case for case in cases if case["expected_tool"] is not None]
    spoken = [item for item in qa if item["answer"] and item["answer_heard"] is not None]
    return {
        "qa_accuracy": _share(qa, "correct"),
        "tool_selection": _share(cases, "selected"),
        "argument_validity": _share(needing, "arguments_valid"),
        "summary_accuracy": _share(summaries, "correct"),
        **{
            f"wer_{c.name}": scoring.word_error_rate((i["question"], i[f"transcript_{c.name}"]) for i in qa)
            for c in CONDITIONS
        },
        "intelligibility_wer": scoring.word_error_rate((i["answer"], i["answer_heard"]) for i in spoken),
    }


def _share(items: Sequence[dict[str, Any]], key: str) -> float | None:
    return sum(bool(item[key]) for item in items) / len(items) if items else None


def failed(items: dict[str, list[dict[str, Any]]]) -> int:
    """Exchanges the server refused or never finished: each scored as wrong, and worth a look."""
    return sum(key.startswith("error") for part in items.values() for item in part for key in item)


def by_topic(qa: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Spoken-QA accuracy per topic (the id's prefix: math, capital, science, ...), to see where it fails."""
    topics: dict[str, list[dict[str, Any]]] = {}
    for item in qa:
        topics.setdefault(item["id"].rsplit("-", 1)[0], []).append(item)
    return {topic: _share(items, "correct") for topic, items in topics.items()}


def topic_table(results: dict[str, dict[str, Any]]) -> Table:
    table = Table(["stack", "spoken QA by topic", "accuracy"])
    for stack, result in results.items():
        table.rows += [[stack, topic, _cell(share)] for topic, share in result["qa_by_topic"].items()]
    return table


def score_table(results: dict[str, dict[str, Any]]) -> Table:
    table = Table(["stack", *SCORES.values(), "failed exchanges", "run time (s)"])
    for stack, result in results.items():
        cells = [_cell(result["scores"][score]) for score in SCORES]
        table.rows.append([stack, *cells, str(result["failed_exchanges"]), f"{result['run_seconds']:.0f}"])
    return table


def _percent(value: float | None) -> float:
    return float("nan") if value is None else 100 * value


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"
