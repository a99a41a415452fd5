"""`python -m bench` (`make bench`): conveyor side by side with raw confluent-kafka, aiokafka,
FastStream and Quix Streams, on one broker, on the same data; writes bench/results/latest.*.

    python -m bench                      # every benchmark, every system, 200,000 events
    python -m bench --quick              # small scale, two repetitions, for development
    python -m bench --only publish,consume --systems raw_confluent,conveyor_system

A local Kafka node is started for the run unless KAFKA_BOOTSTRAP_SERVERS names a cluster.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import conditions
from bench.harness.broker import broker
from bench.harness.dataset import make_records, write_records
from bench.harness.environments import BENCH_DIR, REPO_ROOT, peers_python, project_python
from bench.harness.plan import BASELINE, BENCHMARKS, FULL, QUICK, SYSTEMS
from bench.harness.report import write_json, write_markdown
from bench.harness.runner import RunContext, run_all
from bench.harness.stats import figures
from bench.peers.common import AvroFrame
from conveyor.settings import Settings

DEFAULT_SCHEMA = REPO_ROOT / "schemas" / "users" / "UserSignedUp.v2.avsc"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scale for development")
    parser.add_argument("--events", type=int, help="events for benchmarks 1 and 2")
    parser.add_argument("--repeats", type=int, help="repetitions (median and spread)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated benchmarks: " + ",".join(b.name for b in BENCHMARKS),
    )
    parser.add_argument(
        "--systems",
        default="",
        help="comma-separated systems: " + ",".join(s.name for s in SYSTEMS),
    )
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="results folder")
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA, help="UserSignedUp schema")
    return parser.parse_args(argv)


def _chosen(text: str, names: list[str]) -> list[str]:
    wanted = [n.strip() for n in text.split(",") if n.strip()] or names
    unknown = set(wanted) - set(names)
    if unknown:
        raise SystemExit(f"unknown: {', '.join(sorted(unknown))}; choose from {', '.join(names)}")
    return [n for n in names if n in wanted]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.events:
        scale = dataclasses.replace(scale, events=args.events)
    if args.repeats:
        scale = dataclasses.replace(scale, repeats=args.repeats)
    benchmarks = [
        b for b in BENCHMARKS if b.name in _chosen(args.only, [b.name for b in BENCHMARKS])
    ]
    chosen = _chosen(args.systems, [s.name for s in SYSTEMS])
    systems = [s for s in SYSTEMS if s.name in chosen]
    if BASELINE not in chosen:
        print(
            "bench: without raw_confluent there is no baseline; ratios stay empty", file=sys.stderr
        )
    if not args.schema.exists():
        raise SystemExit(f"bench: no schema at {args.schema} (--schema names UserSignedUp's)")

    peers = peers_python()  # also draws the plot
    pythons = {s.name: peers if s.peer else project_python() for s in SYSTEMS}
    settings = Settings.from_env(os.environ)
    external = bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    largest = max(scale.events_for(b.name) for b in benchmarks)
    records = make_records(largest, scale.keys, scale.failure_ratio)
    frame = AvroFrame(str(args.schema))
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as work:
        dataset = write_records(records, Path(work) / "events.jsonl")
        log_dir = Path(work) / "logs"
        log_dir.mkdir()
        with broker(settings, external) as info:
            common = conditions.common(
                scale,
                info.description,
                project_python(),
                peers,
                conditions.verify_encoding(frame, records),
            )
            ctx = RunContext(info.bootstrap, scale, records, dataset, args.schema, pythons, log_dir)
            outcomes = run_all(ctx, benchmarks, systems)
        common |= conditions.machine_load("end")
        _keep_logs(log_dir, args.out / "logs")

    found = figures(outcomes)
    every = {"common": common, "benchmarks": conditions.per_benchmark(benchmarks, scale, records)}
    write_json(args.out / "latest.json", found, outcomes, every)
    write_markdown(
        args.out / "latest.md",
        figures=found,
        outcomes=outcomes,
        conditions=every,
        systems=chosen,
        benchmarks=benchmarks,
    )
    plot = [str(peers), "-m", "bench.harness.plot", str(args.out / "latest.json")]
    subprocess.run([*plot, str(args.out / "latest.png")], cwd=REPO_ROOT, check=True)
    print(f"bench: wrote {args.out / 'latest.md'}, latest.json and latest.png")
    return 0


def _keep_logs(source: Path, target: Path) -> None:
    """The adapters' stdout and stderr, for when a figure needs explaining."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.log"):
        old.unlink()
    for log in source.glob("*.log"):
        (target / log.name).write_text(log.read_text())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
