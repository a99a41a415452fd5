"""Gateway latency under a fixed open-loop load, beside the floor, and how far the outbox trails.

For each database (SQLite, and PostgreSQL when CONVEYOR_TEST_POSTGRES_DSN is set), each rate and
each worker count (PostgreSQL only; SQLite runs one process), the same load (signups and orders,
alternating) goes first to the floor (`bench/gateway_floor.py`: an ASGI app on the same server
setup, with as many workers, that only answers 202), then to the gateway (`python -m gateway` on
a free loopback port, publishing to fresh topics). Latency counts from each request's scheduled
time (`bench/gateway_load.py`). The topics use LogAppendTime, so broker time minus the event's
`occurred_at` is the outbox lag (request handled -> written to Kafka). The CPU per request is
the CPU time of the gateway's processes (workers and their relays) over the requests served.
Targets: client p99 < 20 ms at 200/s and < 50 ms at 1,000/s; outbox lag p99 < 50 ms.

    # the issue's matrix: 200/s and 1,000/s, SQLite and PostgreSQL, 60 s each (about 11 min)
    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 CONVEYOR_TEST_POSTGRES_DSN=postgresql://... \
        .venv/bin/python -m bench.bench_gateway [--workers 1 --workers 2]
    .venv/bin/python -m bench.bench_gateway --quick      # 15 s per row, for development
    .venv/bin/python -m bench.bench_gateway --rate 300 --mix signup --no-floor --seconds 20

Results go to bench/results/gateway.json (`--quick`: gateway-quick.json; `--out` to choose).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from bench.gateway_load import SEED_PREFIX
from conveyor.settings import Settings
from shop_events import ORDER_TOPIC, USER_TOPIC
from tests.project import repo_codec

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "gateway.json"
QUICK_RESULTS = REPO / "bench" / "results" / "gateway-quick.json"
QUICK_SECONDS = 15.0
_PER_LOAD_PROCESS = 500  # requests/s one load process sends without measuring itself


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p99, p99.9 and max of `values` (ms), rounded for the report."""
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.5), "p99": at(0.99), "p99.9": at(0.999), "max": round(ordered[-1], 1)}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_live(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not start")


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of `pid` and of its child processes still running (the
    workers), in seconds."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(int(child)) for child in children)


@contextmanager
def _server(args: list[str], log: Path, live_url: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'services'}"}
    with log.open("wb") as err:
        process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait_live(live_url)
        yield process
    finally:
        process.terminate()
        process.wait(60)


def _load(
    port: int, rate: float, seconds: float, tmp: str, mix: str = "mixed"
) -> tuple[list[float], dict[str, int]]:
    """Run the load processes against `port`; latencies in ms and statuses of all of them."""
    parts = max(1, math.ceil(rate / _PER_LOAD_PROCESS))
    start = time.time() + 2.0  # time for each process to sign up its users first
    outs = [f"{tmp}/load-{uuid.uuid4().hex[:6]}-{p}.json" for p in range(parts)]
    loaders = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from bench.gateway_load import main; main(sys.argv[1:])",
                "127.0.0.1",
                str(port),
                str(rate),
                str(seconds),
                repr(start),
                str(p),
                str(parts),
                out,
                mix,
            ],
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        for p, out in enumerate(outs)
    ]
    for loader in loaders:
        if loader.wait() != 0:
            raise RuntimeError("a load process failed")
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    for out in outs:
        part = json.loads(Path(out).read_text())
        latencies += [x * 1000 for x in part["latencies"]]
        for status, n in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    return latencies, statuses


