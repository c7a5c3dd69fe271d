"""Statistics, result files and plots shared by the benchmarks."""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import realtalk


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p90": float("nan"), "p99": float("nan"), "n": 0}
    data = np.asarray(values, dtype=float)
    return {
        "p50": float(np.percentile(data, 50)),
        "p90": float(np.percentile(data, 90)),
        "p99": float(np.percentile(data, 99)),
        "n": len(values),
    }


def machine() -> dict[str, Any]:
    """Where the numbers came from."""
    import os

    import psutil

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
        "realtalk": realtalk.__version__,
    }


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"


@dataclass
class Report:
    """A benchmark's results: JSON for machines, Markdown tables (blank-line separated) to paste into docs."""

    name: str
    out: Path
    results: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)

    def write(self) -> list[Path]:
        self.out.mkdir(parents=True, exist_ok=True)
        data = self.out / f"{self.name}.json"
        data.write_text(json.dumps({"benchmark": self.name, "machine": machine(), **self.results}, indent=2))
        markdown = self.out / f"{self.name}.md"
        markdown.write_text("\n".join(table.markdown() for table in self.tables))
        return [data, markdown]


@contextmanager
def _figure(path: Path, title: str, xlabel: str, ylabel: str) -> Iterator[Any]:
    """A fresh figure's axes, saved to `path` (headless) once the caller has drawn on them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    yield axes
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_cdf(series: dict[str, Sequence[float]], title: str, xlabel: str, path: Path) -> Path:
    with _figure(path, title, xlabel, "fraction of turns") as axes:
        for label, values in series.items():
            if values:
                data = np.sort(np.asarray(values, dtype=float))
                axes.step(data, np.arange(1, len(data) + 1) / len(data), where="post", label=label)
        axes.set_ylim(0, 1.02)
    return path


def plot_lines(
    x: Sequence[float],
    series: dict[str, Sequence[float]],
    title: str,
    xlabel: str,
    ylabel: str,
    path: Path,
    limit: float | None = None,
    marker: str | None = "o",  # None for long series, where markers would hide the line
) -> Path:
    curves = {label: (x, values) for label, values in series.items()}
    return plot_curves(curves, title, xlabel, ylabel, path, limit, marker)


def plot_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    xlabel: str,
    ylabel: str,
    path: Path,
    limit: float | None = None,
    marker: str | None = "o",
) -> Path:
    """Lines that each have their own x values (e.g. one capacity search per worker count)."""
    with _figure(path, title, xlabel, ylabel) as axes:
        for label, (x, values) in curves.items():
            axes.plot(x, values, marker=marker, label=label)
        if limit is not None:
            axes.axhline(limit, color="red", linestyle="--", linewidth=1, label=f"limit {limit:g}")
    return path


def plot_bars(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, path: Path) -> Path:
    with _figure(path, title, xlabel, "") as axes:
        axes.barh(labels, values)
        axes.set_xscale("log")
    return path


def plot_grouped_bars(
    categories: Sequence[str], series: dict[str, Sequence[float]], title: str, ylabel: str, path: Path
) -> Path:
    """One group of bars per category, one bar per series in each (NaN: no bar), each labelled with its value."""
    width = 0.8 / max(len(series), 1)
    with _figure(path, title, "", ylabel) as axes:
        for index, (label, values) in enumerate(series.items()):
            x = np.arange(len(categories)) + (index - (len(series) - 1) / 2) * width
            bars = axes.bar(x, values, width, label=label)
            axes.bar_label(bars, fmt="%.0f", fontsize=7)
        axes.set_xticks(range(len(categories)), categories, rotation=30, ha="right", fontsize=8)
    return path


def plot_waterfall(
    stages: dict[str, float], spans: list[tuple[str, float, float]], title: str, xlabel: str, path: Path
) -> Path:
    """The server's own stages first, as bars from when each began to when it ended (`spans`); then one bar
    per observed stage, in the order they happened, each from the stage before it (the first from 0) to its
    own time: together they show what ran when, and where the time went. Labelled with the time."""
    happened = sorted((at, label) for label, at in stages.items() if not np.isnan(at))
    with _figure(path, title, xlabel, "") as axes:
        for row, (_, began, ended) in enumerate(spans):
            axes.barh(row, ended - began, left=began, color="tab:gray")
            axes.annotate(
                f"{began:.0f} to {ended:.0f} ms",
                (ended, row),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        start = 0.0
        for row, (at, _) in enumerate(happened, start=len(spans)):
            axes.barh(row, at - start, left=start)
            text = f"{at:.0f} ms (+{at - start:.0f})"
            axes.annotate(text, (at, row), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
            start = at
        labels = [label for label, _, _ in spans] + [label for _, label in happened]
        axes.set_yticks(range(len(labels)), labels)
        axes.invert_yaxis()
        axes.axvline(0, color="black", linewidth=1)
        earliest = min([0.0] + [began for _, began, _ in spans])
        axes.set_xlim(earliest, max(start, 1.0) * 1.3)  # room for the last label
    return path
