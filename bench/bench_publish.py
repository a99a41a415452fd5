"""Publisher throughput for `UserSignedUp` against two baselines, in the same run:

  raw dicts    fastavro encode of plain dicts + `Producer.produce` with a delivery callback and
               `poll(0)` per event: what bench/peers/raw_confluent.py does in `python -m bench`
  pre-encoded  `Producer.produce` of bytes encoded before the clock starts (the producer's floor)
  Publisher    `Publisher.publish(event)` per typed event, every handle kept and checked settled,
               as bench/peers/conveyor_system.py does

As in the cross-tool harness, the typed events and the dicts are built before the clock starts,
and all three use the same producer settings (idempotent, acks=all, lz4, linger 5 ms,
murmur2_random), a fresh topic, and end with `flush()`, so each number counts events the broker
acknowledged. Unlike the harness, each producer first delivers one warm-up message outside the
clock: connecting and fetching an idempotent producer id take a fixed few hundred milliseconds
that would otherwise hide the per-event cost at this size. Median of `--rounds` interleaved
rounds, wall clock and CPU time of this process (librdkafka's threads included); results also go
to bench/results/publish.json. The garbage collector is run before each clock starts (see
`_clock`). Target: Publisher >= 0.8x raw dicts.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 .venv/bin/python bench/bench_publish.py [--events N]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from fastavro import schemaless_writer

from conveyor import naming
from conveyor.codec.framing import header
from conveyor.publish import Publisher, PublisherConfig
from conveyor.publish.message import MessageBuilder
from conveyor.settings import Settings
from shop_events import USER_TOPIC, UserSignedUp
from tests.project import repo_codec

RESULTS = Path(__file__).resolve().parent / "results" / "publish.json"
EPOCH_MS = 1_790_000_000_000

Run = Callable[[PublisherConfig, str, list[dict[str, Any]]], tuple[float, float]]


def _clock() -> tuple[float, float]:
    # Building the data set leaves the garbage collector a debt of a few hundred thousand young
    # objects; a full collection then falls on whichever run first keeps objects alive (the
    # Publisher's handles: one collection, 60 ms of a 650 ms run), never on the raw loop, which
    # keeps none. Settled here, before every run's clock; collections a run causes itself still
    # count.
    gc.collect()
    return time.perf_counter(), time.process_time()


def _elapsed(started: tuple[float, float]) -> tuple[float, float]:
    """Wall seconds and CPU seconds of this process (all its threads, librdkafka's included)."""
    return time.perf_counter() - started[0], time.process_time() - started[1]


def _records(count: int) -> list[dict[str, Any]]:
    """The harness's shape: string ids and epoch milliseconds, 1,000 keys."""
    return [
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": EPOCH_MS + i,
            "user_id": f"user-{i % 1000:05d}",
            "email": f"user{i % 1000}@example.test",
            "name": f"Someone {i}",
            "referral_code": f"ref-{i % 97}" if i % 2 else None,
        }
        for i in range(count)
    ]


def _event(record: dict[str, Any]) -> UserSignedUp:
    occurred_at = datetime.fromtimestamp(record["occurred_at"] / 1000, UTC)
    return UserSignedUp.model_validate({**record, "occurred_at": occurred_at})


def _warm_producer(config: PublisherConfig, topic: str) -> Producer:
    producer = Producer(config.librdkafka())
    producer.produce(topic, b"warm-up", b"warm-up")
    producer.flush(30)
    return producer


def _produce(producer: Producer, topic: str, value: bytes, key: bytes, headers: Any) -> None:
    while True:
        try:
            producer.produce(topic, value, key, headers=headers)
            return
        except BufferError:
            producer.poll(0.01)


