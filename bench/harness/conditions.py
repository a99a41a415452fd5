"""The conditions a run was measured under, stated next to every figure."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness.dataset import behind_failures, healthy_count
from bench.harness.environments import conveyor_build, versions
from bench.harness.plan import Benchmark, Scale
from bench.peers.common import LATENCY_WARM_UP_S, AvroFrame, Record

PROJECT_PACKAGES = ["confluent-kafka", "fastavro", "pydantic"]
PEER_PACKAGES = ["aiokafka", "faststream", "quixstreams", "confluent-kafka", "fastavro"]


def common(
    scale: Scale, broker: str, project: Path, peers: Path | None, encoding: str
) -> dict[str, Any]:
    project_versions = versions(project, PROJECT_PACKAGES)
    found: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
        "shared with other work (see load)",
        **machine_load("start"),
        "broker": broker,
        "python": platform.python_version(),
        "scale": f"{scale.name}; {scale.repeats} repetitions, systems run one at a time",
        "encoding": encoding,
        "producer settings (all systems)": "acks=all, idempotent, lz4, linger 5 ms",
        "project packages": _listed(project_versions),
        "conveyor's per-event path": conveyor_build(project),
    }
    if peers is not None:
        found["peer packages"] = _listed(versions(peers, PEER_PACKAGES))
    return found


def machine_load(moment: str) -> dict[str, str]:
    """The load average and, where Linux reports it, the CPU pressure: the share of time some
    runnable task waited for a CPU. On a shared machine the pressure shows contention from
    outside that the load average misses (10-20% with the machine otherwise idle)."""
    found = {f"load average at {moment}": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0].split()[1:4]
    except (OSError, IndexError):
        return found
    averages = "/".join(field.split("=")[1] for field in some)
    found[f"cpu pressure at {moment}"] = f"{averages} % (some, avg10/avg60/avg300)"
    return found


def _listed(found: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in found.items())


def per_benchmark(
    benchmarks: list[Benchmark], scale: Scale, records: list[Record]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for benchmark in benchmarks:
        count = scale.events_for(benchmark.name)
        setup: dict[str, Any] = {"events": count, "partitions": scale.partitions}
        if benchmark.name in {"io_bound", "failure"}:
            setup["keys"] = scale.keys
        if benchmark.name == "io_bound":
            setup["handler"] = f"async sleep {scale.io_delay * 1000:.0f} ms (sync where no async)"
            setup["time cap s"] = scale.io_time_cap
        if benchmark.name == "latency":
            setup["rate"] = f"{scale.rate} events/s for {scale.latency_seconds:g} s"
            setup["measured"] = (
                "every event after a warm-up event made the round trip and after the first "
                f"{LATENCY_WARM_UP_S:g} s of the paced stream"
            )
        if benchmark.name == "failure":
            setup.update(_failure_setup(records[:count]))
            setup["time cap s"] = scale.time_cap
        out[benchmark.name] = setup
    return out


def _failure_setup(records: list[Record]) -> dict[str, int]:
    healthy = healthy_count(records)
    return {
        "failing events": len(records) - healthy,
        "healthy events": healthy,
        "healthy events behind a failure of their key": behind_failures(records),
    }


def verify_encoding(frame: AvroFrame, records: list[Record]) -> str:
    """Whether the peers' fastavro frames are byte-identical to conveyor's codec output."""
    base = "Avro single-object encoding (C3 01, CRC-64-AVRO fingerprint, body) for every system"
    try:
        from shop_events import UserSignedUp
        from tests.project import repo_codec
    except ImportError:
        return base + "; conveyor's codec not available to cross-check"
    codec = repo_codec()
    for record in records[:100]:
        event = UserSignedUp.model_validate(_model_fields(record))
        if codec.encode(event) != frame.encode(record):
            return base + "; WARNING: fastavro frames differ from conveyor's codec"
    return base + "; peers' fastavro frames checked byte-identical to conveyor's codec"


def _model_fields(record: Record) -> dict[str, Any]:
    return {**record, "occurred_at": datetime.fromtimestamp(record["occurred_at"] / 1000, UTC)}
