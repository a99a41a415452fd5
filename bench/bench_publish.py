"""Publisher throughput for `UserSignedUp` against two baselines, in the same run:

  hand loop    pydantic validation + fastavro encode + `Producer.produce` (+ the same headers)
  pre-encoded  `Producer.produce` of bytes encoded before the clock starts
  Publisher    `Publisher.publish(UserSignedUp.model_validate(...))` with a delivery handle each

All three use the same producer settings (idempotent, acks=all, lz4, linger 5 ms, murmur2_random)
and a fresh topic, and end with `flush()`, so each number counts events the broker
acknowledged. Best of `--rounds` interleaved rounds, wall clock and CPU time of this process;
results also go to bench/results/publish.json.
Target: Publisher >= 0.8x the hand loop.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 .venv/bin/python bench/bench_publish.py [--events N]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from fastavro import schemaless_writer

from conveyor import naming
from conveyor.codec import default_codec
from conveyor.codec.framing import header
from conveyor.events import USER_TOPIC, UserSignedUp
from conveyor.publish import Publisher, PublisherConfig
from conveyor.publish.message import build_message
from conveyor.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "publish.json"


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _elapsed(started: tuple[float, float]) -> tuple[float, float]:
    """Wall seconds and CPU seconds of this process (all its threads, librdkafka's included)."""
    return time.perf_counter() - started[0], time.process_time() - started[1]


def _inputs(count: int) -> list[dict[str, Any]]:
    return [
        {
            "event_id": str(uuid.uuid4()),
            "user_id": f"user-{i}",
            "email": f"user{i}@example.org",
            "name": f"User {i}",
            "referral_code": None,
        }
        for i in range(count)
    ]


def _produce(producer: Producer, topic: str, value: bytes, key: bytes, headers: Any) -> None:
    while True:
        try:
            producer.produce(topic, value, key, headers=headers)
            return
        except BufferError:
            producer.poll(0.01)


def hand_loop(
    config: PublisherConfig, topic: str, inputs: list[dict[str, Any]]
) -> tuple[float, float]:
    schema = default_codec().writer_schema(UserSignedUp)
    prefix = header(schema.fingerprint)
    producer = Producer(config.librdkafka())
    started = _clock()
    for data in inputs:
        event = UserSignedUp.model_validate(data)
        buffer = io.BytesIO()
        buffer.write(prefix)
        schemaless_writer(buffer, schema.parsed, event.model_dump())
        headers = [
            (naming.EVENT_TYPE, event.AVRO_NAME),
            (naming.EVENT_ID, str(event.event_id)),
            (naming.CONTENT_TYPE, naming.AVRO_CONTENT_TYPE),
        ]
        _produce(producer, topic, buffer.getvalue(), event.user_id.encode(), headers)
        producer.poll(0)
    producer.flush(60)
    return _elapsed(started)


def pre_encoded(
    config: PublisherConfig, topic: str, inputs: list[dict[str, Any]]
) -> tuple[float, float]:
    codec = default_codec()
    # Encoded before the clock starts, exactly as the Publisher would encode them.
    encoded = [
        build_message(UserSignedUp.model_validate(data), codec, lambda _declared: topic)
        for data in inputs
    ]
    producer = Producer(config.librdkafka())
    started = _clock()
    for message in encoded:
        _produce(producer, topic, message.value, message.key, message.headers)
        producer.poll(0)
    producer.flush(60)
    return _elapsed(started)


def publisher(
    config: PublisherConfig, topic: str, inputs: list[dict[str, Any]]
) -> tuple[float, float]:
    codec = default_codec()
    with Publisher(config, codec) as pub:
        started = _clock()
        for data in inputs:
            pub.publish(UserSignedUp.model_validate(data))
        pub.flush(60)
        return _elapsed(started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings.from_env(os.environ)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    topic = f"bench-publish-{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(topic, 6, 1)])[topic].result(30)
    config = PublisherConfig(
        bootstrap_servers=settings.bootstrap_servers, topics={USER_TOPIC: topic}
    )
    runs: dict[str, Callable[[PublisherConfig, str, list[dict[str, Any]]], tuple[float, float]]] = {
        "hand loop": hand_loop,
        "pre-encoded": pre_encoded,
        "Publisher": publisher,
    }
    best: dict[str, float] = {}
    best_cpu: dict[str, float] = {}
    try:
        for _ in range(args.rounds):  # interleaved rounds, best of each, to damp a busy machine
            for name, run in runs.items():
                seconds, cpu = run(config, topic, _inputs(args.events))
                best[name] = min(best.get(name, float("inf")), seconds)
                best_cpu[name] = min(best_cpu.get(name, float("inf")), cpu)
    finally:
        admin.delete_topics([topic])
    broker = settings.bootstrap_servers
    print(f"{args.events} UserSignedUp events, best of {args.rounds} rounds, broker {broker}")
    for name, seconds in best.items():
        per_cpu = args.events / best_cpu[name]
        print(f"  {name:<12} {args.events / seconds:>10,.0f} events/s  {per_cpu:>10,.0f} per CPU-s")
    ratio = best["hand loop"] / best["Publisher"]
    cpu_ratio = best_cpu["hand loop"] / best_cpu["Publisher"]
    print(f"  Publisher / hand loop = {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (target >= 0.80x)")
    result = {
        "events": args.events,
        "rounds": args.rounds,
        "events_per_s": {name: round(args.events / s) for name, s in best.items()},
        "events_per_cpu_s": {name: round(args.events / s) for name, s in best_cpu.items()},
        "publisher_vs_hand_loop": {"wall": round(ratio, 2), "cpu": round(cpu_ratio, 2)},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
