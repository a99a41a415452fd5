"""latest.json to a bar chart: throughput per system, one group of bars per benchmark.

Runs in the peers' virtualenv (matplotlib stays out of the project's dependencies):
`python -m bench.harness.plot latest.json latest.png`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ORDER = [
    "raw confluent-kafka",
    "conveyor",
    "conveyor, batch handler",
    "aiokafka",
    "FastStream (Kafka)",
    "Quix Streams",
]
THROUGHPUT = {
    "publish": ("1. publish", "events_per_s"),
    "consume": ("2. consume no-op", "events_per_s"),
    "io_bound": ("3. async 10 ms, keyed", "events_per_s"),
    "failure": ("5. 1% failing: healthy", "healthy_events_per_s"),
}


def main(source: Path, target: Path) -> None:
    records = json.loads(source.read_text())["records"]
    values: dict[tuple[str, str], tuple[float, float, float]] = {}
    systems: list[str] = []
    for r in records:
        wanted = THROUGHPUT.get(r["benchmark"])
        if wanted and r["metric"] == wanted[1] and r["value"] is not None:
            values[r["benchmark"], r["system"]] = (r["value"], r["min"], r["max"])
            if r["system"] not in systems:
                systems.append(r["system"])
    systems.sort(key=lambda name: ORDER.index(name) if name in ORDER else len(ORDER))
    benchmarks = [b for b in THROUGHPUT if any(k[0] == b for k in values)]
    # Each group holds the systems with a figure for that benchmark, side by side without gaps
    # (a system that takes part in one benchmark only leaves no hole in the others).
    present = {b: [s for s in systems if (b, s) in values] for b in benchmarks}
    fig, ax = plt.subplots(figsize=(11, 5.5))
    width = 0.8 / max((len(group) for group in present.values()), default=1)
    for system in systems:
        xs: list[float] = []
        heights: list[float] = []
        errors: list[list[float]] = [[], []]
        for j, benchmark in enumerate(benchmarks):
            group = present[benchmark]
            if system not in group:
                continue
            median, low, high = values[benchmark, system]
            xs.append(j + (group.index(system) - (len(group) - 1) / 2) * width)
            heights.append(median)
            errors[0].append(median - low)
            errors[1].append(high - median)
        color = f"C{ORDER.index(system)}" if system in ORDER else None
        ax.bar(xs, heights, width, yerr=errors, capsize=3, label=system, color=color)
    ax.set_xticks(range(len(benchmarks)), [THROUGHPUT[b][0] for b in benchmarks])
    ax.set_yscale("log")
    ax.set_ylabel("events/s (log scale; median, whiskers min-max)")
    ax.set_title("Throughput per system and benchmark (higher is better)")
    ax.legend()
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
