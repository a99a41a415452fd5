"""Failure isolation: healthy keys' throughput with 1% of keys failing permanently vs none.

Two services run side by side in one process (so both share whatever else loads the machine)
against the broker in KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092), each on fresh topics with
the same pre-produced backlog of `UserSignedUp` events. The ordered
handler takes ~1 ms of simulated I/O per event. In the failing run, 1% of the keys raise a
retryable error every time: each waits through its attempts in place, is dead-lettered and
parked, and its later events follow it to the dead letters. Prints the healthy throughput of
both services and their ratio (the target is >= 0.9), and writes
bench/results/failure_isolation.json.

The pair runs `--pairs` times; the median of the per-pair ratios is reported.

    python bench/bench_failure_isolation.py [--keys 400] [--per-key 50] [--partitions 6] [--pairs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from conveyor import naming
from conveyor.log_output import configure_json_logs
from conveyor.parking import PARKED_TOPIC_CONFIG
from conveyor.policies import Policies
from conveyor.publish.message import Headers
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service, ServiceSettings, run_service
from conveyor.settings import Settings
from shop_events.users import UserSignedUp
from tests.project import repo_codec

RESULTS = Path(__file__).resolve().parent / "results" / "failure_isolation.json"


def create_topics(bootstrap: str, names: dict[str, dict[str, str]], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = [NewTopic(name, partitions, 1, config=config) for name, config in names.items()]
    for future in admin.create_topics(topics, operation_timeout=30).values():
        future.result(timeout=30)


def produce_backlog(bootstrap: str, topic: str, keys: list[str], per_key: int) -> int:
    codec = repo_codec()
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "partitioner": "murmur2_random"}
    )
    for seq in range(per_key):
        for key in keys:
            event = UserSignedUp(user_id=key, email=f"{key}@example.test", name=f"n{seq}")
            headers: Headers = [(naming.EVENT_TYPE, event.AVRO_NAME.encode())]
            while True:
                try:
                    producer.produce(topic, codec.encode(event), key.encode(), headers=headers)
                    break
                except BufferError:
                    producer.poll(0.1)
    producer.flush(60)
    return len(keys) * per_key


class Run:
    """One service on its own fresh topics and backlog; counts its healthy events."""

    def __init__(
        self, bootstrap: str, keys: list[str], per_key: int, partitions: int, failing: set[str]
    ) -> None:
        run_id = uuid.uuid4().hex[:8]
        self.topic = f"bench-isolation-{run_id}"
        self.service = Service(f"bench-isolation-{run_id}")
        create_topics(
            bootstrap,
            {
                self.topic: {},
                naming.dead_letter_topic(self.service.name): {},
                naming.parked_topic(self.service.name): PARKED_TOPIC_CONFIG,
            },
            partitions,
        )
        produce_backlog(bootstrap, self.topic, keys, per_key)
        self.expected = (len(keys) - len(failing)) * per_key
        self.handled: list[float] = []
        self.done = threading.Event()
        self.stop = threading.Event()
        lock = threading.Lock()
        retry = RetryPolicy(attempts=3, backoff=Backoff(delay=0.05, max_delay=0.2))
        policy = HandlerPolicy(ordering=Ordering.ORDERED, retry=retry)

        @self.service.handler(UserSignedUp, policy=policy)
        async def sync_crm(event: UserSignedUp, ctx: Context) -> None:
            await asyncio.sleep(0.001)
            if event.user_id in failing:
                raise ConnectionError("crm rejects this contact")
            with lock:
                self.handled.append(time.perf_counter())
                if len(self.handled) == self.expected:
                    self.done.set()

        settings = ServiceSettings(
            http_port=None, commit_interval=0.5, topic_map={UserSignedUp.TOPIC: self.topic}
        )
        self.thread = threading.Thread(
            target=run_service,
            args=(self.service, Settings.from_env(os.environ), settings, repo_codec()),
            kwargs={"stop": self.stop, "extension": Policies(bootstrap)},
            daemon=True,
        )

    def finish(self) -> float:
        """Waits for every healthy event, stops the service; healthy events per second."""
        finished = self.done.wait(timeout=300)
        self.stop.set()
        self.thread.join(60)
        if not finished:
            raise SystemExit(f"{self.service.name}: {len(self.handled)}/{self.expected} handled")
        return (len(self.handled) - 1) / (self.handled[-1] - self.handled[0])


def run_pair(
    bootstrap: str, keys: list[str], per_key: int, partitions: int, failing: set[str]
) -> tuple[float, float]:
    """Both services at once in this process, so they share whatever else loads the machine."""
    baseline = Run(bootstrap, keys, per_key, partitions, set())
    with_failures = Run(bootstrap, keys, per_key, partitions, failing)
    baseline.thread.start()
    with_failures.thread.start()
    return baseline.finish(), with_failures.finish()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=400)
    parser.add_argument("--per-key", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    configure_json_logs("ERROR")  # dead letters log warnings by design; keep the output readable
    bootstrap = Settings.from_env(os.environ).bootstrap_servers
    keys = [f"user-{i:05d}" for i in range(args.keys)]
    failing = set(keys[::100])  # 1% of the keys
    baselines, failures, ratios = [], [], []
    for _ in range(args.pairs):
        base, failed = run_pair(bootstrap, keys, args.per_key, args.partitions, failing)
        baselines.append(base)
        failures.append(failed)
        ratios.append(failed / base)
    baseline, with_failures = statistics.median(baselines), statistics.median(failures)
    ratio = statistics.median(ratios)
    result = {
        "events": args.keys * args.per_key,
        "keys": args.keys,
        "failing_keys": len(failing),
        "partitions": args.partitions,
        "healthy_events_per_s_baseline": round(baseline, 1),
        "healthy_events_per_s_with_failures": round(with_failures, 1),
        "ratio": round(ratio, 3),
        "pairs": args.pairs,
        "runs_baseline": [round(x, 1) for x in baselines],
        "runs_with_failures": [round(x, 1) for x in failures],
        "ratios": [round(x, 3) for x in ratios],
    }
    print(json.dumps(result, indent=2))
    print(f"healthy throughput with 1% failing keys: {ratio:.2f}x the baseline (target >= 0.9)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
