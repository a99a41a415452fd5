"""Which keys an ordered service has parked, per source partition: a plain in-memory view.

A parked key's later events go to the dead letters behind its first failed event, so no event of
that key runs out of order. The durable copy lives in the compacted `<service>.parked` topic
(`conveyor.parking.store`); this is the view the runtime consults for every event.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class ParkedKey:
    """A key parked on `topic`/`partition` behind the event `behind` (its event id)."""

    topic: str
    partition: int
    key: bytes
    behind: str
    parked_at_ms: int


class ParkedKeys:
    """Parked keys of the partitions this process owns. Thread-safe: the poll thread loads and
    forgets partitions, the handler loop parks and reads, the release follower unparks."""

    def __init__(self) -> None:
        self._by_partition: dict[TopicPartition, dict[bytes, ParkedKey]] = {}
        self._lock = threading.Lock()

    def add(self, parked: ParkedKey) -> None:
        with self._lock:
            self._by_partition.setdefault((parked.topic, parked.partition), {})[parked.key] = parked

    def remove(self, topic: str, partition: int, key: bytes) -> ParkedKey | None:
        with self._lock:
            return self._by_partition.get((topic, partition), {}).pop(key, None)

    def remove_everywhere(self, topic: str, key: bytes) -> list[ParkedKey]:
        """Unpark `key` of `topic` on whichever partition holds it (releases name no partition)."""
        with self._lock:
            return [
                keys.pop(key)
                for (parked_topic, _), keys in self._by_partition.items()
                if parked_topic == topic and key in keys
            ]

    def get(self, topic: str, partition: int, key: bytes | None) -> ParkedKey | None:
        """The parked entry of this key, or None when the key flows."""
        keys = self._by_partition.get((topic, partition))
        if not keys:
            return None
        return keys.get(key or b"")

    def forget(self, partitions: list[TopicPartition]) -> None:
        """Drop revoked partitions; their new owner loads them from the topic."""
        with self._lock:
            for tp in partitions:
                self._by_partition.pop(tp, None)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(keys) for keys in self._by_partition.values())

    def all(self) -> list[ParkedKey]:
        with self._lock:
            return [parked for keys in self._by_partition.values() for parked in keys.values()]
