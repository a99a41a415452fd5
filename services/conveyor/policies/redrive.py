"""Redriven events of an ordered service, kept in per-key order with the key's parking.

`conveyor dlq redrive` writes a parked key's dead letters, in their original order, to
`<service>.redrive`; with the last one (headed `x-redrive-last`) it writes a tombstone of the
key to `<service>.parked`, in one transaction. Here:

- a redriven event runs even though its key is parked (it is the parked event, or one behind it);
  the key turns *releasing* when its first redriven event headed `x-redrive-releases` is admitted
  or the redrive's tombstone is seen, whichever comes first;
- the key's new events on its source topic wait (their partition is held) while it is releasing,
  instead of following into the dead letters, so none overtakes a redriven one;
- when the last redriven event is done, the runtime writes its own tombstone and the instance
  owning the source partition releases the key (`ParkedKeyStore.on_tombstone`), or parks it again
  when it dead-lettered later events that this redrive did not cover;
- a redriven event that fails for good parks its key again (on the source partition), and the
  key's redriven events behind it follow into the dead letters, as on the source topic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Final

from conveyor import naming
from conveyor.deadletter import FailureDetails, FailureSink
from conveyor.deadletter.writer import Written
from conveyor.ordering import Ordering
from conveyor.parking import ParkedKey, ParkedKeyStore
from conveyor.parking.errors import KeyParkedError
from conveyor.policies.forwards import confirmed, source_record
from conveyor.runtime.context import EventMeta
from conveyor.runtime.failure_seam import Forwarded
from conveyor.runtime.work import WorkItem

HOLD_RECHECK: Final = 0.2  # seconds between looks at a key whose redrive is under way


@dataclass(frozen=True)
class Origin:
    """Where a redriven event first came from (its dead letter's `x-original-*` headers)."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def of(cls, meta: EventMeta) -> Origin | None:
        topic = meta.header(naming.ORIGINAL_TOPIC)
        partition = _number(meta.header(naming.ORIGINAL_PARTITION))
        offset = _number(meta.header(naming.ORIGINAL_OFFSET))
        if topic is None or partition is None or offset is None:
            return None
        return cls(topic.decode("utf-8", "replace"), partition, offset)


class RedriveOrder:
    """The redrive topic of one ordered service, against its parked keys."""

    def __init__(
        self,
        service: str,
        parking: ParkedKeyStore,
        sink: FailureSink,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.topic = naming.redrive_topic(service)
        self._parking = parking
        self._sink = sink
        self._clock = clock

    def is_redriven(self, item: WorkItem) -> bool:
        return item.partition.topic == self.topic

    def hold(self, item: WorkItem) -> float:
        """Seconds an ordered item must wait (poll thread): a source event waits while its key
        is releasing; a redriven event marks its key releasing and never waits."""
        if item.policy.ordering is not Ordering.ORDERED:
            return 0.0
        if self.is_redriven(item):
            parked = self.parked_origin(item)
            releases = item.meta.header(naming.REDRIVE_RELEASES) is not None
            if releases and parked is not None and _runs_despite(item, parked):
                self._parking.keys.set_releasing(parked, True)
            return 0.0
        parked = self._parking.keys.get(item.partition.topic, item.partition.partition, _key(item))
        held = parked is not None and parked.releasing and parked.parks(item.offset)
        return HOLD_RECHECK if held else 0.0

    def parked_origin(self, item: WorkItem) -> ParkedKey | None:
        """The parked entry of a redriven event's key on its source partition, if any."""
        origin = Origin.of(item.meta)
        if origin is None:
            return None
        return self._parking.keys.get(origin.topic, origin.partition, _key(item))

    def divert(self, item: WorkItem) -> Forwarded | None:
        """A redriven event whose key was parked again during this redrive follows it into the
        dead letters; the redrive's last one re-asserts the parking its tombstone undid."""
        parked = self.parked_origin(item)
        if parked is None or _runs_despite(item, parked):
            return None
        now_ms = round(self._clock() * 1000)
        details = FailureDetails.from_exception(
            KeyParkedError(f"key parked behind {parked.behind}"), attempts=0, failed_at_ms=now_ms
        )
        record = source_record(item.meta, item.raw_value)
        written = [self._sink.dead_letter(record, details, parked_behind=parked.behind)]
        if _releases(item):
            again = replace(parked, releasing=False, parked_at_ms=now_ms + 1)
            written.append(self._parking.park(again))
        return confirmed(*written)

    def done(self, item: WorkItem) -> Future[Written] | None:
        """After a redriven event succeeded: when it was its key's last, the tombstone that
        releases the key (the event's offset completes once the broker has it)."""
        if not (item.policy.ordering is Ordering.ORDERED and self.is_redriven(item)):
            return None
        origin = Origin.of(item.meta)
        if origin is None or not _releases(item):
            return None
        return self._parking.redriven(origin.topic, _key(item), origin.offset)

    def park_at(self, item_meta: EventMeta) -> tuple[str, int, int]:
        """Where a failed event parks its key (topic, partition, offset): a redriven one at its
        place on its source partition."""
        origin = Origin.of(item_meta) if item_meta.topic == self.topic else None
        if origin is None:
            return item_meta.topic, item_meta.partition, item_meta.offset
        return origin.topic, origin.partition, origin.offset


def _runs_despite(item: WorkItem, parked: ParkedKey) -> bool:
    """Whether a redriven event was written after its key was parked (so it is one the parking
    waits for) rather than before (the key was parked again while this redrive ran)."""
    written_at = _number(item.meta.header(naming.RETRY_DUE_AT))
    return written_at is None or written_at >= parked.parked_at_ms


def _releases(item: WorkItem) -> bool:
    """Whether this is the last redriven event of a key the redrive releases."""
    return item.meta.header(naming.REDRIVE_LAST) is not None


def _key(item: WorkItem) -> bytes:
    """The event's key as parked (the raw bytes where the runtime kept them)."""
    return item.raw_key or b""


def _number(raw: bytes | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() else None
