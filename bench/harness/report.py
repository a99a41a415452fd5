"""bench/results/latest.json (one record per benchmark, system and metric) and latest.md."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.harness.plan import BENCHMARKS, SYSTEM_NAMED, SYSTEMS, Benchmark
from bench.harness.runner import Outcome
from bench.harness.stats import Figure

UNITS = {
    "events_per_s": "events/s",
    "healthy_events_per_s": "events/s",
    "p50_ms": "ms",
    "p99_ms": "ms",
    "failing_attempts": "handler calls",
}
LABELS = {s.name: s.label for s in SYSTEMS}


def write_json(
    path: Path, figures: list[Figure], outcomes: list[Outcome], conditions: Mapping[str, Any]
) -> None:
    records = [
        {
            "benchmark": f.benchmark,
            "system": LABELS.get(f.system, f.system),
            "metric": f.metric,
            "value": f.median,
            "unit": UNITS.get(f.metric, "events"),
            "min": f.low,
            "max": f.high,
            "runs": list(f.runs),
            "ratio_to_confluent_kafka": f.ratio,
            "conditions": {**conditions["common"], **conditions["benchmarks"][f.benchmark]},
        }
        for f in figures
    ]
    measured = {(f.benchmark, f.system) for f in figures}
    headline = {b.name: b for b in BENCHMARKS}
    for o in outcomes:
        if (o.benchmark, o.system) in measured or o.repeat != 0:
            continue
        benchmark = headline[o.benchmark]
        records.append(
            {
                "benchmark": o.benchmark,
                "system": LABELS.get(o.system, o.system),
                "metric": benchmark.metric,
                "value": None,
                "unit": benchmark.unit,
                "note": f"cannot: {o.reason}" if not o.supported else f"failed: {o.error}",
                "conditions": {**conditions["common"], **conditions["benchmarks"][o.benchmark]},
            }
        )
    notes = [
        {
            "benchmark": o.benchmark,
            "system": LABELS.get(o.system, o.system),
            "repeat": o.repeat,
            "supported": o.supported,
            "reason": o.reason,
            "error": o.error,
            "behaviour": o.behaviour,
        }
        for o in outcomes
    ]
    document = {"conditions": conditions, "records": records, "runs": notes}
    path.write_text(json.dumps(document, indent=2) + "\n")


class _Table:
    """Figures and notes of one run, looked up by benchmark and system."""

    def __init__(self, figures: list[Figure], outcomes: list[Outcome]) -> None:
        self.figures = {(f.benchmark, f.system, f.metric): f for f in figures}
        self.outcomes = outcomes

    def figure(self, benchmark: str, system: str, metric: str) -> Figure | None:
        return self.figures.get((benchmark, system, metric))

    def first(self, benchmark: str, system: str) -> Outcome | None:
        mine = [o for o in self.outcomes if o.benchmark == benchmark and o.system == system]
        failed = [o for o in mine if o.error or not o.supported]
        found = failed or mine
        return found[0] if found else None


def _value(f: Figure | None, digits: int = 0) -> str:
    if f is None:
        return "-"
    if len(f.runs) == 1 or f.low == f.high:
        return f"{f.median:,.{digits}f}"
    return f"{f.median:,.{digits}f} ({f.low:,.{digits}f}-{f.high:,.{digits}f})"


def _ratio(f: Figure | None) -> str:
    return "-" if f is None or f.ratio is None else f"{f.ratio:.2f}x"


def write_markdown(
    path: Path,
    *,
    figures: list[Figure],
    outcomes: list[Outcome],
    conditions: Mapping[str, Any],
    systems: list[str],
    benchmarks: list[Benchmark],
) -> None:
    table = _Table(figures, outcomes)
    lines = ["# conveyor side by side: latest run", ""]
    lines += _conditions(conditions)
    for benchmark in benchmarks:
        lines += ["", f"## {benchmark.title}", ""]
        lines += _benchmark_section(table, benchmark, systems, conditions)
    lines += ["", "![throughput per system and benchmark](latest.png)", ""]
    path.write_text("\n".join(lines))


def _conditions(conditions: Mapping[str, Any]) -> list[str]:
    common = conditions["common"]
    return [f"- **{key}**: {value}" for key, value in common.items()] + [
        "",
        "Figures are the median over repetitions, with (min-max); ratios are the median of each "
        "repetition's figure divided by raw confluent-kafka's figure in that same repetition.",
    ]


def _row_problem(outcome: Outcome | None) -> str | None:
    if outcome is None:
        return "not run"
    if not outcome.supported:
        return f"cannot: {outcome.reason}"
    if outcome.error:
        return f"failed: {outcome.error}"
    return None


def _benchmark_section(
    table: _Table, benchmark: Benchmark, systems: list[str], conditions: Mapping[str, Any]
) -> list[str]:
    setup = conditions["benchmarks"][benchmark.name]
    lines = [", ".join(f"{k}: {v}" for k, v in setup.items()), ""]
    if benchmark.name == "latency":
        lines += ["| system | p50 ms | p99 ms | p99 x raw | how it ran |", "|---|---|---|---|---|"]
    elif benchmark.name == "failure":
        lines += [
            "| system | healthy events/s | x raw | what happens to a failing event "
            "| per-key order | healthy handled | offsets committed | how it ran |",
            "|---|---|---|---|---|---|---|---|",
        ]
    else:
        lines += ["| system | events/s | x raw | checks | how it ran |", "|---|---|---|---|---|"]
    for system in systems:
        if SYSTEM_NAMED[system].runs(benchmark.name):
            lines.append(_row(table, benchmark, system, setup))
    return lines


def _row(table: _Table, benchmark: Benchmark, system: str, setup: Mapping[str, Any]) -> str:
    name = benchmark.name
    label = LABELS.get(system, system)
    outcome = table.first(name, system)
    problem = _row_problem(outcome)
    how = outcome.behaviour if outcome else ""
    if name == "latency":
        p50, p99 = table.figure(name, system, "p50_ms"), table.figure(name, system, "p99_ms")
        if problem:
            return f"| {label} | - | - | - | {problem} |"
        return f"| {label} | {_value(p50, 1)} | {_value(p99, 1)} | {_ratio(p99)} | {how} |"
    if name == "failure":
        return _failure_row(
            table, system=system, label=label, problem=problem, how=how, setup=setup
        )
    rate = table.figure(name, system, "events_per_s")
    if problem:
        return f"| {label} | - | - | - | {problem} |"
    return f"| {label} | {_value(rate)} | {_ratio(rate)} | {_checks(table, name, system)} | {how} |"


def _checks(table: _Table, name: str, system: str) -> str:
    found = []
    for metric, text in (
        ("on_topic", "on topic"),
        ("committed", "committed"),
        ("handled", "handled"),
        ("order_violations", "order violations"),
    ):
        f = table.figure(name, system, metric)
        if f is not None:
            found.append(f"{text} {f.median:,.0f}")
    return "; ".join(found)


def _failure_row(
    table: _Table,
    *,
    system: str,
    label: str,
    problem: str | None,
    how: str,
    setup: Mapping[str, Any],
) -> str:
    if problem:
        return f"| {label} | - | - | - | - | - | - | {problem} |"

    def median(metric: str) -> float:
        f = table.figure("failure", system, metric)
        return f.median if f else 0.0

    failing, healthy = setup["failing events"], setup["healthy events"]
    behind = setup["healthy events behind a failure of their key"]
    attempts = median("failing_attempts") / failing if failing else 0.0
    handled = median("healthy_handled")
    fate = [
        f"{attempts:.1f} handler calls each" + (" (retried)" if attempts > 1.05 else " (no retry)"),
        f"{median('dead_lettered'):,.0f} dead-lettered",
    ]
    if handled < healthy - behind:
        fate.append("other keys' events stall behind it (blocks)")
    elif handled < healthy:
        fate.append(f"its key's later events held back ({healthy - handled:,.0f})")
    passed = median("passed_failed_key")
    order = "kept" if passed == 0 else f"not kept: {passed:,.0f} later events of failed keys ran"
    rate = table.figure("failure", system, "healthy_events_per_s")
    return (
        f"| {label} | {_value(rate)} | {_ratio(rate)} | {'; '.join(fate)} | {order} "
        f"| {handled:,.0f} of {healthy:,} | {median('committed'):,.0f} of {setup['events']:,} "
        f"| {how} |"
    )
