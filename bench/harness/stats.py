"""Repetitions to figures: median and spread per metric, and ratios to the same run's baseline."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from bench.harness.plan import BASELINE
from bench.harness.runner import Outcome


@dataclass(frozen=True)
class Figure:
    benchmark: str
    system: str
    metric: str
    median: float
    low: float
    high: float
    runs: tuple[float, ...]
    ratio: float | None  # median over repetitions of value / baseline value of that repetition


def figures(outcomes: list[Outcome]) -> list[Figure]:
    baseline = {
        (o.benchmark, o.repeat, metric): value
        for o in outcomes
        if o.system == BASELINE and o.supported and not o.error
        for metric, value in o.metrics.items()
    }
    runs: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    ratios: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for o in outcomes:
        if not o.supported or o.error:
            continue
        for metric, value in o.metrics.items():
            runs[o.benchmark, o.system, metric].append(value)
            base = baseline.get((o.benchmark, o.repeat, metric))
            if base:
                ratios[o.benchmark, o.system, metric].append(value / base)
    return [
        Figure(
            benchmark,
            system,
            metric,
            statistics.median(values),
            min(values),
            max(values),
            tuple(values),
            statistics.median(ratios[benchmark, system, metric])
            if ratios[benchmark, system, metric]
            else None,
        )
        for (benchmark, system, metric), values in runs.items()
    ]
