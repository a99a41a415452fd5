"""Which keys an ordered service has parked, per source partition: a plain in-memory view.

A parked key's later events go to the dead letters behind its first failed event, so no event of
that key runs out of order. The durable copy lives in the compacted `<service>.parked` topic
(`conveyor.parking.store`); this is the view the runtime consults for every event.
"""

from __future__ import annotations

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
    """Parked keys of the partitions this process owns."""

    def __init__(self) -> None:
        self._by_partition: dict[TopicPartition, dict[bytes, ParkedKey]] = {}

    def add(self, parked: ParkedKey) -> None:
        self._by_partition.setdefault((parked.topic, parked.partition), {})[parked.key] = parked

    def remove(self, topic: str, partition: int, key: bytes) -> ParkedKey | None:
        return self._by_partition.get((topic, partition), {}).pop(key, None)

    def get(self, topic: str, partition: int, key: bytes | None) -> ParkedKey | None:
        """The parked entry of this key, or None when the key flows."""
        keys = self._by_partition.get((topic, partition))
        if not keys:
            return None
        return keys.get(key or b"")

    def forget(self, partitions: list[TopicPartition]) -> None:
        """Drop revoked partitions; their new owner loads them from the topic."""
        for tp in partitions:
            self._by_partition.pop(tp, None)

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._by_partition.values())

    def all(self) -> list[ParkedKey]:
        return [parked for keys in self._by_partition.values() for parked in keys.values()]
