"""Which keys an ordered service has parked, per source partition: a plain in-memory view.

A parked key's later events go to the dead letters behind its first failed event, so no event of
that key runs out of order. The durable copy lives in the compacted `<service>.parked` topic
(`conveyor.parking.store`); this is the view the runtime consults for every event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class ParkedKey:
    """A key parked on `topic`/`partition` behind the event `behind` (its event id), read at
    source `offset` there (None: parked by a version that did not record it).

    `releasing`: a redrive of its dead letters is under way, so its new events wait (rather than
    follow into the dead letters) until the redriven ones are done. `diverted_through`: the last
    source offset this process sent to the dead letters behind it (-1: none), so a release that
    does not cover it keeps the key parked. Neither is part of the durable record."""

    topic: str
    partition: int
    key: bytes
    behind: str
    parked_at_ms: int
    offset: int | None = None
    releasing: bool = False
    diverted_through: int = -1

    def parks(self, offset: int) -> bool:
        """Whether the key's event at source `offset` waits behind this parking. One before the
        parked event was read before it failed (a redelivery reads it again), so it runs as
        usual; without a recorded offset every event of the key is held, as the safe side."""
        return self.offset is None or offset >= self.offset


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

    def discard(self, parked: ParkedKey) -> bool:
        """Remove this entry, unless the key was parked anew meanwhile; whether it was there."""
        with self._lock:
            keys = self._by_partition.get((parked.topic, parked.partition), {})
            current = keys.get(parked.key)
            if current is None or current.parked_at_ms != parked.parked_at_ms:
                return False
            del keys[parked.key]
            return True

    def find(self, topic: str, key: bytes) -> list[ParkedKey]:
        """The entries of `key` of `topic` on any partition (tombstones name no partition)."""
        with self._lock:
            return [
                keys[key]
                for (parked_topic, _), keys in self._by_partition.items()
                if parked_topic == topic and key in keys
            ]

    def set_releasing(self, parked: ParkedKey, releasing: bool) -> None:
        self._change(parked, lambda current: replace(current, releasing=releasing))

    def note_diverted(self, parked: ParkedKey, offset: int) -> None:
        def later(current: ParkedKey) -> ParkedKey:
            return replace(current, diverted_through=max(current.diverted_through, offset))

        self._change(parked, later)

    def _change(self, parked: ParkedKey, change: Callable[[ParkedKey], ParkedKey]) -> None:
        """Change the in-memory state of an entry, if it is still the one parked."""
        with self._lock:
            keys = self._by_partition.get((parked.topic, parked.partition), {})
            current = keys.get(parked.key)
            if current is not None and current.parked_at_ms == parked.parked_at_ms:
                keys[parked.key] = change(current)

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
