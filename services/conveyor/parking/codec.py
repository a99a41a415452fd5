"""The records of the compacted `<service>.parked` topic: one per parked key, tombstone on release.

Record key: `conveyor.naming.parked_record_key` (the source topic, a NUL byte, then the source
key), so compaction keeps one record per parked key. Value: JSON with the source partition, who
the key is parked behind and the source `offset` of that event: only the key's events at or
after it are parked behind it, so a redelivery of earlier ones runs them as usual. A record
without `offset` (written by an older version) parks every event of the key: running an event
that might come after the parked one would break the key's order, while sending an already
handled one to the dead letters only costs a redrive that the idempotency store absorbs.

A redrive releases a key in two steps: `conveyor dlq redrive` writes a tombstone headed
`x-redrive-releases` (the key stays parked, releasing, while its redriven events run), and the
runtime writes a tombstone headed `x-released-through` once the key's last redriven event is done.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from conveyor import naming
from conveyor.parking.keys import ParkedKey

PARKED_TOPIC_CONFIG = {"cleanup.policy": "compact"}


def encode(parked: ParkedKey) -> tuple[bytes, bytes]:
    """(key, value) of the record that parks this key."""
    value: dict[str, object] = {
        "topic": parked.topic,
        "partition": parked.partition,
        "key": base64.b64encode(parked.key).decode(),
        "behind": parked.behind,
        "parked_at_ms": parked.parked_at_ms,
    }
    if parked.offset is not None:
        value["offset"] = parked.offset
    key = naming.parked_record_key(parked.topic, parked.key)
    return key, json.dumps(value, sort_keys=True).encode()


def decode(value: bytes) -> ParkedKey:
    data = json.loads(value)
    return ParkedKey(
        topic=str(data["topic"]),
        partition=int(data["partition"]),
        key=base64.b64decode(data["key"]),
        behind=str(data["behind"]),
        parked_at_ms=int(data["parked_at_ms"]),
        offset=int(data["offset"]) if data.get("offset") is not None else None,
    )


@dataclass(frozen=True)
class ParkedRecord:
    """One record of the parked topic as read back: a park (value) or a tombstone (None)."""

    key: bytes
    value: bytes | None
    timestamp_ms: int
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def of(cls, message: Any) -> ParkedRecord:
        _kind, timestamp = message.timestamp()
        return cls(
            key=message.key() or b"",
            value=message.value(),
            timestamp_ms=timestamp,
            headers=tuple(message.headers() or ()),
        )

    def _number(self, name: str) -> int | None:
        for header, raw in self.headers:
            if header == name and raw is not None and raw.isdigit():
                return int(raw)
        return None

    @property
    def redrive_partition(self) -> int | None:
        """On a redrive's tombstone: the source partition whose key is being redriven."""
        return self._number(naming.REDRIVE_RELEASES)

    @property
    def released_through(self) -> int | None:
        """On the runtime's release tombstone: the last source offset that was redriven."""
        return self._number(naming.RELEASED_THROUGH)


def apply(previous: ParkedKey | None, record: ParkedRecord) -> ParkedKey | None:
    """A key's state after `record`, read in log order (how a load rebuilds the parked keys).
    A redrive's tombstone leaves the key parked, releasing, until the runtime's own release."""
    if record.value is not None:
        return decode(record.value)
    partition = record.redrive_partition
    if partition is None:
        return None
    topic, key = naming.split_parked_record_key(record.key)
    return ParkedKey(
        topic=topic,
        partition=partition,
        key=key,
        behind=previous.behind if previous is not None else "redrive",
        parked_at_ms=previous.parked_at_ms if previous is not None else 0,
        offset=previous.offset if previous is not None else None,
        releasing=True,
    )


def release_headers(through: int) -> list[tuple[str, bytes]]:
    return [(naming.RELEASED_THROUGH, str(through).encode())]
