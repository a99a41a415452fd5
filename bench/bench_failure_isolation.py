"""Failure isolation: healthy keys' throughput with 1% of keys failing permanently vs none.

Two runs in one process against the broker in KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092),
each on fresh topics with the same pre-produced backlog of `UserSignedUp` events. The ordered
handler takes ~1 ms of simulated I/O per event. In the failing run, 1% of the keys raise a
retryable error every time: each waits through its attempts in place, is dead-lettered and
parked, and its later events follow it to the dead letters. Prints the healthy throughput of
both runs and their ratio (the target is >= 0.9), and writes bench/results/failure_isolation.json.

The two kinds of run alternate `--pairs` times and the medians are compared, because the
machine is shared and a single pair is noisy.

    python bench/bench_failure_isolation.py [--keys 200] [--per-key 50] [--partitions 6] [--pairs 3]
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
from confluent_kafka.admin import AdminClient, NewTopic

from conveyor import naming
from conveyor.codec import default_codec
from conveyor.events.users import UserSignedUp
from conveyor.parking import PARKED_TOPIC_CONFIG
from conveyor.policies import Policies
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service, ServiceSettings, run_service
from conveyor.runtime.logs import configure_json_logs
from conveyor.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "failure_isolation.json"


def create_topics(bootstrap: str, names: dict[str, dict[str, str]], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = [NewTopic(name, partitions, 1, config=config) for name, config in names.items()]
    for future in admin.create_topics(topics, operation_timeout=30).values():
        future.result(timeout=30)


def produce_backlog(bootstrap: str, topic: str, keys: list[str], per_key: int) -> int:
    codec = default_codec()
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "partitioner": "murmur2_random"}
    )
    for seq in range(per_key):
        for key in keys:
            event = UserSignedUp(user_id=key, email=f"{key}@example.test", name=f"n{seq}")
            headers = [(naming.EVENT_TYPE, event.AVRO_NAME.encode())]
            while True:
                try:
                    producer.produce(topic, codec.encode(event), key.encode(), headers=headers)
                    break
                except BufferError:
                    producer.poll(0.1)
    producer.flush(60)
    return len(keys) * per_key


def run_once(
    bootstrap: str, keys: list[str], per_key: int, partitions: int, failing: set[str]
) -> float:
    """Healthy events per second of one run."""
    run_id = uuid.uuid4().hex[:8]
    topic = f"bench-isolation-{run_id}"
    service = Service(f"bench-isolation-{run_id}")
    create_topics(
        bootstrap,
        {
            topic: {},
            naming.dead_letter_topic(service.name): {},
            naming.parked_topic(service.name): PARKED_TOPIC_CONFIG,
        },
        partitions,
    )
    produce_backlog(bootstrap, topic, keys, per_key)
    healthy_expected = (len(keys) - len(failing)) * per_key
    handled: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    retry = RetryPolicy(attempts=3, backoff=Backoff(delay=0.05, max_delay=0.2))

    @service.handler(UserSignedUp, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=retry))
    async def sync_crm(event: UserSignedUp, ctx: Context) -> None:
        await asyncio.sleep(0.001)
        if event.user_id in failing:
            raise ConnectionError("crm rejects this contact")
        with lock:
            handled.append(time.perf_counter())
            if len(handled) == healthy_expected:
                done.set()

    settings = ServiceSettings(
        http_port=None, commit_interval=0.5, topic_map={UserSignedUp.TOPIC: topic}
    )
    stop = threading.Event()
    thread = threading.Thread(
        target=run_service,
        args=(service, Settings.from_env(os.environ), settings, default_codec()),
        kwargs={"stop": stop, "extension": Policies(bootstrap)},
        daemon=True,
    )
    thread.start()
    finished = done.wait(timeout=300)
    stop.set()
    thread.join(60)
    if not finished:
        raise SystemExit(f"run {run_id}: only {len(handled)}/{healthy_expected} healthy events")
    return (len(handled) - 1) / (handled[-1] - handled[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--per-key", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    configure_json_logs("ERROR")  # dead letters log warnings by design; keep the output readable
    bootstrap = Settings.from_env(os.environ).bootstrap_servers
    keys = [f"user-{i:05d}" for i in range(args.keys)]
    failing = set(keys[::100])  # 1% of the keys
    baselines, failures = [], []
    for _ in range(args.pairs):
        baselines.append(run_once(bootstrap, keys, args.per_key, args.partitions, set()))
        failures.append(run_once(bootstrap, keys, args.per_key, args.partitions, failing))
    baseline, with_failures = statistics.median(baselines), statistics.median(failures)
    ratio = with_failures / baseline
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
    }
    print(json.dumps(result, indent=2))
    print(f"healthy throughput with 1% failing keys: {ratio:.2f}x the baseline (target >= 0.9)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