def _server_side(metrics: str) -> dict[str, float]:
    """The gateway's own view from its request histogram: mean and the p99 bucket bound (ms)."""
    buckets: dict[float, float] = {}
    total = count = 0.0
    for line in metrics.splitlines():
        if not line.startswith("gateway_request_seconds") or "/livez" in line:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if line.startswith("gateway_request_seconds_bucket"):
            bound = float(line.split('le="', 1)[1].split('"', 1)[0])
            buckets[bound] = buckets.get(bound, 0.0) + value
        elif line.startswith("gateway_request_seconds_sum"):
            total += value
        elif line.startswith("gateway_request_seconds_count"):
            count += value
    if not count:
        return {}
    p99 = next(bound for bound, seen in sorted(buckets.items()) if seen >= 0.99 * count)
    return {"mean": round(total / count * 1000, 2), "p99_bucket": p99 * 1000}


def _outbox_lags(bootstrap: str, topics: list[str], expected: int) -> list[float]:
    """Broker append time minus each timed event's occurred_at, in ms."""
    codec = repo_codec()
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}"})
    assignment = []
    for topic in topics:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        assignment += [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]
    consumer.assign(assignment)
    lags: list[float] = []
    deadline = time.monotonic() + 60
    while len(lags) < expected and time.monotonic() < deadline:
        for msg in consumer.consume(500, timeout=1.0):
            value = msg.value()
            if msg.error() or value is None:
                continue
            event = codec.decode(value)
            if str(getattr(event, "email", "")).startswith(SEED_PREFIX):
                continue  # signed up before the clock started, while the relay's producer connected
            lags.append((msg.timestamp()[1] / 1000 - event.occurred_at.timestamp()) * 1000)
    consumer.close()
    return lags


@contextmanager
def _database_url(database: str, tmp: str) -> Iterator[str]:
    """A SQLite file, or a PostgreSQL database of its own (dropped afterwards): the shared
    server's default database may hold other gateways' outbox rows and relays."""
    if database == "sqlite":
        yield f"sqlite:///{tmp}/gateway.sqlite3"
        return
    dsn = os.environ.get("CONVEYOR_TEST_POSTGRES_DSN")
    if not dsn:
        raise SystemExit("--database postgres needs CONVEYOR_TEST_POSTGRES_DSN")
    name = f"bench_gateway_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlsplit(dsn)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _fresh_topics(admin: AdminClient) -> dict[str, str]:
    topics = {
        declared: f"bench-gw-{declared}-{uuid.uuid4().hex[:8]}"
        for declared in (USER_TOPIC, ORDER_TOPIC)
    }
    news = [
        NewTopic(t, 6, 1, config={"message.timestamp.type": "LogAppendTime"})
        for t in topics.values()
    ]
    for future in admin.create_topics(news).values():
        future.result(30)
    return topics


@dataclass(frozen=True)
class Run:
    """One row of the matrix."""

    database: str
    rate: float
    seconds: float
    workers: int = 1
    mix: str = "mixed"  # see bench/gateway_load.py
    floor: bool = True


