"""Runs each benchmark for each system in turn, on fresh topics holding the same data."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness.broker import Topics
from bench.harness.dataset import behind_failures, healthy_count, prefill
from bench.harness.environments import REPO_ROOT
from bench.harness.plan import Benchmark, Scale, System
from bench.peers.common import AvroFrame, Record
from bench.peers.protocol import RESULT_PREFIX


@dataclass
class Outcome:
    """One system's result for one benchmark in one repetition."""

    benchmark: str
    system: str
    repeat: int
    supported: bool
    metrics: dict[str, float] = field(default_factory=dict)
    behaviour: str = ""
    reason: str = ""
    error: str = ""


@dataclass(frozen=True)
class RunContext:
    bootstrap: str
    scale: Scale
    records: list[Record]
    dataset: Path
    schema: Path
    pythons: dict[str, Path]  # system name -> interpreter
    log_dir: Path


def run_all(
    ctx: RunContext, benchmarks: Iterable[Benchmark], systems: Iterable[System]
) -> list[Outcome]:
    """Every repetition runs every benchmark for every system, so each repetition has its own
    baseline figure and ratios compare runs made minutes apart, not hours."""
    topics = Topics(ctx.bootstrap)
    frame = AvroFrame(str(ctx.schema))
    outcomes = []
    for repeat in range(ctx.scale.repeats):
        for benchmark in benchmarks:
            for system in (s for s in systems if s.runs(benchmark.name)):
                outcome = run_one(
                    ctx,
                    topics=topics,
                    frame=frame,
                    benchmark=benchmark,
                    system=system,
                    repeat=repeat,
                )
                _announce(outcome)
                outcomes.append(outcome)
    return outcomes


def run_one(
    ctx: RunContext,
    *,
    topics: Topics,
    frame: AvroFrame,
    benchmark: Benchmark,
    system: System,
    repeat: int,
) -> Outcome:
    tag = f"{benchmark.name}-{system.name}-{repeat}-{uuid.uuid4().hex[:6]}".replace("_", "-")
    topic, dlq = f"bench-{tag}", f"bench-{tag}.dlq"
    count = ctx.scale.events_for(benchmark.name)
    topics.create(topic, dlq, partitions=ctx.scale.partitions)
    try:
        if benchmark.prefilled:
            prefill(ctx.bootstrap, topic, ctx.records[:count], frame)
        spec = _spec(ctx, benchmark, topic=topic, dlq=dlq, group=f"bench-{tag}", count=count)
        outcome = _launch(ctx, system, spec, repeat)
        _verify(outcome, topics, benchmark, spec)
        return outcome
    finally:
        topics.delete(topic, dlq)


def _spec(
    ctx: RunContext, benchmark: Benchmark, *, topic: str, dlq: str, group: str, count: int
) -> dict[str, Any]:
    scale = ctx.scale
    cap = scale.io_time_cap if benchmark.name == "io_bound" else scale.time_cap
    return {
        "benchmark": benchmark.name,
        "bootstrap": ctx.bootstrap,
        "topic": topic,
        "dlq_topic": dlq,
        "group": group,
        "dataset": str(ctx.dataset),
        "schema": str(ctx.schema),
        "events": count,
        "healthy": healthy_count(ctx.records[:count]),
        "reachable": healthy_count(ctx.records[:count]) - behind_failures(ctx.records[:count]),
        "partitions": scale.partitions,
        "time_cap": cap,
        "rate": scale.rate,
        "io_delay": scale.io_delay,
    }


def _launch(ctx: RunContext, system: System, spec: dict[str, Any], repeat: int) -> Outcome:
    base = Outcome(spec["benchmark"], system.name, repeat, supported=True)
    log = ctx.log_dir / f"{spec['benchmark']}-{system.name}-{repeat}.log"
    command = [str(ctx.pythons[system.name]), "-m", f"bench.peers.{system.name}"]
    try:
        done = subprocess.run(
            command,
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=spec["time_cap"] + 120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        base.error = "the adapter process overran its time cap and was stopped"
        return base
    log.write_text(done.stdout + "\n--- stderr ---\n" + done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        base.error = f"no result (exit {done.returncode}); see {log}"
        return base
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    base.supported = result["supported"]
    base.reason = result.get("reason", "")
    base.error = result.get("error", "")
    base.behaviour = result.get("behaviour", "")
    base.metrics = {k: float(v) for k, v in result.get("metrics", {}).items()}
    return base


def _verify(outcome: Outcome, topics: Topics, benchmark: Benchmark, spec: dict[str, Any]) -> None:
    """Facts the harness checks on the broker itself rather than taking an adapter's word."""
    if not outcome.supported or outcome.error:
        return
    if benchmark.name == "publish":
        outcome.metrics["on_topic"] = topics.message_count(spec["topic"])
    if benchmark.name in {"consume", "io_bound", "failure"}:
        outcome.metrics["committed"] = topics.committed(spec["topic"], spec["group"])
    if benchmark.name == "failure":
        outcome.metrics["dead_lettered"] = topics.message_count(spec["dlq_topic"])


def _announce(outcome: Outcome) -> None:
    if not outcome.supported:
        summary = f"not supported: {outcome.reason}"
    elif outcome.error:
        summary = f"error: {outcome.error}"
    else:
        summary = ", ".join(f"{k}={v:,.1f}" for k, v in outcome.metrics.items())
    print(f"bench: {outcome.benchmark:<9} {outcome.system:<16} #{outcome.repeat} {summary}")
    sys.stdout.flush()
