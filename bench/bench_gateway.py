"""Gateway latency under a fixed load, and how far the outbox trails it.

Starts the gateway (`python -m gateway`, SQLite, on a free loopback port, publishing to a fresh
topic), then a separate load process that sends `POST /signup` at a fixed rate (open loop: each
request leaves at its scheduled time, and its latency counts from that time, so a stall is not
hidden). The topic uses LogAppendTime, so broker time minus the event's `occurred_at` is the
outbox lag (request commit -> written to Kafka). Target: p99 under 20 ms. Results also go to
bench/results/gateway.json.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 .venv/bin/python bench/bench_gateway.py \
        [--rate 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from conveyor.settings import Settings
from shop_events import USER_TOPIC
from tests.project import repo_codec

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "gateway.json"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _load(url: str, rate: float, seconds: float, workers: int = 16) -> dict[str, object]:
    """Open loop: request i is due at start + i/rate; a pool of threads with one keep-alive
    connection each takes due requests in order. (`http.client`: httpx's async client could not
    itself sustain 200 requests/s on this 2-core machine, so it measured itself.)"""
    host, port = url.removeprefix("http://").split(":")
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = itertools.count()

    def worker() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while (i := next(counter)) < total:
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps(
                {"email": f"load-{i}-{uuid.uuid4().hex[:6]}@example.org", "name": "L"}
            )
            conn.request("POST", "/signup", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - due)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {
        "latencies": latencies,
        "send_rate": total / elapsed,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def load_process(url: str, rate: float, seconds: float, out: str) -> None:
    """The load generator's own process: results go to `out` as JSON."""
    Path(out).write_text(json.dumps(_load(url, rate, seconds)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_live(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError("gateway did not start")


def _server_side(metrics: str) -> str:
    """Mean and the p99 bucket of the gateway's `/signup` histogram, from its /metrics text."""
    buckets: list[tuple[float, float]] = []
    total = count = 0.0
    for line in metrics.splitlines():
        if not line.startswith("gateway_request_seconds") or 'route="/signup"' not in line:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if line.startswith("gateway_request_seconds_bucket"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float(bound), value))
        elif line.startswith("gateway_request_seconds_sum"):
            total = value
        elif line.startswith("gateway_request_seconds_count"):
            count = value
    if not count:
        return "no requests"
    p99 = next(bound for bound, seen in sorted(buckets) if seen >= 0.99 * count)
    return f"mean {total / count * 1000:.1f} ms, p99 <= {p99 * 1000:g} ms"


def _outbox_lags(bootstrap: str, topic: str, expected: int) -> list[float]:
    """Broker append time minus each event's occurred_at, in seconds."""
    codec = repo_codec()
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}"})
    partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    lags: list[float] = []
    deadline = time.monotonic() + 60
    while len(lags) < expected and time.monotonic() < deadline:
        for msg in consumer.consume(500, timeout=1.0):
            value = msg.value()
            if msg.error() or value is None:
                continue
            event = codec.decode(value)
            lags.append(msg.timestamp()[1] / 1000 - event.occurred_at.timestamp())
    consumer.close()
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--load", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_process(args.load[0], args.rate, args.seconds, args.load[1])
        return

    settings = Settings.from_env(os.environ)
    bootstrap = settings.bootstrap_servers
    topic = f"bench-gateway-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, 6, 1, config={"message.timestamp.type": "LogAppendTime"})
    admin.create_topics([new])[topic].result(30)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--port", str(port), "--database",
             f"sqlite:///{tmp}/gw.sqlite3", "--topic", f"{USER_TOPIC}={topic}"],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=Path(tmp, "gateway.log").open("wb"),  # noqa: SIM115 (the process owns it)
        )  # fmt: skip
        try:
            _wait_live(url)
            out = f"{tmp}/load.json"
            subprocess.run(
                [sys.executable, __file__, "--rate", str(args.rate), "--seconds",
                 str(args.seconds), "--load", url, out],
                check=True,
            )  # fmt: skip
            result = json.loads(Path(out).read_text())
            server = _server_side(httpx.get(f"{url}/metrics", timeout=10).text)
        finally:
            gateway.terminate()
            gateway.wait(60)
    latencies = [x * 1000 for x in result.pop("latencies")]
    lags = [x * 1000 for x in _outbox_lags(bootstrap, topic, len(latencies))]
    admin.delete_topics([topic])

    print(f"POST /signup at {args.rate:.0f}/s for {args.seconds:.0f} s, SQLite, broker {bootstrap}")
    print(
        f"  requests {len(latencies)}  statuses {result['statuses']}"
        f"  load process completed {result['send_rate']:.0f}/s"
    )
    print(f"  server-side time in the gateway (its own histogram): {server}")
    p50, p99 = statistics.median(latencies), _percentile(latencies, 0.99)
    print(
        f"  client latency ms (from each request's scheduled time)  p50 {p50:.1f}  p99 {p99:.1f}"
        f"  max {max(latencies):.1f}  (target p99 < 20)"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "rate": args.rate,
                "seconds": args.seconds,
                "requests": len(latencies),
                "statuses": result["statuses"],
                "latency_ms": {"p50": round(p50, 1), "p99": round(p99, 1)},
                "server_side": server,
                "outbox_lag_ms": {
                    "p50": round(statistics.median(lags), 1) if lags else None,
                    "p99": round(_percentile(lags, 0.99), 1) if lags else None,
                },
            },
            indent=2,
        )
        + "\n"
    )
    if lags:
        print(
            f"  outbox lag ms (commit -> in Kafka)  p50 {statistics.median(lags):.1f}"
            f"  p99 {_percentile(lags, 0.99):.1f}  max {max(lags):.1f}  events {len(lags)}"
        )


if __name__ == "__main__":
    main()