def measure(run: Run, bootstrap: str) -> dict[str, object]:
    """One database at one rate: floor first, then the gateway, under the same load."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    workers = ["--workers", str(run.workers)]
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        floor: list[float] = []
        if run.floor:
            floor_cmd = [sys.executable, "-m", "bench.gateway_floor", str(port), str(run.workers)]
            with _server(floor_cmd, Path(tmp, "floor.log"), url):
                floor, _ = _load(port, run.rate, run.seconds, tmp, run.mix)
        topics = _fresh_topics(admin)
        admin_port = _free_port()
        gateway_cmd = [sys.executable, "-m", "gateway", "--port", str(port), "--admin-port",
                       str(admin_port), *workers]  # fmt: skip
        for declared, actual in topics.items():
            gateway_cmd += ["--topic", f"{declared}={actual}"]
        admin_url = f"http://127.0.0.1:{admin_port}"
        with (
            _database_url(run.database, tmp) as database_url,
            _server(
                [*gateway_cmd, "--database", database_url], Path(tmp, "gateway.log"), admin_url
            ) as gateway,
        ):
            for worker in range(1, run.workers):  # each worker has an admin port of its own
                _wait_live(f"http://127.0.0.1:{admin_port + worker}")
            cpu_before = _cpu_seconds(gateway.pid)
            latencies, statuses = _load(port, run.rate, run.seconds, tmp, run.mix)
            cpu = _cpu_seconds(gateway.pid) - cpu_before
            server = _server_side(
                "\n".join(
                    httpx.get(f"http://127.0.0.1:{admin_port + worker}/metrics", timeout=10).text
                    for worker in range(run.workers)
                )
            )
        accepted = sum(n for status, n in statuses.items() if status == "202")
        lags = _outbox_lags(bootstrap, list(topics.values()), accepted)
        admin.delete_topics(list(topics.values()))
    return {
        "database": run.database,
        "rate": run.rate,
        "seconds": run.seconds,
        "workers": run.workers,
        "mix": run.mix,
        "requests": len(latencies),
        "statuses": statuses,
        "gateway_ms": percentiles(latencies),
        "floor_ms": percentiles(floor),
        "server_side_ms": server,
        "gateway_cpu_ms_per_request": round(cpu / max(1, len(latencies)) * 1000, 3),
        "outbox_lag_ms": percentiles(lags),
        "events_in_kafka": len(lags),
    }


def _row(r: dict[str, object]) -> str:
    def cells(key: str) -> str:
        p = r[key]
        assert isinstance(p, dict)
        return " / ".join(f"{p.get(q, float('nan')):.1f}" for q in ("p50", "p99", "p99.9", "max"))

    return (
        f"| {r['database']} | {r['workers']} | {r['rate']:.0f}/s {r['mix']} | {cells('gateway_ms')}"
        f" | {cells('floor_ms')} | {cells('outbox_lag_ms')} | {r['gateway_cpu_ms_per_request']} |"
    )


def plan(args: argparse.Namespace) -> list[Run]:
    """The rows to run, in order: per database, per worker count, per rate."""
    databases = args.database or ["sqlite"] + (
        ["postgres"] if os.environ.get("CONVEYOR_TEST_POSTGRES_DSN") else []
    )
    seconds = args.seconds or (QUICK_SECONDS if args.quick else 60.0)
    runs = []
    for database in databases:
        for workers in [1] if database == "sqlite" else args.workers or [1]:
            for rate in args.rate or [200.0, 1000.0]:
                runs.append(Run(database, rate, seconds, workers, args.mix, not args.no_floor))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, action="append", help="default: 200 and 1000")
    parser.add_argument("--seconds", type=float, help=f"per row (60; --quick {QUICK_SECONDS:.0f})")
    parser.add_argument("--database", choices=("sqlite", "postgres"), action="append")
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="gateway processes for the PostgreSQL rows (repeatable; default 1)",
    )
    parser.add_argument("--mix", choices=("mixed", "signup", "order"), default="mixed")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor app's runs")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:.0f} s per row")
    parser.add_argument("--out", type=Path, help="results file (default: by --quick)")
    args = parser.parse_args()
    runs = plan(args)
    out = args.out or (QUICK_RESULTS if args.quick else RESULTS)
    bootstrap = Settings.from_env(os.environ).bootstrap_servers
    load = os.getloadavg()
    minutes = sum(r.seconds * (2 if r.floor else 1) + 20 for r in runs) / 60
    print(
        f"{os.cpu_count()} cores, load average {load[0]:.1f} at the start; broker {bootstrap};"
        f" {len(runs)} rows, about {minutes:.0f} min"
    )
    print(
        "| database | workers | rate | gateway p50 / p99 / p99.9 / max ms | floor (same)"
        " | outbox lag (same) | gateway CPU ms/request |"
    )
    print("|---|---|---|---|---|---|---|")
    results = []
    for run in runs:
        result = measure(run, bootstrap)
        results.append(result)
        print(_row(result), flush=True)
        print(
            f"    statuses {result['statuses']}, server side {result['server_side_ms']},"
            f" events {result['events_in_kafka']}",
            flush=True,
        )
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"cores": os.cpu_count(), "load_average_at_start": load[0], "runs": results}, indent=2
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
