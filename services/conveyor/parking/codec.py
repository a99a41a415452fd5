"""The records of the compacted `<service>.parked` topic: one per parked key, tombstone on release.

Record key: the source topic, a NUL byte, then the source key, so compaction keeps one record per
parked key. Value: JSON with the partition and who the key is parked behind.
"""

from __future__ import annotations

import base64
import json

from conveyor.parking.keys import ParkedKey

PARKED_TOPIC_CONFIG = {"cleanup.policy": "compact"}


def record_key(topic: str, key: bytes | None) -> bytes:
    return topic.encode() + b"\x00" + (key or b"")


def split_record_key(record_key: bytes) -> tuple[str, bytes]:
    """(source topic, source key) of a parked-topic record key."""
    topic, _, key = record_key.partition(b"\x00")
    return topic.decode(), key


def encode(parked: ParkedKey) -> tuple[bytes, bytes]:
    """(key, value) of the record that parks this key."""
    value = {
        "topic": parked.topic,
        "partition": parked.partition,
        "key": base64.b64encode(parked.key).decode(),
        "behind": parked.behind,
        "parked_at_ms": parked.parked_at_ms,
    }
    return record_key(parked.topic, parked.key), json.dumps(value, sort_keys=True).encode()


def decode(value: bytes) -> ParkedKey:
    data = json.loads(value)
    return ParkedKey(
        topic=str(data["topic"]),
        partition=int(data["partition"]),
        key=base64.b64decode(data["key"]),
        behind=str(data["behind"]),
        parked_at_ms=int(data["parked_at_ms"]),
    )
