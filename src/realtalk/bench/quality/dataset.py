"""The quality benchmark's fixed, versioned dataset (package data): spoken questions with their accepted
answers, tool cases over a few declared tools, and tool results whose spoken summary is judged.

A version is never edited once results were published from it: a changed item is a new file and version,
so two results compare only when they name the same `dataset_version`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

CURRENT = "dataset_v1.json"


@dataclass(frozen=True)
class Question:
    id: str
    question: str  # said by the benchmark's voice, and the reference of the transcript's WER
    accepted: tuple[str, ...]
    wrong: tuple[str, ...] = ()
    also_true: tuple[str, ...] = ()  # numbers a right answer may say beside it: 32 (°F) beside 0 (°C)

    @property
    def context(self) -> str:
        """What a numeric answer may say besides an accepted number (see `scoring.judge`)."""
        return " ".join([self.question, *self.also_true])


@dataclass(frozen=True)
class ToolCase:
    """A request typed to the model with the tools declared: `expected_tool` None means no tool fits."""

    id: str
    request: str
    expected_tool: str | None
    expected_arguments: dict[str, tuple[Any, ...]]  # argument → accepted values (normalized alike)


@dataclass(frozen=True)
class Summary:
    """A request, the model's call as if it had made it, and the tool's result: the spoken answer that
    follows must mention one of `accepted` (the key fact)."""

    id: str
    request: str
    call_name: str
    call_arguments: dict[str, Any]
    output: dict[str, Any]
    accepted: tuple[str, ...]


@dataclass(frozen=True)
class Dataset:
    version: int
    questions: tuple[Question, ...]
    tools: tuple[dict[str, Any], ...]  # as `session.tools` declares them, less `"type": "function"`
    tool_cases: tuple[ToolCase, ...]
    summaries: tuple[Summary, ...]

    def tool(self, name: str) -> dict[str, Any]:
        return next(tool for tool in self.tools if tool["name"] == name)

    def limited(self, count: int | None) -> Dataset:
        """The first `count` items of each part (all of them for None): a quick run of the same harness."""
        if count is None:
            return self
        return Dataset(
            self.version, self.questions[:count], self.tools, self.tool_cases[:count], self.summaries[:count]
        )


def load(name: str = CURRENT) -> Dataset:
    raw: dict[str, Any] = json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    return Dataset(
        version=int(raw["version"]),
        questions=tuple(
            Question(
                q["id"], q["question"], tuple(q["accepted"]), tuple(q.get("wrong", ())), tuple(q.get("also_true", ()))
            )
            for q in raw["qa"]
        ),
        tools=tuple(raw["tools"]),
        tool_cases=tuple(
            ToolCase(
                c["id"],
                c["request"],
                c["expected_tool"],
                {name: tuple(values) for name, values in c.get("expected_arguments", {}).items()},
            )
            for c in raw["tool_cases"]
        ),
        summaries=tuple(
            Summary(s["id"], s["request"], s["call"]["name"], s["call"]["arguments"], s["output"], tuple(s["accepted"]))
            for s in raw["summaries"]
        ),
    )
