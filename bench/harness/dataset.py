"""The run's data: the same `UserSignedUp` events, in the same order, for every system.

Event ids carry the event's index in their low 32 bits, so any adapter can check per-key order
from the decoded event alone; failing events (benchmark 5) have names starting with `FAIL`.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from bench.peers.common import FAIL_PREFIX, AvroFrame, headers_for

ID_PREFIX = 0x0C0FFEE0_0000_4000_8000 << 32
EPOCH_MS = 1_790_000_000_000
SEED = 9


def make_records(count: int, keys: int, failure_ratio: float) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    records = []
    for i in range(count):
        user = i % keys
        failing = rng.random() < failure_ratio
        records.append(
            {
                "event_id": str(uuid.UUID(int=ID_PREFIX | i)),
                "occurred_at": EPOCH_MS + i,
                "user_id": f"user-{user:05d}",
                "email": f"user{user}@example.test",
                "name": f"{FAIL_PREFIX}-{i}" if failing else f"Someone {i}",
                "referral_code": f"ref-{i % 97}" if i % 2 else None,
            }
        )
    return records


def write_records(records: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    return path


def healthy_count(records: list[dict[str, Any]]) -> int:
    return sum(1 for r in records if not r["name"].startswith(FAIL_PREFIX))


def behind_failures(records: list[dict[str, Any]]) -> int:
    """Healthy events that come after a failing event of their key."""
    failed: set[str] = set()
    behind = 0
    for record in records:
        if record["name"].startswith(FAIL_PREFIX):
            failed.add(record["user_id"])
        elif record["user_id"] in failed:
            behind += 1
    return behind


def prefill(bootstrap: str, topic: str, records: list[dict[str, Any]], frame: AvroFrame) -> None:
    """Write `records` to `topic` as conveyor would (key, single-object value, headers)."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "compression.type": "lz4",
            "linger.ms": 20,
            "partitioner": "murmur2_random",
        }
    )
    for record in records:
        value, key = frame.encode(record), record["user_id"].encode()
        while True:
            try:
                producer.produce(topic, value, key, headers=headers_for(record))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(120):
        raise RuntimeError(f"could not prefill {topic}")