def raw_dicts(
    config: PublisherConfig, topic: str, records: list[dict[str, Any]]
) -> tuple[float, float]:
    schema = repo_codec().writer_schema(UserSignedUp)
    prefix = header(schema.fingerprint)
    producer = _warm_producer(config, topic)
    delivered = [0]

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is None:
            delivered[0] += 1

    started = _clock()
    for record in records:
        buffer = io.BytesIO()
        buffer.write(prefix)
        schemaless_writer(buffer, schema.parsed, record)
        headers = [
            (naming.EVENT_TYPE, UserSignedUp.AVRO_NAME),
            (naming.EVENT_ID, record["event_id"]),
            (naming.CONTENT_TYPE, naming.AVRO_CONTENT_TYPE),
        ]
        while True:
            try:
                producer.produce(
                    topic,
                    buffer.getvalue(),
                    record["user_id"].encode(),
                    headers=headers,
                    on_delivery=on_delivery,
                )
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    elapsed = _elapsed(started)
    assert delivered[0] == len(records), f"raw dicts: {delivered[0]} of {len(records)} delivered"
    return elapsed


def pre_encoded(
    config: PublisherConfig, topic: str, records: list[dict[str, Any]]
) -> tuple[float, float]:
    # Encoded before the clock starts, exactly as the Publisher would encode them.
    build = MessageBuilder(repo_codec(), lambda _declared: topic).build
    encoded = [build(_event(r)) for r in records]
    producer = _warm_producer(config, topic)
    started = _clock()
    for message in encoded:
        _produce(producer, topic, message.value, message.key, message.headers)
        producer.poll(0)
    producer.flush(60)
    return _elapsed(started)


def publisher(
    config: PublisherConfig, topic: str, records: list[dict[str, Any]]
) -> tuple[float, float]:
    events = [_event(r) for r in records]
    with Publisher(config, repo_codec()) as pub:
        pub.publish(_event(_records(1)[0])).wait(30)  # the warm-up message
        started = _clock()
        handles = [pub.publish(event) for event in events]
        pub.flush(60)
        elapsed = _elapsed(started)
    settled = sum(1 for h in handles if h.succeeded())
    assert settled == len(events), f"Publisher: {settled} of {len(events)} handles succeeded"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env(os.environ)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    topic = f"bench-publish-{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(topic, 6, 1)])[topic].result(30)
    config = PublisherConfig(
        bootstrap_servers=settings.bootstrap_servers, topics={USER_TOPIC: topic}
    )
    runs: dict[str, Run] = {
        "raw dicts": raw_dicts,
        "pre-encoded": pre_encoded,
        "Publisher": publisher,
    }
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    ratios: dict[str, list[float]] = {"wall": [], "cpu": []}
    started_load = os.getloadavg()
    try:
        for _ in range(args.rounds):  # interleaved rounds: each ratio compares neighbours
            for name, run in runs.items():
                seconds, cpu_seconds = run(config, topic, _records(args.events))
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
            ratios["wall"].append(wall["raw dicts"][-1] / wall["Publisher"][-1])
            ratios["cpu"].append(cpu["raw dicts"][-1] / cpu["Publisher"][-1])
    finally:
        admin.delete_topics([topic])
    load = " ".join(f"{x:.2f}" for x in started_load)
    print(
        f"{args.events} UserSignedUp events, median of {args.rounds} rounds, "
        f"broker {settings.bootstrap_servers}, load average at start {load}"
    )
    for name in runs:
        per_wall = args.events / statistics.median(wall[name])
        per_cpu = args.events / statistics.median(cpu[name])
        print(f"  {name:<12} {per_wall:>10,.0f} events/s  {per_cpu:>10,.0f} per CPU-s")
    ratio, cpu_ratio = statistics.median(ratios["wall"]), statistics.median(ratios["cpu"])
    print(f"  Publisher / raw dicts = {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (target >= 0.80x)")
    result = {
        "events": args.events,
        "rounds": args.rounds,
        "load_average_at_start": [round(x, 2) for x in started_load],
        "events_per_s": {n: round(args.events / statistics.median(s)) for n, s in wall.items()},
        "events_per_cpu_s": {n: round(args.events / statistics.median(s)) for n, s in cpu.items()},
        "publisher_vs_raw_dicts": {"wall": round(ratio, 2), "cpu": round(cpu_ratio, 2)},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
