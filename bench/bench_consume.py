"""Consumer-runtime benchmarks, each against a baseline run in the same script on the same broker.

1. No-op handler throughput vs a hand-written confluent-kafka loop (fastavro decode + offset
   store). Target: runtime >= 0.8x. A no-op batch handler and a no-op sync handler (on the
   thread pool) are measured alongside, for reference.
2. I/O-bound async handler (10 ms sleep), 1,000 keys over 6 partitions: max_in_flight 256 vs one
   event at a time per partition. Target: >= 20x.
3. End-to-end latency from publish to handler start at a fixed 2,000 events/s: p50, p99
   (target p99 < 25 ms).
4. One key backing off in place: the other keys' rate while the first event of one key fails
   and waits out a retry longer than the run, vs the same service with nothing failing.
   Target: about 1.0x (a key's backoff holds up that key only).
5. Tracing (`--only tracing`): the async no-op service with tracing off, vs the same with
   OpenTelemetry on (SDK, batch processor, spans dropped by the exporter), and with
   `--before DIR` vs the build in DIR (e.g. `git archive <commit> | tar -x -C DIR`) with tracing
   off. Target: off costs what the build before tracing did (1.0x).

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 .venv/bin/python -m bench.bench_consume [--quick]

(run as a module: its runs are in `bench.consume_runs`, what they share in
`bench.consume_support`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bench.consume_runs import (
    BACKING_OFF_KEY,
    KEYS,
    hand_loop,
    latency_run,
    partition_workers,
    runtime_backoff_run,
    runtime_batch_run,
    runtime_run,
    runtime_sync_run,
    runtime_traced_run,
)
from bench.consume_support import create_topic, fill, in_fresh_process, with_cpu
from bench.peers.common import latency_metrics
from conveyor.log_output import configure_json_logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument(
        "--only", choices=["noop", "io", "latency", "backoff", "tracing"], help="run one section"
    )
    parser.add_argument("--rounds", type=int, default=1, help="no-op rounds (medians reported)")
    parser.add_argument("--count", type=int, help="events per no-op run (default 200,000)")
    parser.add_argument("--before", help="tracing: a source tree of the build to compare with")
    args = parser.parse_args()
    configure_json_logs("WARNING")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    noop_count = args.count or (20_000 if args.quick else 200_000)

    if args.only in (None, "noop"):
        noop_section(bootstrap, noop_count, args.rounds)
    if args.only in (None, "io"):
        io_section(bootstrap, 6_000 if args.quick else 12_000)
    if args.only in (None, "latency"):
        latency_section(bootstrap, 2000, 4.0 if args.quick else 10.0)
    if args.only in (None, "backoff"):
        backoff_section(bootstrap, noop_count, args.rounds)
    if args.only in (None, "tracing"):
        tracing_section(bootstrap, noop_count, args.rounds, args.before)


def tracing_section(bootstrap: str, count: int, rounds: int, before: str | None) -> None:
    topic = create_topic(bootstrap, 6)
    fill(bootstrap, topic, count, keys=KEYS)
    runs: dict[str, Callable[[], tuple[float, float]]] = {
        "async no-op, tracing off": lambda: in_fresh_process(
            runtime_run, count, bootstrap, topic, count
        ),
        "async no-op, tracing on (spans dropped)": lambda: in_fresh_process(
            runtime_traced_run, count, bootstrap, topic, count
        ),
    }
    if before:
        tree = before
        runs["async no-op, the build before, no tracing"] = lambda: _in_tree(
            tree, count, bootstrap, topic
        )
    results: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _ in range(rounds):  # interleaved, so a change in the machine's load hits all alike
        for label, run in runs.items():
            results[label].append(run())
    print(f"tracing, {count} events, 6 partitions, {KEYS} keys, median of {rounds} round(s)")
    medians = {
        label: (statistics.median(r for r, _ in rows), statistics.median(c for _, c in rows))
        for label, rows in results.items()
    }
    off_rate, off_cpu = medians["async no-op, tracing off"]
    for label, (rate, cpu) in medians.items():
        ratio = f"{rate / off_rate:.2f}x rate, {cpu / off_cpu:.2f}x CPU/event vs off"
        print(f"  {label:44} {rate:8.0f} ev/s {cpu:5.1f} us CPU/event  {ratio}")


def _in_tree(tree: str, count: int, bootstrap: str, topic: str) -> tuple[float, float]:
    """`runtime_run` as the source tree `tree` has it, in a Python process importing conveyor
    (and bench) from there: `in_fresh_process` would import them from this tree."""
    code = (
        "import json; from bench.consume_support import _measured;"
        "from bench.bench_consume import runtime_run;"
        f"print(json.dumps(_measured(runtime_run, {count}, {bootstrap!r}, {topic!r}, {count})))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([f"{tree}/services", tree])}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, check=True, capture_output=True, text=True
    )
    rate, cpu = json.loads(done.stdout.strip().splitlines()[-1])
    return float(rate), float(cpu)


def noop_section(bootstrap: str, noop_count: int, rounds: int) -> None:
    topic = create_topic(bootstrap, 6)
    fill(bootstrap, topic, noop_count, keys=KEYS)
    runs: dict[str, tuple[Callable[..., float], tuple[Any, ...]]] = {
        "hand-written loop, fastavro to dict + store_offsets": (hand_loop, ()),
        "hand-written loop, codec to typed event + store": (hand_loop, (True,)),
        "conveyor runtime, typed events, async no-op handler": (runtime_run, ()),
        "conveyor runtime, no-op batch handler (500, 50 ms)": (runtime_batch_run, ()),
        "conveyor runtime, sync no-op handler (thread pool)": (runtime_sync_run, ()),
    }
    results: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _ in range(rounds):  # interleaved, so a change in the machine's load hits all alike
        for label, (run, extra) in runs.items():
            measured = in_fresh_process(run, noop_count, bootstrap, topic, noop_count, *extra)
            results[label].append(measured)
    print(f"no-op, {noop_count} events, 6 partitions, 1000 keys, median of {rounds} round(s)")
    print("  (each run in a fresh process; rate first-to-last handled;")
    print("   CPU = process CPU per event, all threads, incl. join)")
    medians = {
        label: (statistics.median(r for r, _ in rows), statistics.median(c for _, c in rows))
        for label, rows in results.items()
    }
    for label, (rate, cpu) in medians.items():
        print(f"  {label:52} {rate:8.0f} ev/s {cpu:5.1f} us CPU/event")
    (hand, hand_cpu), (typed, typed_cpu), (ours, ours_cpu), (batch, batch_cpu), (sync, _) = (
        medians.values()
    )
    print(f"  ratio vs dict loop:  {ours / hand:.2f}x rate, {hand_cpu / ours_cpu:.2f}x CPU/event")
    print("    (target >= 0.8x)")
    print(f"  ratio vs typed loop: {ours / typed:.2f}x rate, {typed_cpu / ours_cpu:.2f}x CPU/event")
    print(
        f"  batch handler vs dict loop: {batch / hand:.2f}x rate, {hand_cpu / batch_cpu:.2f}x CPU"
    )
    print(f"  sync handler vs async handler: {sync / ours:.2f}x rate")


def io_section(bootstrap: str, io_count: int) -> None:
    topic = create_topic(bootstrap, 6)
    fill(bootstrap, topic, io_count, keys=1000)
    base = partition_workers(bootstrap, topic, 3_000, io_seconds=0.01)
    wide, cpu = with_cpu(
        io_count,
        lambda: runtime_run(bootstrap, topic, io_count, io_seconds=0.01, max_in_flight=256),
    )
    print("I/O-bound async handler, 10 ms each, 1000 keys over 6 partitions")
    print(f"  one at a time per partition (3000 events): {base:10.0f} ev/s")
    print(f"  conveyor, max_in_flight 256 ({io_count} events): {wide:10.0f} ev/s")
    print(f"    {cpu:.1f} us CPU/event: one core sustains at most {1e6 / cpu:.0f} ev/s")
    print(f"  ratio: {wide / base:.1f}x (target >= 20x)")


def backoff_section(bootstrap: str, count: int, rounds: int) -> None:
    topic = create_topic(bootstrap, 6)
    fill(bootstrap, topic, count, keys=KEYS)
    rates: dict[bool, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for fail in (False, True):
            rate, _cpu = in_fresh_process(runtime_backoff_run, count, bootstrap, topic, count, fail)
            rates[fail].append(rate)
    calm, backing_off = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"one key backing off in place, {count} events, {KEYS} keys, median of {rounds}")
    print("  (async no-op handler; rate over the other keys' events, first to last handled)")
    print(f"  nothing failing:                {calm:10.0f} ev/s")
    print(f"  {BACKING_OFF_KEY} backing off for 600 s: {backing_off:10.0f} ev/s")
    print(f"  ratio: {backing_off / calm:.2f}x (target about 1.0x)")


def latency_section(bootstrap: str, rate: int, seconds: float) -> None:
    total, after_append = latency_run(bootstrap, rate, seconds)
    whole, consumer_part = latency_metrics(total), latency_metrics(after_append)
    print(f"end-to-end latency, {rate} ev/s for {seconds:.0f} s ({len(total)} events)")
    print(
        f"  publish -> handler start: p50 {whole['p50_ms']:.1f} ms, "
        f"p99 {whole['p99_ms']:.1f} ms (target p99 < 25 ms)"
    )
    print(
        f"  broker append -> handler start (fetch + runtime; 1 ms timestamp resolution): "
        f"p50 {consumer_part['p50_ms']:.1f} ms, p99 {consumer_part['p99_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
